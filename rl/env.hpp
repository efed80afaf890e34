// The RL environment interface and the simulator environment (issue 5's first part; no
// libtorch here). Gymnasium semantics: reset(seed) -> observation; step(action) ->
// observation, reward, terminated, truncated. The control loop, actions, observations,
// rewards and episode rules are the research code's (reference facts section 1):
//
//   action      Discrete(5): index 0..4 -> replica delta -2..+2 on the ready replicas
//   invalid     ready + delta outside [min_replicas, max_replicas]: nothing is scaled,
//               no time passes, reward -100, the previous observation again
//   episode     truncated after 10 valid steps (bootstrap from the last observation);
//               terminated after 10 invalid actions in the episode
//   step        set desired replicas, run the platform one control interval (30 s),
//               observe the window that just closed
//
// Presets of observation and reward (EnvConfig::preset):
//   "lstm-ppo-plus"  7 values (P95 included), Gaussian utilisation reward
//   "ppo"            as lstm-ppo-plus
//   "lstm-ppo"       6 values, linear reward, requests bounded by 2000
// Each in two variants: the corrected default (CPU as cores used / cores requested, P95
// in seconds over latency_slo_s) and seed_compat (the published evaluation formulas to
// the letter: CPU cores divided by 100 "millicores", P95 seconds divided by 200 as if
// milliseconds). docs/env.md lists every formula.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/openfaas_simulator.hpp"
#include "sim/scenario.hpp"

namespace faascale::rl {

constexpr int kActions = 5;                   // replica deltas -2..+2
constexpr int kEpisodeValidSteps = 10;        // truncation
constexpr int kEpisodeInvalidActions = 10;    // termination
constexpr double kInvalidActionReward = -100;

struct Observation {
  std::vector<double> values;  // raw, in the units of the live queries
};

struct StepResult {
  Observation observation;
  double reward = 0;
  bool terminated = false;  // 10 invalid actions: do not bootstrap
  bool truncated = false;   // 10 valid steps: bootstrap from observation
  bool valid = true;        // the action was applied
};

// What every environment offers, simulated or live.
class Env {
 public:
  virtual ~Env() = default;
  virtual Observation reset(std::uint64_t seed) = 0;
  virtual StepResult step(int action) = 0;
  virtual std::size_t observation_size() const = 0;
  // Bounds of each observation value (the research code's observation space).
  virtual const std::vector<double>& low() const = 0;
  virtual const std::vector<double>& high() const = 0;
  // values scaled to [0, 1] by the bounds (clipped), for the network.
  std::vector<double> normalise(const Observation& o) const;
};

struct EnvConfig {
  std::string preset = "lstm-ppo-plus";  // "lstm-ppo-plus" | "lstm-ppo" | "ppo"
  bool seed_compat = false;
  double latency_slo_s = 1.0;            // corrected P95 normaliser
  // How reset() treats the platform: "continue" keeps the running simulation, as an
  // episode boundary on the live cluster does (default); "restart" starts a new one at a
  // random (seeded) trace offset, after warmup_s of running at the scenario's initial
  // replicas.
  std::string reset_mode = "continue";
  double warmup_s = 300;
};

class SimEnv final : public Env {
 public:
  SimEnv(const Scenario& scenario, const EnvConfig& config);
  Observation reset(std::uint64_t seed) override;
  StepResult step(int action) override;
  std::size_t observation_size() const override { return low_.size(); }
  const std::vector<double>& low() const override { return low_; }
  const std::vector<double>& high() const override { return high_; }

  // The observation and reward formulas alone, for tests and for the live adapter.
  Observation observe(const WindowMetrics& w) const;
  double reward(const Observation& o, std::int64_t requested_replicas) const;

 private:
  void start_simulation(std::uint64_t seed);

  Scenario scenario_;
  EnvConfig config_;
  bool plus_;  // lstm-ppo-plus or ppo observation and reward
  std::vector<double> low_, high_;
  std::unique_ptr<OpenFaasSimulator> sim_;
  Observation last_;
  int valid_steps_ = 0, invalid_actions_ = 0;
};

}  // namespace faascale::rl
