// The autoscaling policy interface, shared by classic autoscalers and RL agents.
//
// A policy is asked for a desired replica count every period_s() seconds of simulated (or
// live) time, with a view of the platform at that instant and of the last complete metrics
// window. The platform clamps the answer to [min_replicas, max_replicas].
//
// Scenario key "autoscaler": {"kind": K, ...K's parameters}. Kinds and their upstream
// behaviour: sim/policies/*.cpp, docs/autoscalers.md.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace faascale {

struct WindowMetrics;
class JsonReader;

// One pod as an autoscaler sees it (what the Kubernetes API and metrics-server report).
struct PodView {
  enum class Phase { starting, ready, draining };
  std::uint64_t id = 0;           // unique over the run
  Phase phase = Phase::starting;
  double created_s = 0;
  double ready_s = 0;             // when it became (or will become) ready
  std::int64_t in_flight = 0;
  double cpu_core_seconds = 0;    // CPU used since creation (cumulative, like cAdvisor's counter)
  std::int64_t requests = 0;      // requests routed to it since creation (cumulative)
};

struct PlatformView {
  double now_s = 0;
  std::int64_t ready = 0;      // pods that take requests
  std::int64_t starting = 0;   // pods in their cold start
  std::int64_t draining = 0;   // removed pods finishing their in-flight requests
  std::int64_t desired = 0;    // the current target
  std::int64_t queued = 0;     // requests waiting at the gateway
  std::int64_t in_flight = 0;  // requests executing in pods
  std::int64_t min_replicas = 0, max_replicas = 0;
  const WindowMetrics* last_window = nullptr;  // null before the first window closes
  // Cumulative counters since time 0, which a policy differences over its own windows,
  // as a Prometheus rate() does over counters.
  std::int64_t arrivals_total = 0;
  std::int64_t ok_total = 0;               // gateway_function_invocation_total{code="200"}
  std::int64_t requests_total = 0;         // ... summed over codes
  double in_system_seconds_total = 0;      // integral of queued + in-flight requests
  double cpu_core_seconds_total = 0;
  // Alive pods, in no particular order (valid until the simulation moves on).
  const PodView* pods = nullptr;
  std::size_t pod_count = 0;
};

class Policy {
 public:
  virtual ~Policy() = default;
  virtual std::string_view kind() const = 0;
  // Seconds between decisions (the autoscaler's native period).
  virtual double period_s() const = 0;
  virtual std::int64_t decide(const PlatformView& view) = 0;
};

// What a policy may know of the scenario besides its own parameters.
struct PolicyContext {
  std::int64_t min_replicas = 1, max_replicas = 24;
  std::int64_t max_inflight = 1;       // per pod (Knative's containerConcurrency)
  double cpu_request_cores = 0.1;
  double control_interval_s = 30;      // length of a metrics window
};

// Builds the policy a scenario's "autoscaler" object names, filling `resolved` with every
// parameter (defaults included); `file` is for messages. Throws InputError with the JSON
// path on bad parameters.
// Further kinds, registered by libraries that sim/ cannot depend on (rl/ registers "agent"
// for trained RL agents). A factory reads its parameters from `reader` (already past
// "kind"); make_policy() calls finish() on it afterwards.
using PolicyFactory = std::function<std::unique_ptr<Policy>(JsonReader& reader, const PolicyContext& context)>;
void register_policy_kind(const std::string& kind, PolicyFactory factory);

std::unique_ptr<Policy> make_policy(const nlohmann::json& spec, const PolicyContext& context, const std::string& file,
                                    nlohmann::json& resolved);

}  // namespace faascale
