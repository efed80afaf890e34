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

#include "sim/json_reader.hpp"
#include "sim/openfaas_simulator.hpp"
#include "sim/scenario.hpp"

namespace faascale::rl {

constexpr int kActions = 5;                   // replica deltas -2..+2
constexpr int kEpisodeValidSteps = 10;        // truncation
constexpr int kEpisodeInvalidActions = 10;    // termination
constexpr double kInvalidActionReward = -100;
constexpr std::size_t kReplicasObservation = 3;  // index of the ready replicas in every preset's observation

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

using ActionMask = std::array<bool, kActions>;

// The actions whose scale_value (ready + delta) stays within [min, max].
ActionMask valid_actions(std::int64_t ready, std::int64_t min_replicas, std::int64_t max_replicas);

// Observation values scaled to [0, 1] by the bounds (clipped), for the network.
std::vector<double> normalise(const Observation& o, const std::vector<double>& low, const std::vector<double>& high);

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
  // The actions step() would apply now (the others are invalid).
  virtual ActionMask valid_actions() const = 0;
  std::vector<double> normalise(const Observation& o) const { return rl::normalise(o, low(), high()); }
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
  // "continue" only: the first reset also starts at a random (seeded) trace offset after
  // warmup_s, so that the envs of a VecEnv see different hours of the trace at once.
  bool random_start = false;
};

// Reads an "env" object ($.train.env): preset, seed_compat, latency_slo_s, reset_mode,
// warmup_s, random_start; throws InputError naming the JSON path.
EnvConfig read_env_config(JsonReader reader);

// A preset's observation and reward formulas alone, shared by SimEnv, the deployed agent
// (which observes a window as the environment did in training) and the live adapter.
class Preset {
 public:
  Preset(const EnvConfig& config, std::int64_t min_replicas, std::int64_t max_replicas);
  Observation observe(const WindowMetrics& w) const;
  double reward(const Observation& o, std::int64_t requested_replicas) const;
  const std::vector<double>& low() const { return low_; }
  const std::vector<double>& high() const { return high_; }

 private:
  EnvConfig config_;
  bool plus_;  // lstm-ppo-plus or ppo observation and reward
  std::int64_t min_replicas_;
  std::vector<double> low_, high_;
};

class SimEnv final : public Env {
 public:
  SimEnv(const Scenario& scenario, const EnvConfig& config);
  Observation reset(std::uint64_t seed) override;
  StepResult step(int action) override;
  std::size_t observation_size() const override { return preset_.low().size(); }
  const std::vector<double>& low() const override { return preset_.low(); }
  const std::vector<double>& high() const override { return preset_.high(); }
  ActionMask valid_actions() const override;

  const Preset& preset() const { return preset_; }
  // The running simulation (after reset()), for whole-run metrics.
  const OpenFaasSimulator& simulation() const { return *sim_; }

 private:
  void start_simulation(std::uint64_t seed);

  Scenario scenario_;
  EnvConfig config_;
  Preset preset_;
  std::unique_ptr<OpenFaasSimulator> sim_;
  Observation last_;
  int valid_steps_ = 0, invalid_actions_ = 0;
};

}  // namespace faascale::rl
