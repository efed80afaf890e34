// hpa: the Kubernetes Horizontal Pod Autoscaler (autoscaling/v2), as its controller and
// replica calculator behave with default settings (reference facts section 3).
//
// Parameters (scenario "autoscaler" object), with upstream defaults:
//   metric                      "cpu" (Resource CPU, Utilization) | "rps" (Pods metric, AverageValue)
//   target_utilization          0.8    cpu: usage / request (kubectl autoscale's 80%)
//   target_rps_per_pod          10     rps: requests per second per pod (no upstream default)
//   tolerance                   0.1    no change while |ratio - 1| <= tolerance
//   sync_period_s               15     controller resync (--horizontal-pod-autoscaler-sync-period)
//   metric_window_s             30     window of the per-pod rate (metrics-server / adapter)
//   cpu_initialization_period_s 300    (--horizontal-pod-autoscaler-cpu-initialization-period)
//   scale_up_stabilization_s    0      behavior.scaleUp.stabilizationWindowSeconds
//   scale_up_pods               4      scaleUp policy {Pods, 4, 15 s}
//   scale_up_percent            100    scaleUp policy {Percent, 100, 15 s}; selectPolicy Max
//   scale_up_period_s           15
//   scale_down_stabilization_s  300    behavior.scaleDown.stabilizationWindowSeconds
//   scale_down_percent          100    scaleDown policy {Percent, 100, 15 s}
//   scale_down_period_s         15
//
// Followed: the replica calculator's two passes (ready pods first; then missing-metric pods
// at 100% of target on a scale-down and 0% on a scale-up, not-yet-ready pods at 0% on a
// scale-up, and no change if the second ratio is within tolerance or flips direction);
// which pods count as not ready for CPU (pending; or, within the CPU initialisation period,
// ready for less than the metric window); stabilisation windows (highest recommendation
// in the scale-down window, lowest in the scale-up window); rate policies with "period
// start" replicas, percent up rounded up and percent down truncated; min/max clamping.
// Needs min_replicas >= 1 (the HPA does not scale from zero). The initial readiness delay
// has no effect here: a pod that is not ready is still starting, and so pending. Left
// out: the legacy (no behavior) rate limit of max(2x, 4) per sync; pods in Failed
// phase (the simulator has none); metrics-server's own scrape timing (a pod's rate is
// exact over the window). A pod's metric is missing until it has existed for a window.
// Missing-metric pods count, on a scale-down, as their whole CPU request (or the target
// when above 100%), as upstream.
#include <algorithm>
#include <cmath>
#include <deque>
#include <optional>
#include <unordered_map>

#include "sim/policies/policies.hpp"

namespace faascale::policies {
namespace {

struct HpaConfig {
  bool cpu = true;
  double target = 0.8;  // utilisation (cpu) or requests/s per pod (rps)
  double tolerance = 0.1;
  double sync_period_s = 15, metric_window_s = 30;
  double cpu_initialization_period_s = 300;
  double up_stabilization_s = 0, up_pods = 4, up_percent = 100, up_period_s = 15;
  double down_stabilization_s = 300, down_percent = 100, down_period_s = 15;
};

class HpaPolicy final : public Policy {
 public:
  HpaPolicy(const HpaConfig& config, const PolicyContext& context) : config_(config), context_(context) {}
  std::string_view kind() const override { return "hpa"; }
  double period_s() const override { return config_.sync_period_s; }

  std::int64_t decide(const PlatformView& view) override {
    record_samples(view);
    const std::int64_t current = view.desired;
    if (recommendations_.empty() && !initial_recorded_) {
      // As upstream, the first sync records the current count, so nothing scales down
      // within the stabilisation window of the start.
      recommendations_.push_back({view.now_s, static_cast<double>(current)});
      initial_recorded_ = true;
    }
    const std::optional<std::int64_t> proposal = replica_calculator(view, current);
    // Without any metric the controller fails this sync: no change, nothing recorded.
    if (!proposal) return keep_current(view, context_);
    const std::int64_t stabilized = stabilize(view.now_s, current, *proposal);
    const std::int64_t decided = rate_limit(view.now_s, current, stabilized);
    if (decided > current) scale_events_up_.push_back({view.now_s, static_cast<double>(decided - current)});
    if (decided < current) scale_events_down_.push_back({view.now_s, static_cast<double>(current - decided)});
    return decided;
  }

 private:
  struct Sample {
    double time_s;
    std::unordered_map<std::uint64_t, double> counter;  // pod id -> cumulative CPU-s or requests
  };
  struct Event {
    double time_s, value;
  };

