// The discrete-event simulator of an OpenFaaS function (platform kind "openfaas").
//
// Pods with a per-pod concurrency limit (max_inflight) and a CPU limit shared by their
// in-flight requests (processor sharing), cold starts, a gateway FIFO queue or direct
// routing, timeouts, and per-window metrics identical in definition to the live cluster's
// Prometheus queries. docs/model.md is the contract this file implements.
//
// Use: construct from a Scenario; either give a Policy (called at its own period) or
// drive replicas from outside with set_desired_replicas() between run_until() calls (the
// RL environment does this); windows are handed to the sink as they close.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <vector>

#include "sim/event_heap.hpp"
#include "sim/metrics.hpp"
#include "sim/policy.hpp"
#include "sim/random.hpp"
#include "sim/recorder.hpp"
#include "sim/scenario.hpp"
#include "sim/simulation.hpp"
#include "sim/trace.hpp"

namespace faascale {

class OpenFaasSimulator final : public Simulation {
 public:
  using WindowSink = MetricsRecorder::WindowSink;

  // `policy` may be null (then replicas change only through set_desired_replicas()).
  OpenFaasSimulator(const Scenario& scenario, std::unique_ptr<Policy> policy, WindowSink sink = {});

  // Processes every event before time t, and the close of a window ending exactly at t.
  void run_until(double t) override;
  // Runs to the scenario's duration and closes the last window there, even if it is
  // shorter than the control interval (its end_s says so).
  void run() override;

  // Calls `hook` every kProgressEvents events (for progress reports, and to stop a run by
  // throwing from it).
  static constexpr std::int64_t kProgressEvents = 1 << 16;
  void set_progress_hook(std::function<void()> hook) override { progress_hook_ = std::move(hook); }

  void set_desired_replicas(std::int64_t replicas);
  double now() const override { return now_; }
  PlatformView view() const;
  // Totals over the run so far.
  RunTotals totals() const override;
  // Client latency of every successful request so far.
  const QuantileSketch& ok_latency() const override { return recorder_.ok_latency(); }
  // The last closed window, or null before the first closes.
  const WindowMetrics* last_window() const { return recorder_.last(); }
  std::int64_t in_flight() const { return in_flight_; }
  std::int64_t queued() const { return static_cast<std::int64_t>(queue_.size()); }
  const Scenario& scenario() const override { return scenario_; }
  std::int64_t in_system() const override { return in_flight() + queued(); }

 private:
  enum class PodState : std::uint8_t { free, starting, ready, draining };
  struct Request {
    double arrival_s;
    double demand;  // CPU-seconds
  };
  struct Running {
    double finish_v;  // the pod's virtual time at which this request has had its demand
    double deadline_s;
    double arrival_s;
    double dispatched_s;
    bool cold_affected;
  };
  struct Pod {
    PodState state = PodState::free;
    std::uint64_t uid = 0;             // unique over the run (slots are reused)
    double created_s = 0, ready_s = 0;
    double cpu_core_seconds = 0;       // CPU used since creation, up to virtual_at_s
    std::int64_t requests = 0;         // requests routed to this pod (429s from it included)
    double virtual_time = 0;  // service each in-flight request has received since v_origin
    double virtual_at_s = 0;  // when virtual_time was last brought up to date
    std::vector<Running> running;
    std::uint32_t ready_position = 0;  // index in ready_
    std::int32_t load_prev = -1, load_next = -1;  // neighbours in load_head_[running.size()]'s list
    std::uint32_t next_slot = 0;       // the slot whose event is scheduled
    bool next_is_timeout = false;
    bool touched = false;              // in touched_
  };

  // Event entities: fixed ones first, then one per pod slot. The arrival stream is not in
  // the heap (see run_until()) but keeps a number for dispatching.
  static constexpr std::uint32_t kWindowEntity = 0, kPolicyEntity = 1, kQueueEntity = 2, kArrivalEntity = 3,
                                 kFirstPodEntity = 4;

  void advance_clock(double t);
  void on_window_close();
  void close_window();
  void on_policy_tick();
  void on_arrival();
  void on_queue_timeout();
  void on_pod_event(std::uint32_t pod);

  void admit(const Request& request);
  void drain_queue();
  void dispatch(std::uint32_t pod, const Request& request);
  void finish(Outcome outcome, double arrival_s, double dispatched_s, bool cold_affected);

  double rate(std::size_t running) const;
  double cores_used(std::size_t running) const;
  void bring_up_to_date(Pod& pod);
  // A pod whose requests or state changed is touched; after each event, every touched pod
  // has its next event recomputed once.
  void touch(std::uint32_t pod);
  void reschedule_touched_pods();
  void reschedule(std::uint32_t pod);
  void schedule_queue_timeout();
  void set_load(std::uint32_t pod, std::size_t before, std::size_t after);
  void add_ready(std::uint32_t pod);
  void remove_ready(std::uint32_t pod);
  std::int64_t least_loaded_free_pod();
  std::uint32_t route();
  void create_pod(double ready_s);
  void retire_pod(std::uint32_t pod);
  void release_pod(std::uint32_t pod);
  void apply_desired();

  Scenario scenario_;
  FunctionSpec function_;
  std::unique_ptr<Policy> policy_;
  std::function<void()> progress_hook_;
  std::unique_ptr<ArrivalSource> arrivals_;
  Rng demand_rng_, cold_start_rng_, routing_rng_;
  EventHeap events_;
  double now_ = 0;
  double next_arrival_s_ = 0;
  double next_duration_s_ = 0;  // the trace's duration for that arrival, or NaN

  std::vector<Pod> pods_;
  std::vector<std::uint32_t> free_pods_;           // reusable Pod slots
  std::vector<std::uint32_t> touched_;
  std::vector<std::uint32_t> ready_;               // pods taking requests
  // Ready pods by number in flight: one intrusive list per count (newest first), so moving
  // a pod between counts is O(1) and the least-loaded pod is the head of the lowest
  // non-empty list.
  std::vector<std::int32_t> load_head_;
  std::size_t lowest_load_hint_ = 0;
  void link_load(std::uint32_t pod, std::size_t load);
  void unlink_load(std::uint32_t pod, std::size_t load);
  std::uint64_t round_robin_ = 0;
  std::deque<Request> queue_;                      // gateway queue, or held until a pod is ready
  std::int64_t desired_ = 0, starting_ = 0, draining_ = 0, alive_ = 0, in_flight_ = 0;
  std::uint64_t next_pod_uid_ = 1;
  mutable std::vector<PodView> pod_views_;         // view()'s pod list, reused
  double cores_in_use_ = 0;

  MetricsRecorder recorder_;
  std::int64_t events_processed_ = 0;
};

}  // namespace faascale
