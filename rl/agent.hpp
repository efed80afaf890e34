// The RL agents (PPO, LSTM-PPO, LSTM-PPO+) as seen from outside rl/: their configuration,
// training, and deployment as a Policy. No libtorch in this header (rl/actor_critic.hpp
// and the .cpp files hold it), so simrun, tests and the sim/ library compile without it.
//
// Agent kinds and their defaults (reference facts section 1; every value settable through
// "train": {"hyperparameters": {...}}):
//   lstm-ppo-plus  MLP [64,64] ReLU -> LSTM 256 -> linear actor and critic heads;
//                  lr 3e-4, gamma 0.99, lambda 0.95, clip 0.2, vf 0.5, entropy 0.01,
//                  grad norm 0.5, rollout 2000 steps, minibatch 128, 1 epoch
//   lstm-ppo       LSTM 256 for the actor and another for the critic (the recurrent PPO
//                  library's default), each followed by MLP [64,64] tanh; entropy 0,
//                  rollout 128, minibatch 128, 10 epochs
//   ppo            shared MLP [64,64] tanh -> actor and critic; entropy 0, rollout 2000,
//                  minibatch 64, 10 epochs
// Step counts (total_steps, rollout_steps) count environment steps over all envs together.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "rl/env.hpp"
#include "sim/json_reader.hpp"
#include "sim/scenario.hpp"
#include "sim/trace.hpp"

namespace faascale::rl {

struct AgentConfig {
  std::string kind = "lstm-ppo-plus";
  // Network.
  std::vector<std::int64_t> torso;  // MLP layers applied to the observation first
  std::int64_t lstm_hidden = 0;     // LSTM size after the torso; 0: no LSTM
  bool critic_lstm = false;         // the critic has its own LSTM (else it shares the actor's)
  std::vector<std::int64_t> heads;  // MLP layers of the actor and of the critic, each its own
  std::string activation = "relu";  // "relu" | "tanh"
  // PPO.
  double learning_rate = 3e-4;
  double gamma = 0.99, gae_lambda = 0.95;
  double clip_range = 0.2, vf_coef = 0.5, ent_coef = 0.0, max_grad_norm = 0.5;
  std::int64_t rollout_steps = 2000;   // env steps per update, all envs together
  std::int64_t minibatch_steps = 128;  // real (unpadded) steps per minibatch
  std::int64_t epochs = 10;
  std::int64_t sequence_length = 32;   // longest sequence the LSTM is re-run over in the update
  bool normalize_advantages = true;    // per minibatch, over the unpadded steps
  // Divide rewards by the running standard deviation of the discounted return before GAE
  // (not in the research code's table: without it the value loss of these reward scales
  // swamps the clipped gradient and the recurrent agents do not learn; docs/training.md).
  bool normalize_rewards = true;
  bool mask_invalid_actions = false;   // training: never sample an action leaving [min, max]

