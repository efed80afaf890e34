// Implementation of env.hpp; docs/env.md states the formulas.
#include "rl/env.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "sim/input_error.hpp"
#include "sim/random.hpp"

namespace faascale::rl {
namespace {

// Indices of the observation values.
enum : std::size_t { kExecution = 0, kThroughput, kRequests, kReplicas, kCpu, kMemory, kP95 };

constexpr double kNoP95 = 200;             // the research code's value for "no data"
constexpr double kCompatLatencyScale = 200;  // seed_compat: seconds divided as if milliseconds
constexpr double kCompatMillicores = 100;    // seed_compat: cores divided by 100 "millicores"
constexpr double kOptimalUtilisation = 0.7;

// LSTM-PPO+'s resource term f(u, w).
double resource_term(double u, double w) {
  if (u > 1) return -w * (1 + 2 * (u - 1));
  if (u < 0.3) return -w * (0.7 - u);
  return w * std::exp(-4 * (u - kOptimalUtilisation) * (u - kOptimalUtilisation));
}

}  // namespace

std::vector<double> normalise(const Observation& o, const std::vector<double>& low, const std::vector<double>& high) {
  std::vector<double> out(o.values.size());
  for (std::size_t i = 0; i < out.size(); ++i) {
    const double span = high[i] - low[i];
    out[i] = span > 0 ? std::clamp((o.values[i] - low[i]) / span, 0.0, 1.0) : 0.0;
  }
  return out;
}

ActionMask valid_actions(std::int64_t ready, std::int64_t min_replicas, std::int64_t max_replicas) {
  ActionMask mask{};
  for (int a = 0; a < kActions; ++a) {
    const std::int64_t scale_value = ready + (a - 2);
    mask[static_cast<std::size_t>(a)] = scale_value >= min_replicas && scale_value <= max_replicas;
  }
  return mask;
}

EnvConfig read_env_config(JsonReader r) {
  EnvConfig c;
  c.preset = r.choice("preset", {"lstm-ppo-plus", "lstm-ppo", "ppo"}, c.preset);
  c.seed_compat = r.boolean("seed_compat", c.seed_compat);
  c.latency_slo_s = r.number("latency_slo_s", 1e-3, 1e4, c.latency_slo_s);
  c.reset_mode = r.choice("reset_mode", {"continue", "restart"}, c.reset_mode);
  c.warmup_s = r.number("warmup_s", 0, 1e6, c.warmup_s);
  c.random_start = r.boolean("random_start", c.random_start);
  r.finish();
  return c;
}

Preset::Preset(const EnvConfig& config, std::int64_t min_replicas, std::int64_t max_replicas)
    : config_(config), plus_(config.preset != "lstm-ppo"), min_replicas_(min_replicas) {
  if (config_.preset != "lstm-ppo-plus" && config_.preset != "lstm-ppo" && config_.preset != "ppo") {
    throw InputError("rl env: preset \"" + config_.preset + "\" is not one of lstm-ppo-plus, lstm-ppo, ppo.");
  }
  const auto min = static_cast<double>(min_replicas);
  const auto max = static_cast<double>(max_replicas);
  low_ = {0, 0, 0, min, 0, 0};
  high_ = {60, 100, plus_ ? 100.0 : 2000.0, max, 2, 2};
  if (plus_) {
    low_.push_back(0);
    high_.push_back(2000);
  }
}

SimEnv::SimEnv(const Scenario& scenario, const EnvConfig& config)
    : scenario_(scenario), config_(config), preset_(config, scenario.platform.min_replicas, scenario.platform.max_replicas) {
  if (config_.reset_mode != "continue" && config_.reset_mode != "restart") {
    throw InputError("rl env: reset_mode \"" + config_.reset_mode + "\" is not continue or restart.");
  }
  if (scenario_.platform.kind != "openfaas") throw InputError("rl env: needs an openfaas platform.");
}

ActionMask SimEnv::valid_actions() const {
  if (!sim_) throw std::logic_error("rl env: valid_actions() before reset()");
  return rl::valid_actions(sim_->view().ready, scenario_.platform.min_replicas, scenario_.platform.max_replicas);
}

Observation Preset::observe(const WindowMetrics& w) const {
  Observation o;
  const double execution = w.avg_execution_s();
  const auto ready = static_cast<double>(plus_ ? std::max<std::int64_t>(1, w.ready_replicas) : w.ready_replicas);
  // CPU: usage / request; seed_compat (LSTM-PPO+ and PPO): cores per replica / 100.
  const double cpu = plus_ && config_.seed_compat
                         ? w.cpu_core_seconds / w.length_s() / std::max(1.0, ready) / kCompatMillicores
                         : w.avg_cpu();
  o.values = {std::isnan(execution) ? 0.0 : execution,
              plus_ ? w.requests_per_s() : w.success_pct(),
              static_cast<double>(w.requests()),
              ready,
              cpu,
              w.avg_mem()};
  if (plus_) {
    const double p95 = w.gateway_p95_s();
    o.values.push_back(std::isnan(p95) ? kNoP95 : p95);
  }
  return o;
}

double Preset::reward(const Observation& o, std::int64_t requested) const {
  const auto& v = o.values;
  const double replicas = v[kReplicas];
  const bool mismatch = replicas != static_cast<double>(requested);
  if (!plus_) {
    const double thr = v[kThroughput];  // % of requests answered 200
    const double extra = replicas - static_cast<double>(min_replicas_);
    return 0.75 * thr * thr + 0.125 * (v[kCpu] * 100) + 0.125 * (v[kMemory] * 100) - 0.25 * extra * extra -
           (mismatch ? 100.0 : 0.0);
  }
  const double thr = v[kThroughput];  // requests per second
  const double latency_scale = config_.seed_compat ? kCompatLatencyScale : config_.latency_slo_s;
  const double target = std::max(std::ceil(v[kCpu] / kOptimalUtilisation * replicas),
                                 std::ceil(v[kMemory] / kOptimalUtilisation * replicas));
  const double total = 0.2 * thr * thr + resource_term(v[kCpu], 0.8) + resource_term(v[kMemory], 0.5) +
                       0.2 * (1 - std::min(1.0, v[kP95] / latency_scale)) - 0.1 * std::abs(replicas - target) -
                       (mismatch ? 0.5 : 0.0);
  return std::round(total * 1000) / 1000;
}

void SimEnv::start_simulation(std::uint64_t seed) {
  Scenario s = scenario_;
  s.seed = seed;
  const bool random_offset = config_.reset_mode == "restart" || config_.random_start;
  if (random_offset) {
    if (s.trace.requests) throw InputError("rl env: restart mode and random_start need a counts or poisson trace.");
    if (s.trace.counts) {
      // Start at a random window of the trace, which then wraps around.
      Rng pick(seed, Stream::policy);
      auto counts = *s.trace.counts;
      std::rotate(counts.begin(), counts.begin() + static_cast<std::ptrdiff_t>(pick.below(counts.size())), counts.end());
      s.trace.counts = std::make_shared<const std::vector<std::int64_t>>(std::move(counts));
    }
  }
  sim_ = std::make_unique<OpenFaasSimulator>(s, nullptr);
  sim_->set_desired_replicas(s.platform.initial_replicas);
  const double interval = s.control_interval_s;
  const double warmup = random_offset ? std::ceil(config_.warmup_s / interval) * interval : 0.0;
  sim_->run_until(warmup + interval);
  last_ = preset_.observe(*sim_->last_window());
}

Observation SimEnv::reset(std::uint64_t seed) {
  if (!sim_ || config_.reset_mode == "restart") start_simulation(seed);
  valid_steps_ = 0;
  invalid_actions_ = 0;
  return last_;
}

StepResult SimEnv::step(int action) {
  if (!sim_) throw std::logic_error("rl env: step() before reset()");
  if (action < 0 || action >= kActions) throw std::out_of_range("rl env: action outside 0..4");
  StepResult r;
  const std::int64_t scale_value = sim_->view().ready + (action - 2);
  if (scale_value < scenario_.platform.min_replicas || scale_value > scenario_.platform.max_replicas) {
    r.valid = false;
    r.observation = last_;
    r.reward = kInvalidActionReward;
    r.terminated = ++invalid_actions_ >= kEpisodeInvalidActions;
    return r;
  }
  sim_->set_desired_replicas(scale_value);
  sim_->run_until(sim_->now() + scenario_.control_interval_s);
  r.observation = last_ = preset_.observe(*sim_->last_window());
  r.reward = preset_.reward(r.observation, scale_value);
  r.truncated = ++valid_steps_ >= kEpisodeValidSteps;
  return r;
}

}  // namespace faascale::rl
