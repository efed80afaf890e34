// Implementation of keepalive_simulator.hpp.
#include "sim/keepalive_simulator.hpp"

#include "sim/slots.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace faascale {
namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInfinity = std::numeric_limits<double>::infinity();

std::unique_ptr<KeepAlivePolicy> scenario_policy(const Scenario& scenario) {
  nlohmann::json unused;
  return make_keepalive_policy(scenario.autoscaler, scenario.platform.expiration_s, scenario.file, unused);
}

}  // namespace

KeepAliveSimulator::KeepAliveSimulator(const Scenario& scenario, std::unique_ptr<KeepAlivePolicy> policy,
                                       MetricsRecorder::WindowSink sink)
    : scenario_(scenario),
      function_(scenario.function),
      max_concurrency_(scenario.platform.max_concurrency),
      lone_rate_(function_.lone_rate()),
      policy_(policy ? std::move(policy) : scenario_policy(scenario)),
      arrivals_(make_arrival_source(scenario.trace, scenario.seed)),
      demand_rng_(scenario.seed, Stream::demands),
      cold_start_rng_(scenario.seed, Stream::cold_starts),
      recorder_(scenario.control_interval_s, function_.cpu_request_cores, function_.memory_request_mib,
                std::move(sink)) {
  next_arrival_s_ = arrivals_->next();
  next_duration_s_ = arrivals_->duration_s();
}

void KeepAliveSimulator::run() {
  run_until(scenario_.duration_s);
  if (now_ > recorder_.window().start_s) close_window();
}

void KeepAliveSimulator::run_until(double t) {
  while (true) {
    // Simultaneous events: the window closes first, then instances (ready, done,
    // expire), then the arrival, so an arrival can take an instance idled at that instant.
    const double window_end = recorder_.window().end_s;
    const double event_time = events_.empty() ? kInfinity : events_.top().time;
    if (window_end <= t && window_end <= event_time && window_end <= next_arrival_s_) {
      advance_clock(window_end);
      close_window();
      continue;
    }
    const bool arrival = next_arrival_s_ < event_time;
    const double when = arrival ? next_arrival_s_ : event_time;
    if (!(when < t)) break;
    advance_clock(when);
    if ((++events_processed_ & ((1 << 16) - 1)) == 0 && progress_hook_) progress_hook_();
    if (arrival) {
      on_arrival();
    } else {
      const Event e = events_.top();
      events_.pop();
      // A pre-warm belongs to no instance yet; other events may have been superseded.
      if (e.kind == Kind::prewarm || e.generation == instances_[e.instance].generation) on_event(e);
    }
  }
  if (t > now_ && std::isfinite(t)) advance_clock(t);
}

void KeepAliveSimulator::advance_clock(double t) {
  const double dt = t - now_;
  if (dt <= 0) return;
  WindowMetrics& w = recorder_.window();
  w.cpu_core_seconds += static_cast<double>(serving_) * lone_rate_ * dt;
  w.memory_mib_seconds += (static_cast<double>(alive_) * function_.memory_idle_mib +
                           static_cast<double>(busy_) * function_.memory_per_request_mib) * dt;
  w.replica_seconds += static_cast<double>(alive_) * dt;
  w.ready_pod_seconds += static_cast<double>(alive_) * dt;
  w.in_system_seconds += static_cast<double>(busy_) * dt;
  now_ = t;
}

void KeepAliveSimulator::close_window() { recorder_.close(now_, {alive_, alive_, alive_, 0, busy_}); }

RunTotals KeepAliveSimulator::totals() const {
  RunTotals t = recorder_.totals();
  t.events = events_processed_;
  return t;
}

void KeepAliveSimulator::push(Kind kind, double time, std::uint32_t instance) {
  const std::uint64_t order = (static_cast<std::uint64_t>(kind) << 32) | instance;
  const std::uint32_t generation = kind == Kind::prewarm ? 0 : instances_[instance].generation;
  events_.push(Event{time, order, instance, generation, kind});
}

std::uint32_t KeepAliveSimulator::allocate_instance() {
  const std::uint32_t i = take_slot(instances_, free_);
  instances_[i].alive = true;
  ++alive_;
  ++recorder_.window().cold_starts;
  return i;
}

void KeepAliveSimulator::go_idle(std::uint32_t i, double keep_alive_s) {
  idle_push(i);
  push(Kind::expire, now_ + keep_alive_s, i);
}

void KeepAliveSimulator::on_arrival() {
  ++recorder_.window().arrivals;
  policy_->on_arrival(now_, busy_ == 0 ? now_ - last_busy_end_s_ : kNaN);
  const double service_s = function_.demand(next_duration_s_, demand_rng_) / lone_rate_;
  next_arrival_s_ = arrivals_->next();
  next_duration_s_ = arrivals_->duration_s();

  if (idle_tail_ >= 0) {  // warm: the most recently idled instance
    const auto i = static_cast<std::uint32_t>(idle_tail_);
    idle_remove(i);
    start_request(i, service_s, 0.0, false);
    return;
  }
  if (max_concurrency_ > 0 && alive_ >= max_concurrency_) {
    recorder_.finish(Outcome::rejected, now_, now_, kNaN, false);
    return;
  }
  const std::uint32_t i = allocate_instance();
  ++cold_requests_;
  start_request(i, service_s, function_.cold_start.sample(cold_start_rng_), true);
}