  bool recurrent() const { return lstm_hidden > 0; }
  static AgentConfig defaults(const std::string& kind);  // kind: lstm-ppo-plus | lstm-ppo | ppo
};

struct TrainConfig {
  AgentConfig agent;
  EnvConfig env;
  std::int64_t total_steps = 100000;
  std::int64_t num_envs = 16;
  std::string checkpoint_dir;              // empty: the run's output folder
  std::int64_t eval_every_steps = 10000;   // and always after the last update
  std::optional<TraceSpec> eval_trace;     // the held-out slice; none: the training trace
  std::int64_t threads = 1;                // torch intra-op threads (BLAS is kept at 1)
};

// Reads an agent's kind and hyperparameters, as a checkpoint's metadata stores them
// (agent_config_to_json), with the same checks as a "train" object's.
AgentConfig read_agent_config(JsonReader reader);

// Reads a scenario's "train" object; `file` and `base_dir` are the scenario's. Throws
// InputError naming the JSON path.
TrainConfig read_train_config(const nlohmann::json& train, const std::string& file, const std::string& base_dir,
                              nlohmann::json& resolved);

// A scenario with a "train" object: the platform and training trace, and how to train.
// The environment sets the replicas itself, so such a scenario needs no "autoscaler".
struct TrainingScenario {
  Scenario scenario;
  TrainConfig config;
  nlohmann::json resolved_train;  // the "train" object with every default made explicit
};
TrainingScenario read_training_scenario(nlohmann::json doc, const std::string& file);

// In continue mode each env runs on through the trace: refuses (InputError) a trace that
// ends before total_steps / num_envs steps, where there would be no load to learn from.
void check_training_trace(const Scenario& scenario, const TrainConfig& config);

// One evaluation run over a scenario's whole trace, through the environment.
struct Evaluation {
  std::int64_t steps = 0;
  double mean_reward = 0;        // per step
  double latency_p95_s = 0;      // client-side P95 over the run (NaN without completions)
  double success_ratio = 0;
  double replica_seconds = 0;
  double mean_replicas = 0;
  std::int64_t invalid_actions = 0;
  std::vector<std::int64_t> replicas;  // ready replicas observed after each step (not in to_json())
  nlohmann::json to_json() const;
};

// Chooses an action from the raw observation and the valid actions; `episode_start` is
// true at the first step of each episode.
using Actor = std::function<int(const Observation& observation, const ActionMask& valid, bool episode_start)>;

// The deployed agent of a checkpoint as an Actor (greedy over the valid actions). Throws
// InputError naming the file.
Actor load_greedy_actor(const std::string& checkpoint);

// Runs `actor` over `scenario` (continue mode, seeded by the scenario) until its trace ends.
Evaluation evaluate(const Scenario& scenario, const EnvConfig& env, const Actor& actor);

// The baselines of a training run's final evaluation. Like the agent, each starts from the
// scenario's initial replicas and acts through the environment's actions, so every policy
// of an evaluation starts from the same platform and sees the same requests.
// Uniform over the valid actions, from its own stream seeded by `seed`.
Actor random_actor(std::uint64_t seed);
// Moves the ready replicas toward `replicas`, by at most 2 a step, then holds them.
Actor static_actor(std::int64_t replicas);

struct TrainProgress {
  std::int64_t env_steps = 0, total_steps = 0, updates = 0;
  double steps_per_s = 0, mean_episode_reward = 0, wall_s = 0;
  // max |probability ratio - 1| over the update's first minibatch, taken before any
  // optimiser step: the update re-ran the network exactly as the rollout did only if it is
  // ~0 (a health check of the recurrent state handling; tests/test_agents.cpp).
  double first_ratio_deviation = 0;
  std::optional<Evaluation> evaluation;  // when this update ended with one
};

struct TrainHooks {
  std::function<void(const TrainProgress&)> on_update;  // after every update
  std::function<bool()> stop_requested;                 // polled between steps
  // The shapes of every network call, for the benchmark that times the bare network on
  // the same shapes (bench/bench_train.cpp): a forward without gradients on `batch`
  // sequences of one step, and a training step on `batch` sequences of `length` steps.
  std::function<void(std::int64_t batch)> on_inference;
  std::function<void(std::int64_t length, std::int64_t batch)> on_minibatch;
};

// Raised when training stops on a NaN or infinite loss, gradient or action probability.
struct TrainingDiverged : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// Raised when stop_requested() said so; the last checkpoint stays for --resume.
struct TrainingStopped : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Trains on `scenario` (whose trace is the training data) and writes, in
// config.checkpoint_dir: last.pt (after every evaluation and at the end), best.pt (best
// evaluation mean reward) and learning_curve.csv. With `resume`, continues from
// last.pt exactly as an uninterrupted run would have. Returns the summary's "training"
// object (env_steps, env_steps_per_s, wall_s, final and baseline evaluations, ...).
nlohmann::json train(const Scenario& scenario, const TrainConfig& config, bool resume, const TrainHooks& hooks);

// Makes "agent" a kind of the scenario's "autoscaler":
//   {"kind": "agent", "checkpoint": PATH, "mask_invalid_actions": true}
// The trained network then decides every control interval, greedily, never leaving
// [min, max] unless masking is turned off (then an invalid choice keeps the replicas).
void register_agent_policy();

// Sets torch's and OpenBLAS's thread counts (OpenBLAS at 1: reference facts section 9)
// and returns a description for reports, e.g. "torch 1 thread(s), BLAS openblas 1 thread".
std::string configure_threads(std::int64_t torch_threads);

}  // namespace faascale::rl
