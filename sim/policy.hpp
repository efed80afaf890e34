// The autoscaling policy interface, shared by classic autoscalers and RL agents.
//
// A policy is asked for a desired replica count every period_s() seconds of simulated (or
// live) time, with a view of the platform at that instant and of the last complete metrics
// window. The platform clamps the answer to [min_replicas, max_replicas].
//
// Scenario key "autoscaler": {"kind": K, ...K's parameters}. Kinds: "static" (replicas).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace faascale {

struct WindowMetrics;

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
};

class Policy {
 public:
  virtual ~Policy() = default;
  virtual std::string_view kind() const = 0;
  // Seconds between decisions (the autoscaler's native period).
  virtual double period_s() const = 0;
  virtual std::int64_t decide(const PlatformView& view) = 0;
};

// Builds the policy a scenario's "autoscaler" object names; `file` is for messages.
// Throws InputError with the JSON path on bad parameters.
std::unique_ptr<Policy> make_policy(const nlohmann::json& spec, const std::string& file, nlohmann::json& resolved);

}  // namespace faascale