  void record_samples(const PlatformView& view) {
    Sample sample{view.now_s, {}};
    for (std::size_t i = 0; i < view.pod_count; ++i) {
      const PodView& pod = view.pods[i];
      sample.counter[pod.id] = config_.cpu ? pod.cpu_core_seconds : static_cast<double>(pod.requests);
    }
    samples_.push_back(std::move(sample));
    // Keep the newest sample at or before now - window, and everything after it.
    while (samples_.size() > 2 && samples_[1].time_s <= view.now_s - config_.metric_window_s) samples_.pop_front();
  }

  // The pod's rate over the metric window in milli-units (millicores of CPU, or
  // milli-requests per second), as the metrics APIs report integer quantities; nullopt
  // when its metric is missing (or unreadable).
  std::optional<std::int64_t> metric_milli(const PodView& pod, double now) const {
    const Sample& start = samples_.front();
    if (start.time_s > now - config_.metric_window_s + 1e-9 || now - start.time_s <= 0) return std::nullopt;
    const auto it = start.counter.find(pod.id);
    // A pod created at or before the window's start sample but after it was taken (in the
    // same instant) started its counters at zero then.
    if (it == start.counter.end() && pod.created_s > start.time_s) return std::nullopt;
    const double counter = config_.cpu ? pod.cpu_core_seconds : static_cast<double>(pod.requests);
    const double rate = (counter - (it == start.counter.end() ? 0.0 : it->second)) / (now - start.time_s);
    if (!std::isfinite(rate)) return std::nullopt;
    return std::llround(std::clamp(rate, 0.0, 1e12) * 1000);
  }

  // The usage ratio as upstream computes it from integer quantities: for CPU, utilisation
  // in whole percent (truncated) over the target percent; for a pods metric, the average
  // (truncated) over the target, both in milli-units.
  double usage_ratio(std::int64_t total_milli, std::int64_t pods) const {
    if (config_.cpu) {
      const std::int64_t request_milli = std::llround(context_.cpu_request_cores * 1000) * pods;
      const std::int64_t percent = total_milli * 100 / request_milli;
      return static_cast<double>(percent) / static_cast<double>(std::llround(config_.target * 100));
    }
    return static_cast<double>(total_milli / pods) / static_cast<double>(std::llround(config_.target * 1000));
  }

  // The value a pod without metrics gets on a scale-down, in milli-units: for CPU its
  // whole request, or the target when that is above 100%; for a pods metric the target.
  std::int64_t missing_pod_milli() const {
    if (!config_.cpu) return std::llround(config_.target * 1000);
    const std::int64_t fallback_percent = std::max<std::int64_t>(100, std::llround(config_.target * 100));
    return std::llround(context_.cpu_request_cores * 1000) * fallback_percent / 100;
  }

  std::optional<std::int64_t> replica_calculator(const PlatformView& view, std::int64_t current) const {
    std::int64_t total = 0, ready = 0, missing = 0, unready = 0;
    for (std::size_t i = 0; i < view.pod_count; ++i) {
      const PodView& pod = view.pods[i];
      if (pod.phase == PodView::Phase::draining) continue;  // deleted pods are ignored
      if (pod.phase == PodView::Phase::starting) {           // pending: unready
        ++unready;
        continue;
      }
      const std::optional<std::int64_t> m = metric_milli(pod, view.now_s);
      if (!m) {
        ++missing;
        continue;
      }
      if (config_.cpu && view.now_s - pod.created_s < config_.cpu_initialization_period_s &&
          view.now_s < pod.ready_s + config_.metric_window_s) {
        ++unready;  // its metric window began before it was ready
        continue;
      }
      total += *m;
      ++ready;
    }
    if (ready == 0) return std::nullopt;
    const double ratio = usage_ratio(total, ready);
    const bool scale_up_with_unready = unready > 0 && ratio > 1;
    if (!scale_up_with_unready && missing == 0) {
      if (std::abs(1 - ratio) <= config_.tolerance) return current;
      return ceil_replicas(ratio * static_cast<double>(ready), current);
    }
    // Second pass: missing pods at 100% of target on a scale-down, 0% on a scale-up;
    // unready pods at 0% when scaling up.
    std::int64_t pods = ready + missing;
    if (ratio < 1) total += missing * missing_pod_milli();
    if (scale_up_with_unready) pods += unready;
    const double new_ratio = usage_ratio(total, pods);
    if (std::abs(1 - new_ratio) <= config_.tolerance || (ratio > 1 && new_ratio < 1) || (ratio < 1 && new_ratio > 1)) {
      return current;
    }
    const auto replicas = ceil_replicas(new_ratio * static_cast<double>(pods), current);
    if ((new_ratio < 1 && replicas > current) || (new_ratio > 1 && replicas < current)) return current;
    return replicas;
  }

