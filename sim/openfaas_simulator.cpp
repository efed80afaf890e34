// Implementation of simulator.hpp; docs/model.md states the semantics in prose.
#include "sim/openfaas_simulator.hpp"

#include "sim/slots.hpp"

#include <algorithm>
#include <cmath>

namespace faascale {
namespace {

constexpr double kNever = EventHeap::kNever;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Priority classes for simultaneous events (lower first): a window closes before anything
// else at its boundary, the autoscaler acts next, then pods free their slots, then queued
// requests time out, and arrivals come last so they can use what was just freed.
enum : std::uint32_t { kWindowFirst = 0, kPolicySecond = 1, kPodsThird = 2, kQueueFourth = 3 };  // arrivals: run_until()

}  // namespace

OpenFaasSimulator::OpenFaasSimulator(const Scenario& scenario, std::unique_ptr<Policy> policy, WindowSink sink)
    : scenario_(scenario),
      function_(scenario.function),
      policy_(std::move(policy)),
      arrivals_(make_arrival_source(scenario.trace, scenario.seed)),
      demand_rng_(scenario.seed, Stream::demands),
      cold_start_rng_(scenario.seed, Stream::cold_starts),
      routing_rng_(scenario.seed, Stream::routing),
      load_head_(static_cast<std::size_t>(function_.max_inflight) + 1, -1),
      recorder_(scenario.control_interval_s, function_.cpu_request_cores, function_.memory_request_mib,
                std::move(sink)) {
  events_.resize(kFirstPodEntity);
  events_.set_priority(kWindowEntity, kWindowFirst);
  events_.set_priority(kPolicyEntity, kPolicySecond);
  events_.set_priority(kQueueEntity, kQueueFourth);

  events_.schedule(kWindowEntity, recorder_.window().end_s);

  desired_ = scenario_.platform.initial_replicas;
  for (std::int64_t i = 0; i < desired_; ++i) create_pod(0.0);  // initial pods are warm
  for (std::uint32_t p = 0; p < pods_.size(); ++p) on_pod_event(p);

  if (policy_) events_.schedule(kPolicyEntity, 0.0);
  next_arrival_s_ = arrivals_->next();
  next_duration_s_ = arrivals_->duration_s();
  reschedule_touched_pods();
}

void OpenFaasSimulator::run_until(double t) {
  while (true) {
    // The next arrival is kept out of the heap (it changes with every request); it comes
    // last among simultaneous events, so it goes first only when strictly earlier.
    const bool arrival_next = next_arrival_s_ < events_.top_time();
    const double when = arrival_next ? next_arrival_s_ : events_.top_time();
    if (!std::isfinite(when)) break;
    const std::uint32_t entity = arrival_next ? kArrivalEntity : events_.top();
    if (!(when < t || (when == t && entity == kWindowEntity))) break;
    advance_clock(when);
    if ((++events_processed_ & (kProgressEvents - 1)) == 0 && progress_hook_) progress_hook_();
    switch (entity) {
      case kWindowEntity: on_window_close(); break;
      case kPolicyEntity: on_policy_tick(); break;
      case kQueueEntity: on_queue_timeout(); break;
      case kArrivalEntity: on_arrival(); break;
      default: on_pod_event(entity - kFirstPodEntity);
    }
    reschedule_touched_pods();
  }
  if (t > now_ && std::isfinite(t)) advance_clock(t);
}

void OpenFaasSimulator::run() {
  run_until(scenario_.duration_s);
  if (now_ > recorder_.window().start_s) close_window();  // a last, shorter window
}

void OpenFaasSimulator::advance_clock(double t) {
  const double dt = t - now_;
  if (dt > 0) {
    WindowMetrics& w = recorder_.window();
    w.cpu_core_seconds += cores_in_use_ * dt;
    const auto serving = static_cast<double>(ready_.size()) + static_cast<double>(draining_);
    w.memory_mib_seconds +=
        (serving * function_.memory_idle_mib + static_cast<double>(in_flight_) * function_.memory_per_request_mib) * dt;
    w.replica_seconds += static_cast<double>(alive_) * dt;
    w.ready_pod_seconds += static_cast<double>(ready_.size()) * dt;
    w.in_system_seconds += static_cast<double>(in_flight_ + static_cast<std::int64_t>(queue_.size())) * dt;
    now_ = t;
  }
}

RunTotals OpenFaasSimulator::totals() const {
  RunTotals t = recorder_.totals();
  t.events = events_processed_;
  return t;
}

// ---- events ---------------------------------------------------------------------------

void OpenFaasSimulator::on_window_close() {
  close_window();
  events_.schedule(kWindowEntity, recorder_.window().end_s);
}

void OpenFaasSimulator::close_window() {
  recorder_.close(now_, {static_cast<std::int64_t>(ready_.size()), desired_, alive_,
                         static_cast<std::int64_t>(queue_.size()), in_flight_});
}

void OpenFaasSimulator::on_policy_tick() {
  desired_ = policy_->decide(view());
  apply_desired();
  events_.schedule(kPolicyEntity, now_ + policy_->period_s());
}

void OpenFaasSimulator::on_arrival() {
  ++recorder_.window().arrivals;
  admit(Request{now_, function_.demand(next_duration_s_, demand_rng_)});
  next_arrival_s_ = arrivals_->next();
  next_duration_s_ = arrivals_->duration_s();
}

void OpenFaasSimulator::on_queue_timeout() {
  // The head is the oldest request, so it has the earliest deadline.
  const Request head = queue_.front();
  queue_.pop_front();
  finish(Outcome::timed_out, head.arrival_s, kNaN, false);
  schedule_queue_timeout();
}

void OpenFaasSimulator::on_pod_event(std::uint32_t p) {
  Pod& pod = pods_[p];
  if (pod.state == PodState::starting) {
    pod.state = PodState::ready;
    --starting_;
    add_ready(p);
    drain_queue();
    touch(p);
    return;
  }
  bring_up_to_date(pod);
  const Running done = pod.running[pod.next_slot];
  const std::size_t before = pod.running.size();
  if (!pod.next_is_timeout) pod.virtual_time = std::max(pod.virtual_time, done.finish_v);
  pod.running[pod.next_slot] = pod.running.back();
  pod.running.pop_back();
  --in_flight_;
  if (pod.running.empty()) pod.virtual_time = 0;  // restart the origin: keeps precision
  cores_in_use_ += cores_used(pod.running.size()) - cores_used(before);
  if (in_flight_ == 0) cores_in_use_ = 0;  // exact zero, no accumulated rounding
  finish(pod.next_is_timeout ? Outcome::timed_out : Outcome::ok, done.arrival_s, done.dispatched_s, done.cold_affected);
  if (pod.state == PodState::ready) {
    set_load(p, before, pod.running.size());
    drain_queue();
  } else if (pod.running.empty()) {
    release_pod(p);  // a draining pod exits with its last request
    return;
  }
  touch(p);
}

// ---- requests -------------------------------------------------------------------------

void OpenFaasSimulator::admit(const Request& request) {
  const std::int64_t capacity = scenario_.platform.queue_capacity;
  if (capacity > 0) {
    // Gateway queue: straight to a pod when nothing waits and a slot is free.
    if (queue_.empty()) {
      const std::int64_t pod = least_loaded_free_pod();
      if (pod >= 0) {
        dispatch(static_cast<std::uint32_t>(pod), request);
        return;
      }
    }
    if (static_cast<std::int64_t>(queue_.size()) >= capacity) {
      finish(Outcome::rejected, request.arrival_s, kNaN, false);
      return;
    }
    queue_.push_back(request);
    if (queue_.size() == 1) schedule_queue_timeout();
    return;
  }
  // Direct routing; with no ready pod, hold the request until one is ready.
  if (ready_.empty()) {
    queue_.push_back(request);
    if (queue_.size() == 1) schedule_queue_timeout();
    return;
  }
  const std::uint32_t pod = route();
  if (static_cast<std::int64_t>(pods_[pod].running.size()) >= function_.max_inflight) {
    ++pods_[pod].requests;
    // of-watchdog answers 429 at once: the request reached the pod, so the gateway times
    // that (instant) forwarding.
    finish(Outcome::rejected, request.arrival_s, now_, false);
    return;
  }
  dispatch(pod, request);
}

void OpenFaasSimulator::drain_queue() {
  if (queue_.empty()) return;
  const bool direct = scenario_.platform.queue_capacity == 0;
  if (direct) {
    if (ready_.empty()) return;
    std::deque<Request> held;
    held.swap(queue_);
    events_.cancel(kQueueEntity);
    for (const Request& r : held) admit(r);
    return;
  }
  bool moved = false;
  while (!queue_.empty()) {
    const std::int64_t pod = least_loaded_free_pod();
    if (pod < 0) break;
    const Request head = queue_.front();
    queue_.pop_front();
    dispatch(static_cast<std::uint32_t>(pod), head);
    moved = true;
  }
  if (moved) schedule_queue_timeout();
}

void OpenFaasSimulator::dispatch(std::uint32_t p, const Request& request) {
  Pod& pod = pods_[p];
  bring_up_to_date(pod);
  const std::size_t before = pod.running.size();
  pod.running.push_back(Running{pod.virtual_time + request.demand, request.arrival_s + function_.timeout_s,
                                request.arrival_s, now_, pod.ready_s > request.arrival_s});
  ++in_flight_;
  ++pod.requests;
  cores_in_use_ += cores_used(before + 1) - cores_used(before);
  set_load(p, before, before + 1);
  touch(p);
}

void OpenFaasSimulator::finish(Outcome outcome, double arrival_s, double dispatched_s, bool cold_affected) {
  recorder_.finish(outcome, now_, arrival_s, dispatched_s, cold_affected);
}

// ---- pods -----------------------------------------------------------------------------

double OpenFaasSimulator::rate(std::size_t running) const {
  // Each request runs at most at one core; a CPU limit is shared equally.
  const double limit = function_.cpu_limit_cores;
  return limit > 0 && static_cast<double>(running) > limit ? limit / static_cast<double>(running) : 1.0;
}

double OpenFaasSimulator::cores_used(std::size_t running) const {
  const auto n = static_cast<double>(running);
  return function_.cpu_limit_cores > 0 ? std::min(n, function_.cpu_limit_cores) : n;
}

void OpenFaasSimulator::bring_up_to_date(Pod& pod) {
  if (!pod.running.empty()) {
    const double dt = now_ - pod.virtual_at_s;
    pod.virtual_time += rate(pod.running.size()) * dt;
    pod.cpu_core_seconds += cores_used(pod.running.size()) * dt;
  }
  pod.virtual_at_s = now_;
}

void OpenFaasSimulator::touch(std::uint32_t p) {
  if (!pods_[p].touched) {
    pods_[p].touched = true;
    touched_.push_back(p);
  }
}

void OpenFaasSimulator::reschedule_touched_pods() {
  for (std::uint32_t p : touched_) {
    pods_[p].touched = false;
    reschedule(p);
  }
  touched_.clear();
}

void OpenFaasSimulator::reschedule(std::uint32_t p) {
  Pod& pod = pods_[p];
  const std::uint32_t entity = kFirstPodEntity + p;
  if (pod.state == PodState::free) {
    events_.cancel(entity);
    return;
  }
  if (pod.state == PodState::starting) {
    events_.schedule(entity, pod.ready_s);
    return;
  }
  if (pod.running.empty()) {
    events_.cancel(entity);
    return;
  }
  std::uint32_t first_finish = 0, first_deadline = 0;
  for (std::uint32_t i = 1; i < pod.running.size(); ++i) {
    if (pod.running[i].finish_v < pod.running[first_finish].finish_v) first_finish = i;
    if (pod.running[i].deadline_s < pod.running[first_deadline].deadline_s) first_deadline = i;
  }
  const double finish_s =
      now_ + std::max(0.0, pod.running[first_finish].finish_v - pod.virtual_time) / rate(pod.running.size());
  const double deadline_s = pod.running[first_deadline].deadline_s;
  // A request that would finish exactly at its deadline succeeds.
  pod.next_is_timeout = deadline_s < finish_s;
  pod.next_slot = pod.next_is_timeout ? first_deadline : first_finish;
  events_.schedule(entity, pod.next_is_timeout ? deadline_s : finish_s);
}

void OpenFaasSimulator::schedule_queue_timeout() {
  events_.schedule(kQueueEntity, queue_.empty() ? kNever : queue_.front().arrival_s + function_.timeout_s);
}

void OpenFaasSimulator::link_load(std::uint32_t p, std::size_t load) {
  Pod& pod = pods_[p];
  pod.load_prev = -1;
  pod.load_next = load_head_[load];
  if (pod.load_next >= 0) pods_[static_cast<std::size_t>(pod.load_next)].load_prev = static_cast<std::int32_t>(p);
  load_head_[load] = static_cast<std::int32_t>(p);
  lowest_load_hint_ = std::min(lowest_load_hint_, load);
}

void OpenFaasSimulator::unlink_load(std::uint32_t p, std::size_t load) {
  const Pod& pod = pods_[p];
  if (pod.load_prev >= 0) {
    pods_[static_cast<std::size_t>(pod.load_prev)].load_next = pod.load_next;
  } else {
    load_head_[load] = pod.load_next;
  }
  if (pod.load_next >= 0) pods_[static_cast<std::size_t>(pod.load_next)].load_prev = pod.load_prev;
}

void OpenFaasSimulator::set_load(std::uint32_t p, std::size_t before, std::size_t after) {
  if (pods_[p].state != PodState::ready) return;
  unlink_load(p, before);
  link_load(p, after);
}

void OpenFaasSimulator::add_ready(std::uint32_t p) {
  Pod& pod = pods_[p];
  pod.ready_position = static_cast<std::uint32_t>(ready_.size());
  ready_.push_back(p);
  link_load(p, pod.running.size());
}

void OpenFaasSimulator::remove_ready(std::uint32_t p) {
  Pod& pod = pods_[p];
  const std::uint32_t last = ready_.back();
  ready_[pod.ready_position] = last;
  pods_[last].ready_position = pod.ready_position;
  ready_.pop_back();
  unlink_load(p, pod.running.size());
}

std::int64_t OpenFaasSimulator::least_loaded_free_pod() {
  const auto full = static_cast<std::size_t>(function_.max_inflight);
  while (lowest_load_hint_ < full && load_head_[lowest_load_hint_] < 0) ++lowest_load_hint_;
  if (lowest_load_hint_ >= full) return -1;
  return load_head_[lowest_load_hint_];
}

std::uint32_t OpenFaasSimulator::route() {
  switch (scenario_.platform.routing) {
    case Routing::random: return ready_[routing_rng_.below(ready_.size())];
    case Routing::round_robin: return ready_[round_robin_++ % ready_.size()];
    case Routing::least_loaded: {
      const std::int64_t pod = least_loaded_free_pod();
      return pod >= 0 ? static_cast<std::uint32_t>(pod) : ready_[0];
    }
  }
  return ready_[0];
}

void OpenFaasSimulator::create_pod(double ready_s) {
  const std::uint32_t p = take_slot(pods_, free_pods_);
  if (kFirstPodEntity + pods_.size() > events_.entities()) {
    events_.resize(kFirstPodEntity + pods_.size());
    events_.set_priority(kFirstPodEntity + p, kPodsThird);
  }
  Pod& pod = pods_[p];
  pod.state = PodState::starting;
  pod.uid = next_pod_uid_++;
  pod.cpu_core_seconds = 0;
  pod.requests = 0;
  pod.created_s = now_;
  pod.ready_s = ready_s;
  pod.virtual_time = 0;
  pod.virtual_at_s = now_;
  ++starting_;
  ++alive_;
  touch(p);
}

void OpenFaasSimulator::retire_pod(std::uint32_t p) {
  Pod& pod = pods_[p];
  if (pod.state == PodState::starting) {
    --starting_;
    release_pod(p);
    return;
  }
  remove_ready(p);
  if (pod.running.empty()) {
    release_pod(p);
  } else {
    pod.state = PodState::draining;
    ++draining_;
  }
}

void OpenFaasSimulator::release_pod(std::uint32_t p) {
  Pod& pod = pods_[p];
  if (pod.state == PodState::draining) --draining_;
  pod.state = PodState::free;
  pod.running.clear();
  --alive_;
  events_.cancel(kFirstPodEntity + p);
  free_pods_.push_back(p);
}

void OpenFaasSimulator::set_desired_replicas(std::int64_t replicas) {
  desired_ = replicas;
  apply_desired();
  reschedule_touched_pods();
}

void OpenFaasSimulator::apply_desired() {
  desired_ = std::clamp(desired_, scenario_.platform.min_replicas, scenario_.platform.max_replicas);
  std::int64_t active = starting_ + static_cast<std::int64_t>(ready_.size());
  for (; active < desired_; ++active) {
    ++recorder_.window().cold_starts;
    create_pod(now_ + function_.cold_start.sample(cold_start_rng_));
  }
  // Like a ReplicaSet scaling down: pods not yet ready go first, newest first, then ready
  // pods, most recently ready first (ties: the higher pod number).
  const std::int64_t excess = active - desired_;
  if (excess <= 0) return;
  std::vector<std::uint32_t> candidates;
  for (std::uint32_t p = 0; p < pods_.size(); ++p) {
    if (pods_[p].state == PodState::starting || pods_[p].state == PodState::ready) candidates.push_back(p);
  }
  const auto removed_first = [&](std::uint32_t a, std::uint32_t b) {
    const Pod &x = pods_[a], &y = pods_[b];
    if ((x.state == PodState::starting) != (y.state == PodState::starting)) return x.state == PodState::starting;
    const double tx = x.state == PodState::starting ? x.created_s : x.ready_s;
    const double ty = y.state == PodState::starting ? y.created_s : y.ready_s;
    return tx != ty ? tx > ty : a > b;
  };
  const auto cut = candidates.begin() + excess;
  std::partial_sort(candidates.begin(), cut, candidates.end(), removed_first);
  for (auto it = candidates.begin(); it != cut; ++it) retire_pod(*it);
}

PlatformView OpenFaasSimulator::view() const {
  PlatformView v;
  v.now_s = now_;
  v.ready = static_cast<std::int64_t>(ready_.size());
  v.starting = starting_;
  v.draining = draining_;
  v.desired = desired_;
  v.queued = static_cast<std::int64_t>(queue_.size());
  v.in_flight = in_flight_;
  v.min_replicas = scenario_.platform.min_replicas;
  v.max_replicas = scenario_.platform.max_replicas;
  v.last_window = last_window();
  const RunTotals t = totals();
  v.arrivals_total = t.arrivals;
  v.ok_total = t.ok;
  v.requests_total = t.finished();
  v.in_system_seconds_total = t.in_system_seconds;
  v.cpu_core_seconds_total = t.cpu_core_seconds;
  pod_views_.clear();
  for (const Pod& pod : pods_) {
    if (pod.state == PodState::free) continue;
    PodView pv;
    pv.id = pod.uid;
    pv.phase = pod.state == PodState::starting ? PodView::Phase::starting
               : pod.state == PodState::ready  ? PodView::Phase::ready
                                               : PodView::Phase::draining;
    pv.created_s = pod.created_s;
    pv.ready_s = pod.ready_s;
    pv.in_flight = static_cast<std::int64_t>(pod.running.size());
    // CPU up to now: the pod's counter runs to its last update, at a constant rate since.
    pv.cpu_core_seconds = pod.cpu_core_seconds + cores_used(pod.running.size()) * (now_ - pod.virtual_at_s);
    pv.requests = pod.requests;
    pod_views_.push_back(pv);
  }
  v.pods = pod_views_.data();
  v.pod_count = pod_views_.size();
  return v;
}

}  // namespace faascale
