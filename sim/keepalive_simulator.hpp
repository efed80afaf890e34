// The keep-alive platform (platform kind "keepalive"), AWS Lambda style, as SimFaaS models
// it: one instance per concurrent request. An arriving request takes the most recently
// idled instance (warm), or starts a new instance (cold: cold-start delay, then its
// service time) when none is idle, or is rejected (429) when max_concurrency instances
// exist. An instance idle for its keep-alive time is removed. docs/model.md, "Platform
// keepalive", is the contract.
//
// Platform keys: expiration_s (fixed keep-alive, default 600), max_concurrency (0 =
// unlimited). The function's service demand runs at min(1, cpu_limit_cores) cores (one
// core without a limit); timeout_s applies from arrival.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <queue>
#include <vector>

#include "sim/random.hpp"
#include "sim/recorder.hpp"
#include "sim/simulation.hpp"
#include "sim/trace.hpp"

namespace faascale {

// The hook keep-alive and pre-warming policies plug into: it sees every arrival and
// decides how long each instance that just became idle stays loaded.
class KeepAlivePolicy {
 public:
  virtual ~KeepAlivePolicy() = default;
  virtual void on_arrival(double now_s) { (void)now_s; }
  virtual double keep_alive_s(double now_s) = 0;
};

// The fixed keep-alive of AWS (10 min) or Azure (20 min): platform.expiration_s.
class FixedKeepAlive final : public KeepAlivePolicy {
 public:
  explicit FixedKeepAlive(double seconds) : seconds_(seconds) {}
  double keep_alive_s(double) override { return seconds_; }

 private:
  double seconds_;
};

class KeepAliveSimulator final : public Simulation {
 public:
  KeepAliveSimulator(const Scenario& scenario, std::unique_ptr<KeepAlivePolicy> policy,
                     MetricsRecorder::WindowSink sink = {});

  void run_until(double t) override;
  void run() override;
  double now() const override { return now_; }
  RunTotals totals() const override;
  const QuantileSketch& ok_latency() const override { return recorder_.ok_latency(); }
  std::int64_t in_system() const override { return busy_; }
  const Scenario& scenario() const override { return scenario_; }
  void set_progress_hook(std::function<void()> hook) override { progress_hook_ = std::move(hook); }
  // cold_start_probability, instances_mean, instances_running_mean, instances_idle_mean.
  void add_metrics(nlohmann::json& metrics) const override;

  std::int64_t instances() const { return alive_; }

 private:
  struct Instance {
    bool alive = false, busy = false, serving = false;
    std::uint32_t generation = 0;        // changes whenever a request or an idle spell ends
    std::int32_t idle_prev = -1, idle_next = -1;
    double arrival_s = 0, dispatched_s = 0, done_s = 0;
    bool cold = false, times_out = false;
  };
  enum class Kind : std::uint8_t { ready, done, expire };
  struct Event {
    double time;
    std::uint64_t order;  // tie-break: kind, then instance
    std::uint32_t instance, generation;
    Kind kind;
    bool operator>(const Event& o) const { return time != o.time ? time > o.time : order > o.order; }
  };

  void advance_clock(double t);
  void close_window();
  void on_arrival();
  void on_event(const Event& e);
  void push(Kind kind, double time, std::uint32_t instance);
  void start_request(std::uint32_t instance, double service_s, double cold_s, bool cold);
  void idle_push(std::uint32_t instance);
  void idle_remove(std::uint32_t instance);

  Scenario scenario_;
  FunctionSpec function_;
  double expiration_s_;
  std::int64_t max_concurrency_;
  double lone_rate_;  // cores one request gets alone: min(1, limit)
  std::unique_ptr<KeepAlivePolicy> policy_;
  std::unique_ptr<ArrivalSource> arrivals_;
  Rng demand_rng_, cold_start_rng_;
  std::function<void()> progress_hook_;
  MetricsRecorder recorder_;

  double now_ = 0;
  double next_arrival_s_ = 0, next_duration_s_ = 0;
  std::priority_queue<Event, std::vector<Event>, std::greater<>> events_;
  std::vector<Instance> instances_;
  std::vector<std::uint32_t> free_;
  std::int32_t idle_head_ = -1, idle_tail_ = -1;  // oldest ... most recently idled
  std::int64_t alive_ = 0, busy_ = 0, serving_ = 0, cold_requests_ = 0, events_processed_ = 0;
};

}  // namespace faascale