  std::int64_t stabilize(double now, std::int64_t current, std::int64_t proposal) {
    double up = static_cast<double>(proposal), down = up;
    for (const Event& r : recommendations_) {
      if (r.time_s > now - config_.up_stabilization_s) up = std::min(up, r.value);
      if (r.time_s > now - config_.down_stabilization_s) down = std::max(down, r.value);
    }
    recommendations_.push_back({now, static_cast<double>(proposal)});
    const double keep = std::max(config_.up_stabilization_s, config_.down_stabilization_s);
    while (!recommendations_.empty() && recommendations_.front().time_s <= now - keep) recommendations_.pop_front();
    auto result = static_cast<double>(current);
    result = std::max(result, up);
    result = std::min(result, down);
    return static_cast<std::int64_t>(result);
  }

  static double changed_within(const std::deque<Event>& events, double now, double period) {
    double total = 0;
    for (const Event& e : events) {
      if (e.time_s > now - period) total += e.value;
    }
    return total;
  }

  // Replicas at the start of a rate-limit period: now, less what was added and plus what
  // was removed within it.
  double period_start(double now, double current, double period) const {
    return current - changed_within(scale_events_up_, now, period) + changed_within(scale_events_down_, now, period);
  }

  std::int64_t rate_limit(double now, std::int64_t current, std::int64_t desired) const {
    const auto cur = static_cast<double>(current);
    if (desired > current) {
      const double start_up = period_start(now, cur, config_.up_period_s);
      double limit = std::max(start_up + config_.up_pods, std::ceil(start_up * (1 + config_.up_percent / 100)));
      limit = std::min(std::max(limit, cur), static_cast<double>(context_.max_replicas));
      return std::min(desired, static_cast<std::int64_t>(limit));
    }
    if (desired < current) {
      const double start_down = period_start(now, cur, config_.down_period_s);
      double limit = std::trunc(start_down * (1 - config_.down_percent / 100));
      limit = std::max(std::min(limit, cur), static_cast<double>(context_.min_replicas));
      return std::max(desired, static_cast<std::int64_t>(limit));
    }
    return std::clamp(desired, context_.min_replicas, context_.max_replicas);
  }

  HpaConfig config_;
  PolicyContext context_;
  std::deque<Sample> samples_;
  std::deque<Event> recommendations_;
  std::deque<Event> scale_events_up_, scale_events_down_;
  bool initial_recorded_ = false;
};

}  // namespace

std::unique_ptr<Policy> make_hpa(JsonReader& p, const PolicyContext& context) {
  if (context.min_replicas < 1) {
    p.fail("kind", "the HPA cannot scale from zero; set $.platform.min_replicas to 1 or more.");
  }
  HpaConfig c;
  c.cpu = p.choice("metric", {"cpu", "rps"}, "cpu") == "cpu";
  if (c.cpu) {
    c.target = p.number("target_utilization", 0.01, 1e4, 0.8);  // whole percent upstream
  } else {
    c.target = p.number("target_rps_per_pod", 0.001, 1e9, 10.0);  // milli-units upstream
  }
  c.tolerance = p.number("tolerance", 0, 10, 0.1);
  c.sync_period_s = p.number("sync_period_s", 1, 3600, 15);
  c.metric_window_s = p.number("metric_window_s", 1, 3600, 30);
  c.cpu_initialization_period_s = p.number("cpu_initialization_period_s", 0, 1e9, 300);
  c.up_stabilization_s = p.number("scale_up_stabilization_s", 0, 3600, 0);
  c.up_pods = static_cast<double>(p.integer("scale_up_pods", 0, 1'000'000, 4));
  c.up_percent = p.number("scale_up_percent", 0, 1e6, 100);
  c.up_period_s = p.number("scale_up_period_s", 1e-3, 1800, 15);
  c.down_stabilization_s = p.number("scale_down_stabilization_s", 0, 3600, 300);
  c.down_percent = p.number("scale_down_percent", 0, 100, 100);
  c.down_period_s = p.number("scale_down_period_s", 1e-3, 1800, 15);
  return std::make_unique<HpaPolicy>(c, context);
}

}  // namespace faascale::policies
