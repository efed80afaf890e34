// openfaas-ce: the OpenFaaS community edition's built-in autoscaling: a Prometheus alert
// on the rate of successful invocations, routed by Alertmanager to the gateway, which adds
// a step of replicas per firing notification and drops to the minimum when the alert
// resolves (reference facts section 2).
//
// Parameters, with the chart's defaults:
//   threshold_rps          5     alert: sum(rate(gateway_function_invocation_total{code="200"}[10s])) > 5
//   rate_window_s          10
//   for_s                  5     the alert's "for"
//   evaluation_interval_s  15    Prometheus' global evaluation interval
//   group_wait_s           5     Alertmanager
//   group_interval_s       10
//   repeat_interval_s      30
//   scaling_factor         10    percent of the maximum added per firing notification
//                                (com.openfaas.scale.factor; older releases used 20)
//   replica_cap            false true: the CE's clamp of replicas to 1..5 (gateway and
//                                faas-netes), which also sets the step's base to min(max, 5)
//
// Each firing notification sets replicas to min(cap, current + ceil(cap * factor / 100))
// where cap is max_replicas (or min(max_replicas, 5) with replica_cap); the resolved
// notification sets min_replicas. Alertmanager sends the first notification group_wait
// after the alert fires, then checks every group_interval and repeats a firing
// notification once repeat_interval has passed since the last; a resolved alert is
// notified at the next group_interval check. Left out: the exact Prometheus rate()
// extrapolation between 5 s scrapes (the rate here is the exact count over the window),
// and notification delivery delays and failures.
#include <algorithm>
#include <cmath>
#include <deque>

#include "sim/policies/policies.hpp"

namespace faascale::policies {
namespace {

constexpr double kSampleSeconds = 1.0;  // how often the counter is sampled for rate()

struct CeConfig {
  double threshold_rps = 5, rate_window_s = 10, for_s = 5, evaluation_interval_s = 15;
  double group_wait_s = 5, group_interval_s = 10, repeat_interval_s = 30;
  double scaling_factor = 10;
  bool replica_cap = false;
};

class OpenFaasCePolicy final : public Policy {
 public:
  OpenFaasCePolicy(const CeConfig& config, const PolicyContext& context) : config_(config), context_(context) {
    cap_ = config_.replica_cap ? std::min<std::int64_t>(context_.max_replicas, 5) : context_.max_replicas;
    step_ = static_cast<std::int64_t>(std::ceil(static_cast<double>(cap_) * config_.scaling_factor / 100));
  }
  std::string_view kind() const override { return "openfaas-ce"; }
  double period_s() const override { return kSampleSeconds; }

  std::int64_t decide(const PlatformView& view) override {
    const double now = view.now_s;
    samples_.push_back({now, static_cast<double>(view.ok_total)});
    while (samples_.size() > 1 && samples_[1].time_s <= now - config_.rate_window_s) samples_.pop_front();
    std::int64_t desired = std::clamp(view.desired, context_.min_replicas, cap_);

    if (now + 1e-9 >= next_evaluation_s_) {
      next_evaluation_s_ = now + config_.evaluation_interval_s;
      evaluate_rule(now);
    }
    if (group_active_ && now + 1e-9 >= next_flush_s_) {
      next_flush_s_ = now + config_.group_interval_s;
      if (firing_) {
        if (last_sent_s_ < 0 || now - last_sent_s_ >= config_.repeat_interval_s - 1e-9) {
          last_sent_s_ = now;
          desired = std::min(cap_, desired + step_);  // firing notification
        }
      } else {
        desired = context_.min_replicas;  // resolved notification
        group_active_ = false;
        last_sent_s_ = -1;
      }
    }
    return desired;
  }

 private:
  struct Sample {
    double time_s, ok_total;
  };

  void evaluate_rule(double now) {
    const Sample& oldest = samples_.front();
    const double span = now - oldest.time_s;
    const double rate = span > 0 ? (samples_.back().ok_total - oldest.ok_total) / span : 0.0;
    if (rate > config_.threshold_rps) {
      if (pending_since_s_ < 0) pending_since_s_ = now;
      if (!firing_ && now - pending_since_s_ >= config_.for_s - 1e-9) {
        firing_ = true;
        if (!group_active_) {
          group_active_ = true;
          next_flush_s_ = now + config_.group_wait_s;
        }
      }
    } else {
      pending_since_s_ = -1;
      firing_ = false;  // a group still active sends "resolved" at its next flush
    }
  }

  CeConfig config_;
  PolicyContext context_;
  std::int64_t cap_ = 0, step_ = 0;
  std::deque<Sample> samples_;
  double next_evaluation_s_ = 0;
  double pending_since_s_ = -1;
  bool firing_ = false;
  bool group_active_ = false;
  double next_flush_s_ = 0, last_sent_s_ = -1;
};

}  // namespace

std::unique_ptr<Policy> make_openfaas_ce(JsonReader& p, const PolicyContext& context) {
  if (context.min_replicas < 1) {
    p.fail("kind", "the community edition does not scale to zero; set $.platform.min_replicas to 1 or more.");
  }
  CeConfig c;
  c.threshold_rps = p.number("threshold_rps", 0, 1e9, 5);
  c.rate_window_s = p.number("rate_window_s", 1, 3600, 10);
  c.for_s = p.number("for_s", 0, 3600, 5);
  c.evaluation_interval_s = p.number("evaluation_interval_s", 1, 3600, 15);
  c.group_wait_s = p.number("group_wait_s", 0, 3600, 5);
  c.group_interval_s = p.number("group_interval_s", 1, 3600, 10);
  c.repeat_interval_s = p.number("repeat_interval_s", 1, 86400, 30);
  c.scaling_factor = p.number("scaling_factor", 0, 100, 10);
  c.replica_cap = p.boolean("replica_cap", false);
  if (c.replica_cap && context.min_replicas > 5) {
    p.fail("replica_cap", "the 1..5 cap cannot hold $.platform.min_replicas above 5.");
  }
  return std::make_unique<OpenFaasCePolicy>(c, context);
}

}  // namespace faascale::policies
