// kpa: the Knative Pod Autoscaler (reference facts section 4).
//
// Parameters, with Knative's defaults:
//   target_utilization        0.7    container-concurrency-target-percentage
//   soft_target               100    per-pod concurrency target when there is no hard limit
//   use_container_concurrency true   take containerConcurrency = function.max_inflight as the
//                                    hard limit (target = max_inflight x utilisation)
//   stable_window_s           60
//   panic_window_percentage   10     panic window = 10% of the stable window (6 s)
//   panic_threshold           2.0    200%: panic when desired_panic / ready >= 2
//   max_scale_up_rate         1000
//   max_scale_down_rate       2
//   tick_s                    2      decision interval; metrics are collected in 1 s buckets
//   scale_to_zero_grace_s     30     scale-to-zero-grace-period
//   enable_scale_to_zero      true   (only effective with platform.min_replicas 0)
//
// Measured concurrency counts every request in the system (queued at the gateway, which
// stands for the activator, and in flight), the time average over each 1 s bucket; the
// stable and panic values average the buckets of their windows. Each tick: ready =
// max(1, ready pods); desired_stable = ceil(stable / target) and desired_panic =
// ceil(panic / target), each clamped to [floor(ready / max_scale_down_rate),
// ceil(max_scale_up_rate * ready)]. Panic starts when desired_panic / ready >= threshold,
// is extended while that holds, and ends a stable window after it last held; in panic the
// count never goes down (it holds the highest of the panic and stable counts seen). The
// panic threshold is tested on the unclamped panic count. No decision is taken before the
// first bucket; zero only with a full stable window of data and after the grace period
// (requests are held by the platform while no pod is ready).
// Left out: the activator's own capacity and target burst capacity, initial scale, scale
// down delay, and the last-pod retention period.
#include <algorithm>
#include <cmath>
#include <deque>

#include "sim/policies/policies.hpp"

namespace faascale::policies {
namespace {

constexpr double kBucketSeconds = 1.0;

struct KpaConfig {
  double target = 70;  // per-pod concurrency target
  double stable_window_s = 60, panic_window_s = 6, panic_threshold = 2.0;
  double max_up_rate = 1000, max_down_rate = 2;
  double tick_s = 2, grace_s = 30;
  bool scale_to_zero = true;
};

class KpaPolicy final : public Policy {
 public:
  KpaPolicy(const KpaConfig& config, const PolicyContext& context) : config_(config), context_(context) {}
  std::string_view kind() const override { return "kpa"; }
  double period_s() const override { return kBucketSeconds; }

  std::int64_t decide(const PlatformView& view) override {
    collect_bucket(view);
    // Decide on ticks only; in between, keep the last decision.
    if (view.now_s + 1e-9 < next_tick_s_) {
      return last_decision_ < 0 ? keep_current(view, context_)
                                : last_decision_;
    }
    next_tick_s_ = view.now_s + config_.tick_s;
    last_decision_ = tick(view);
    return last_decision_;
  }

 private:
  void collect_bucket(const PlatformView& view) {
    if (have_previous_ && view.now_s > previous_time_) {
      buckets_.push_back((view.in_system_seconds_total - previous_integral_) / (view.now_s - previous_time_));
    }
    previous_integral_ = view.in_system_seconds_total;
    previous_time_ = view.now_s;
    have_previous_ = true;
    const auto keep = static_cast<std::size_t>(std::ceil(config_.stable_window_s / kBucketSeconds));
    while (buckets_.size() > keep) buckets_.pop_front();
  }

  // Average of the newest buckets covering `window_s` (fewer at the start of a run).
  double average(double window_s) const {
    const auto wanted = static_cast<std::size_t>(std::ceil(window_s / kBucketSeconds));
    const std::size_t n = std::min(wanted, buckets_.size());
    if (n == 0) return 0;
    double sum = 0;
    for (std::size_t i = buckets_.size() - n; i < buckets_.size(); ++i) sum += buckets_[i];
    return sum / static_cast<double>(n);
  }

