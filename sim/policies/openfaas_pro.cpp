// openfaas-pro: the OpenFaaS Pro autoscaler (reference facts section 2):
//   desired = ceil(ready * load_per_pod / (target * proportion)) = ceil(load / (target * proportion))
// clamped to [scale_min, max_replicas], with optional scale to zero when idle.
//
// Parameters, with the documented defaults (com.openfaas.scale.* labels):
//   mode            "rps"   rps: requests/s over rps_window_s; capacity: requests in flight
//                           (queued at the gateway included), the maximum of 1 s samples
//                           over capacity_window_s; cpu: milli-CPU used over cpu_window_s
//   target          50      load per replica (req/s, in-flight requests, or milli-CPU)
//   proportion      0.9     target-proportion
//   scale_min       1       lower bound while under load (platform.min_replicas must not exceed it)
//   scale_to_zero   false   com.openfaas.scale.zero (needs platform.min_replicas 0)
//   zero_duration_s 900     idle time (no invocations) before scaling to zero
//   sync_period_s   10      how often the load query runs: not documented upstream, our assumption
//   rps_window_s 30, capacity_window_s 45, cpu_window_s 30
//
// With no pod at all and requests waiting, it asks for scale_min at once (the gateway's
// scale from zero). Idle (for scale to zero) means no arrival and nothing queued or in
// flight. No decision is taken before the rps or cpu window holds two samples.
// Left out: custom Prometheus rules as a mode.
#include <algorithm>
#include <cmath>
#include <deque>
#include <optional>

#include "sim/policies/policies.hpp"

namespace faascale::policies {
namespace {

constexpr double kSampleSeconds = 1.0;

enum class Mode { rps, capacity, cpu };

struct ProConfig {
  Mode mode = Mode::rps;
  double target = 50, proportion = 0.9;
  std::int64_t scale_min = 1;
  bool scale_to_zero = false;
  double zero_duration_s = 900, sync_period_s = 10;
  double window_s = 30;  // of the selected mode
};

class OpenFaasProPolicy final : public Policy {
 public:
  OpenFaasProPolicy(const ProConfig& config, const PolicyContext& context) : config_(config), context_(context) {}
  std::string_view kind() const override { return "openfaas-pro"; }
  double period_s() const override { return kSampleSeconds; }

  std::int64_t decide(const PlatformView& view) override {
    const double now = view.now_s;
    const double value = config_.mode == Mode::rps        ? static_cast<double>(view.requests_total)
                         : config_.mode == Mode::cpu      ? view.cpu_core_seconds_total
                                                          : static_cast<double>(view.queued + view.in_flight);
    samples_.push_back({now, value});
    while (samples_.size() > 1 && samples_[1].time_s <= now - config_.window_s) samples_.pop_front();
    if (view.arrivals_total != last_arrivals_ || last_activity_s_ < 0 || view.queued + view.in_flight > 0) {
      last_arrivals_ = view.arrivals_total;
      last_activity_s_ = now;
    }
    // The gateway scales a function from zero as soon as a request waits for it.
    if (view.ready + view.starting == 0 && view.queued > 0) {
      last_decision_ = config_.scale_min;
      return last_decision_;
    }
    if (now + 1e-9 < next_sync_s_) {
      return last_decision_ < 0 ? keep_current(view, context_)
                                : last_decision_;
    }
    next_sync_s_ = now + config_.sync_period_s;

    const std::optional<double> load = current_load(now);
    if (!load) return keep_current(view, context_);  // no data yet
    auto desired = ceil_replicas(*load / (config_.target * config_.proportion), view.desired);
    desired = std::clamp(desired, config_.scale_min, context_.max_replicas);
    if (config_.scale_to_zero && now - last_activity_s_ >= config_.zero_duration_s) desired = 0;
    last_decision_ = std::clamp(desired, context_.min_replicas, context_.max_replicas);
    return last_decision_;
  }

 private:
  struct Sample {
    double time_s, value;
  };

  std::optional<double> current_load(double now) const {
    if (config_.mode == Mode::capacity) {
      double peak = 0;
      for (const Sample& s : samples_) peak = std::max(peak, s.value);
      return peak;
    }
    const Sample& oldest = samples_.front();
    const double span = now - oldest.time_s;
    if (span <= 0) return std::nullopt;
    const double rate = (samples_.back().value - oldest.value) / span;
    return config_.mode == Mode::cpu ? rate * 1000.0 : rate;  // cores to milli-CPU
  }

  ProConfig config_;
  PolicyContext context_;
  std::deque<Sample> samples_;
  std::int64_t last_arrivals_ = -1;
  double last_activity_s_ = -1;
  double next_sync_s_ = 0;
  std::int64_t last_decision_ = -1;
};

}  // namespace

std::unique_ptr<Policy> make_openfaas_pro(JsonReader& p, const PolicyContext& context) {
  ProConfig c;
  const std::string mode = p.choice("mode", {"rps", "capacity", "cpu"}, "rps");
  c.mode = mode == "rps" ? Mode::rps : mode == "capacity" ? Mode::capacity : Mode::cpu;
  c.target = p.number("target", 1e-9, 1e9, 50);
  c.proportion = p.number("proportion", 1e-3, 10, 0.9);
  c.scale_min = p.integer("scale_min", 1, 100000, std::max<std::int64_t>(1, context.min_replicas));
  c.scale_to_zero = p.boolean("scale_to_zero", false);
  c.zero_duration_s = p.number("zero_duration_s", 1, 1e9, 900);
  c.sync_period_s = p.number("sync_period_s", 1, 3600, 10);
  const double rps_window = p.number("rps_window_s", 1, 3600, 30);
  const double capacity_window = p.number("capacity_window_s", 1, 3600, 45);
  const double cpu_window = p.number("cpu_window_s", 1, 3600, 30);
  c.window_s = c.mode == Mode::rps ? rps_window : c.mode == Mode::capacity ? capacity_window : cpu_window;
  if (c.scale_to_zero && context.min_replicas > 0) {
    p.fail("scale_to_zero", "needs $.platform.min_replicas 0, so the platform allows zero replicas.");
  }
  if (c.scale_min > context.max_replicas) p.fail("scale_min", "must not exceed $.platform.max_replicas.");
  if (c.scale_min < context.min_replicas) {
    p.fail("scale_min", "must be at least $.platform.min_replicas.");
  }
  return std::make_unique<OpenFaasProPolicy>(c, context);
}

}  // namespace faascale::policies