void KeepAliveSimulator::start_request(std::uint32_t i, double service_s, double cold_s, bool cold) {
  Instance& in = instances_[i];
  ++in.generation;  // supersedes the idle spell's expiration
  in.busy = true;
  in.arrival_s = now_;
  in.dispatched_s = now_ + cold_s;
  in.cold = cold;
  const double finish = now_ + cold_s + service_s;
  const double deadline = now_ + function_.timeout_s;
  in.times_out = deadline < finish;  // a request finishing exactly at its deadline succeeds
  in.done_s = std::min(finish, deadline);
  ++busy_;
  in.serving = false;
  if (cold_s > 0 && in.dispatched_s < in.done_s) {
    push(Kind::ready, in.dispatched_s, i);
  } else if (cold_s <= 0) {
    in.serving = true;
    ++serving_;
  }
  push(Kind::done, in.done_s, i);
}

void KeepAliveSimulator::on_event(const Event& e) {
  Instance& in = instances_[e.instance];
  switch (e.kind) {
    case Kind::ready:
      in.serving = true;
      ++serving_;
      return;
    case Kind::done: {
      const bool reached = in.dispatched_s <= now_;
      recorder_.finish(in.times_out ? Outcome::timed_out : Outcome::ok, now_, in.arrival_s,
                       reached ? in.dispatched_s : kNaN, in.cold);
      if (in.serving) --serving_;
      in.serving = false;
      in.busy = false;
      if (--busy_ == 0) last_busy_end_s_ = now_;
      ++in.generation;
      if (!reached) {
        // Timed out during its cold start: the instance finishes loading first, and then
        // idles (the policy decides its keep-alive at that moment).
        in.keep_after_warm_s = kNaN;
        push(Kind::warm, in.dispatched_s, e.instance);
        return;
      }
      const KeepAlivePolicy::Decision d = policy_->on_idle(now_);
      if (d.prewarm_after_s <= 0) {
        go_idle(e.instance, d.keep_alive_s);
        return;
      }
      // Unload now; load a fresh instance so that it is ready prewarm_after_s from now.
      in.alive = false;
      --alive_;
      free_.push_back(e.instance);
      const double cold = function_.cold_start.sample(cold_start_rng_);
      const std::uint32_t slot = take_slot(prewarms_pending_, prewarm_free_);
      prewarms_pending_[slot] = {d.keep_alive_s, cold};
      push(Kind::prewarm, std::max(now_, now_ + d.prewarm_after_s - cold), slot);
      return;
    }
    case Kind::expire:
      idle_remove(e.instance);
      in.alive = false;
      ++in.generation;
      --alive_;
      free_.push_back(e.instance);
      return;
    case Kind::prewarm: {
      const auto [keep, cold] = prewarms_pending_[e.instance];
      prewarm_free_.push_back(e.instance);
      if (max_concurrency_ > 0 && alive_ >= max_concurrency_) return;  // no room: skipped
      const std::uint32_t i = allocate_instance();
      ++prewarms_;
      ++instances_[i].generation;
      instances_[i].keep_after_warm_s = keep;
      push(Kind::warm, now_ + cold, i);
      return;
    }
    case Kind::warm:
      go_idle(e.instance, std::isnan(in.keep_after_warm_s) ? policy_->on_idle(now_).keep_alive_s : in.keep_after_warm_s);
      return;
  }
}

void KeepAliveSimulator::idle_push(std::uint32_t i) {
  Instance& in = instances_[i];
  in.idle_prev = idle_tail_;
  in.idle_next = -1;
  if (idle_tail_ >= 0) {
    instances_[static_cast<std::size_t>(idle_tail_)].idle_next = static_cast<std::int32_t>(i);
  } else {
    idle_head_ = static_cast<std::int32_t>(i);
  }
  idle_tail_ = static_cast<std::int32_t>(i);
}

void KeepAliveSimulator::idle_remove(std::uint32_t i) {
  Instance& in = instances_[i];
  if (in.idle_prev >= 0) {
    instances_[static_cast<std::size_t>(in.idle_prev)].idle_next = in.idle_next;
  } else {
    idle_head_ = in.idle_next;
  }
  if (in.idle_next >= 0) {
    instances_[static_cast<std::size_t>(in.idle_next)].idle_prev = in.idle_prev;
  } else {
    idle_tail_ = in.idle_prev;
  }
  in.idle_prev = in.idle_next = -1;
}

void KeepAliveSimulator::add_metrics(nlohmann::json& m) const {
  const RunTotals t = totals();
  const double served = static_cast<double>(t.arrivals - t.rejected);
  m["cold_start_probability"] = served > 0 ? static_cast<double>(cold_requests_) / served : kNaN;
  m["instances_mean"] = t.replica_seconds / now_;
  m["instances_running_mean"] = t.in_system_seconds / now_;
  m["instances_idle_mean"] = (t.replica_seconds - t.in_system_seconds) / now_;
  m["prewarms"] = prewarms_;
}

}  // namespace faascale
