// A scenario: everything one simulation run needs, read strictly from JSON
// (docs/scenarios.md documents every key, its default and its range).
//
// Top-level keys: name, seed, duration_s, control_interval_s, trace (trace.hpp),
// function, platform, autoscaler (policy.hpp). Unknown keys are errors.
#pragma once

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "sim/distribution.hpp"
#include "sim/policy.hpp"
#include "sim/trace.hpp"

namespace faascale {

struct FunctionSpec {
  Distribution service = Distribution::deterministic(1.0);     // CPU-seconds per request
  Distribution cold_start = Distribution::deterministic(0.0);  // seconds from pod creation to ready
  std::int64_t max_inflight = 1;     // of-watchdog max_inflight: concurrent requests per pod
  double timeout_s = 30.0;           // from arrival; the request then fails with 504
  double cpu_request_cores = 0.1;    // Kubernetes CPU request: the unit of avg_cpu
  double cpu_limit_cores = 0.0;      // CPU limit shared by a pod's requests; 0 = no limit
  double memory_request_mib = 256;   // Kubernetes memory request: the unit of avg_mem
  double memory_idle_mib = 0;        // a ready pod's memory with nothing in flight
  double memory_per_request_mib = 0; // added per in-flight request

  // Cores one request gets running alone in a pod: min(1, limit), or 1 without a limit.
  double lone_rate() const { return cpu_limit_cores > 0 && cpu_limit_cores < 1 ? cpu_limit_cores : 1.0; }
  // A request's demand in CPU-seconds: from the trace's duration when it has one (the
  // time the request took alone), else drawn from `service` (whose values are converted
  // the same way when they are durations).
  double demand(double traced_duration_s, Rng& rng) const {
    if (!std::isnan(traced_duration_s)) return traced_duration_s * lone_rate();
    const double value = service.sample(rng);
    return service.wall_time() ? value * lone_rate() : value;
  }
};

enum class Routing { random, round_robin, least_loaded };

struct PlatformSpec {
  std::string kind = "openfaas";     // "openfaas" | "keepalive"
  std::int64_t min_replicas = 1, max_replicas = 24, initial_replicas = 1;
  std::int64_t queue_capacity = 0;   // > 0: gateway FIFO queue; 0: route straight to a pod
  Routing routing = Routing::random; // with queue_capacity 0
  double expiration_s = 600;         // keepalive: fixed keep-alive of an idle instance
  std::int64_t max_concurrency = 0;  // keepalive: most instances at once; 0 = unlimited
};

struct Scenario {
  std::string name;
  std::string file;                 // where it was read from (for messages)
  std::uint64_t seed = 0;
  double duration_s = 0;            // simulated seconds
  double control_interval_s = 30;   // length of a metrics window
  TraceSpec trace;
  FunctionSpec function;
  PlatformSpec platform;
  nlohmann::json autoscaler;        // validated by make_policy(); kept raw here (null: none)
  nlohmann::json resolved;          // the scenario with every default made explicit

  PolicyContext policy_context() const {
    return {platform.min_replicas, platform.max_replicas, function.max_inflight, function.cpu_request_cores,
            control_interval_s};
  }

  // A fresh instance of the scenario's autoscaler (already validated by from_json()), or
  // null when the scenario has none.
  std::unique_ptr<Policy> make_autoscaler() const;

  // Reads and validates `doc` (which came from `file`). Throws InputError.
  static Scenario from_json(const nlohmann::json& doc, const std::string& file);
};

}  // namespace faascale