  std::int64_t tick(const PlatformView& view) {
    // No data yet: no decision, as upstream (but within bounds).
    if (buckets_.empty()) return keep_current(view, context_);
    const auto ready = static_cast<double>(std::max<std::int64_t>(1, view.ready));
    const double lowest = std::floor(ready / config_.max_down_rate);
    const double highest = std::ceil(config_.max_up_rate * ready);
    const double stable_value = average(config_.stable_window_s), panic_value = average(config_.panic_window_s);
    if (!std::isfinite(stable_value) || !std::isfinite(panic_value)) {  // unreadable metric
      return keep_current(view, context_);
    }
    const double unclamped_panic = std::ceil(panic_value / config_.target);
    const double stable = std::clamp(std::ceil(stable_value / config_.target), lowest, highest);
    const double panic = std::clamp(unclamped_panic, lowest, highest);
    if (unclamped_panic / ready >= config_.panic_threshold) {
      panic_since_s_ = view.now_s;  // enters, or extends, panic mode
    } else if (panic_since_s_ >= 0 && view.now_s - panic_since_s_ > config_.stable_window_s) {
      panic_since_s_ = -1;
      max_panic_pods_ = 0;
    }
    double desired = stable;
    if (panic_since_s_ >= 0) {
      max_panic_pods_ = std::max({max_panic_pods_, panic, stable});
      desired = max_panic_pods_;  // never shrink in panic
    }
    auto result = std::clamp(static_cast<std::int64_t>(desired), context_.min_replicas, context_.max_replicas);
    if (result == 0) {
      // Scale to zero only with a full stable window of data, after the grace period.
      if (!config_.scale_to_zero) return std::max<std::int64_t>(1, context_.min_replicas);
      if (static_cast<double>(buckets_.size()) * kBucketSeconds < config_.stable_window_s) {
        return std::min<std::int64_t>(1, view.desired);
      }
      if (zero_since_s_ < 0) zero_since_s_ = view.now_s;
      if (view.now_s - zero_since_s_ < config_.grace_s) result = std::min<std::int64_t>(1, view.desired);
    } else {
      zero_since_s_ = -1;
    }
    return result;
  }

  KpaConfig config_;
  PolicyContext context_;
  std::deque<double> buckets_;
  double previous_integral_ = 0, previous_time_ = 0;
  bool have_previous_ = false;
  double next_tick_s_ = 0;
  std::int64_t last_decision_ = -1;
  double panic_since_s_ = -1, max_panic_pods_ = 0;
  double zero_since_s_ = -1;
};

}  // namespace

std::unique_ptr<Policy> make_kpa(JsonReader& p, const PolicyContext& context) {
  KpaConfig c;
  const double utilization = p.number("target_utilization", 1e-3, 1.0, 0.7);
  const double soft_target = p.number("soft_target", 1e-3, 1e9, 100);
  const bool hard_limit = p.boolean("use_container_concurrency", true);
  c.target = (hard_limit ? static_cast<double>(context.max_inflight) : soft_target) * utilization;
  c.stable_window_s = p.number("stable_window_s", 6, 3600, 60);
  c.panic_window_s = c.stable_window_s * p.number("panic_window_percentage", 1, 100, 10) / 100;
  c.panic_threshold = p.number("panic_threshold", 1, 1e6, 2.0);
  c.max_up_rate = p.number("max_scale_up_rate", 1.0001, 1e9, 1000);
  c.max_down_rate = p.number("max_scale_down_rate", 1.0001, 1e9, 2);
  c.tick_s = p.number("tick_s", 1, 3600, 2);
  c.grace_s = p.number("scale_to_zero_grace_s", 0, 1e9, 30);
  c.scale_to_zero = p.boolean("enable_scale_to_zero", true);
  return std::make_unique<KpaPolicy>(c, context);
}

}  // namespace faascale::policies
