// The keep-alive platform (platform kind "keepalive"), AWS Lambda style, as SimFaaS models
// it: one instance per concurrent request. An arriving request takes the most recently
// idled instance (warm), or starts a new instance (cold: cold-start delay, then its
// service time) when none is idle, or is rejected (429) when max_concurrency instances
// exist. An instance idle for its keep-alive time is removed. docs/model.md, "Platform
// keepalive", is the contract.
//
// Platform keys: expiration_s (fixed keep-alive, default 600), max_concurrency (0 =
// unlimited). An optional "autoscaler" names a keep-alive policy (keepalive_policy.hpp),
// which may pre-warm instances. The function's service demand runs at min(1, cpu_limit_cores) cores (one
// core without a limit); timeout_s applies from arrival.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <queue>
#include <utility>
#include <vector>

#include "sim/keepalive_policy.hpp"
#include "sim/random.hpp"
#include "sim/recorder.hpp"
#include "sim/simulation.hpp"
#include "sim/trace.hpp"

namespace faascale {

class KeepAliveSimulator final : public Simulation {
 public:
  // `policy` null: the scenario's (its "autoscaler", else a fixed keep-alive of
  // platform.expiration_s).
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
  // cold_start_probability, instances_mean, instances_running_mean, instances_idle_mean,
  // prewarms.
  void add_metrics(nlohmann::json& metrics) const override;

  std::int64_t instances() const { return alive_; }

 private:
  struct Instance {
    bool alive = false, busy = false, serving = false;
    std::uint32_t generation = 0;        // changes whenever a request or an idle spell ends
    std::int32_t idle_prev = -1, idle_next = -1;
    double arrival_s = 0, dispatched_s = 0, done_s = 0;
    bool cold = false, times_out = false;
    double keep_after_warm_s = 0;        // a pre-warming instance's keep-alive once ready
  };
  // ready: a cold start ends; done: a request ends; expire: an idle spell ends; prewarm:
  // a pre-warm load starts (instance = its keep-alive slot in prewarm_keep_); warm: a
  // pre-warmed instance is ready and idle.
  enum class Kind : std::uint8_t { ready, done, expire, prewarm, warm };
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
  std::uint32_t allocate_instance();
  void go_idle(std::uint32_t instance, double keep_alive_s);
  void start_request(std::uint32_t instance, double service_s, double cold_s, bool cold);
  void idle_push(std::uint32_t instance);
  void idle_remove(std::uint32_t instance);

  Scenario scenario_;
  FunctionSpec function_;
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
  std::int64_t alive_ = 0, busy_ = 0, serving_ = 0, cold_requests_ = 0, prewarms_ = 0, events_processed_ = 0;
  double last_busy_end_s_ = std::numeric_limits<double>::quiet_NaN();  // when busy_ last fell to 0
  std::vector<std::pair<double, double>> prewarms_pending_;  // each pending pre-warm's keep-alive and cold start
  std::vector<std::uint32_t> prewarm_free_;

};

}  // namespace faascale
