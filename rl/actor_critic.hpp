// The agents' network and checkpoint files, on libtorch. Included only by rl/'s torch
// translation units (rl/actor_critic.cpp, rl/ppo.cpp) and the training benchmark.
//
// ActorCritic (shapes time-major: L steps, B sequences):
//   obs [L, B, O] -> torso MLP -> LSTM (from `state`) -> actor MLP -> logits [L, B, 5]
//                                 (critic LSTM)       -> critic MLP -> values [L, B]
// The recurrent state is one [B, S] tensor (h and c of each LSTM side by side), so
// rollouts can store it per step and the update can start each sequence from it.
// Initialisation: orthogonal, gain sqrt(2) for hidden layers, 0.01 for the actor's output,
// 1 for the critic's; LSTM weights orthogonal; biases zero (reference facts section 8).
//
// Checkpoint file: a line "faascale-agent-1 DIGEST" (of all the bytes after it), then a
// torch archive: "meta" (JSON text: format, agent and env config, observation size,
// replica bounds, control interval, training counters), "model", "optimizer" (when saved
// from training) and named training tensors. Everything read back is checked
// (read_checkpoint_meta, load_checkpoint).
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "rl/agent.hpp"

namespace faascale::rl {

struct ActorCriticOutput {
  torch::Tensor logits;  // [L, B, kActions]
  torch::Tensor values;  // [L, B]
  torch::Tensor state;   // [B, S] after the last step
};

class ActorCriticImpl : public torch::nn::Module {
 public:
  ActorCriticImpl(const AgentConfig& config, std::int64_t observation_size);
  ActorCriticOutput forward(const torch::Tensor& observations, const torch::Tensor& state);
  std::int64_t state_size() const;  // S; 0 without an LSTM
  torch::Tensor initial_state(std::int64_t batch) const { return torch::zeros({batch, state_size()}); }

 private:
  torch::Tensor mlp(torch::nn::ModuleList& layers, torch::Tensor x) const;
  torch::Tensor recur(torch::nn::LSTM& lstm, const torch::Tensor& x, const torch::Tensor& state_part,
                      std::vector<torch::Tensor>& next_state) const;

  AgentConfig config_;
  torch::nn::ModuleList torso_, actor_mlp_, critic_mlp_;
  torch::nn::LSTM actor_lstm_{nullptr}, critic_lstm_{nullptr};
  torch::nn::Linear actor_out_{nullptr}, critic_out_{nullptr};
};
TORCH_MODULE(ActorCritic);

// Replaces the logits of invalid actions ([..., kActions] with a bool mask of the same
// shape) by a large negative number, so they get probability 0 but stay finite.
torch::Tensor mask_logits(const torch::Tensor& logits, const torch::Tensor& valid);

// Thrown when the network's output is NaN or infinite.
struct NonFiniteOutput : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Acts as a deployed agent: greedy on the network's logits over the valid actions (or
// over all, without masking), the recurrent state zeroed at every episode start.
class GreedyActor {
 public:
  GreedyActor(ActorCritic net, Preset preset, bool mask_invalid);
  int act(const Observation& observation, const ActionMask& valid, bool episode_start);

 private:
  ActorCritic net_;
  Preset preset_;
  bool mask_invalid_;
  torch::Tensor state_;
};

struct Checkpoint {
  nlohmann::json meta;
  std::map<std::string, torch::Tensor> tensors;  // training state (empty for deployment)
};

// Writes atomically (a temporary file renamed over `path`).
void save_checkpoint(const std::string& path, const nlohmann::json& meta, ActorCritic& net,
                     torch::optim::Optimizer* optimizer, const std::map<std::string, torch::Tensor>& tensors);
// Reads `path` into `net` (built from the checkpoint's meta by the caller through
// read_checkpoint_meta()) and, when given, `optimizer`. Throws InputError naming the file,
// also when a stored tensor's shape is not the network's.
Checkpoint load_checkpoint(const std::string& path, ActorCritic& net, torch::optim::Optimizer* optimizer,
                           const std::vector<std::string>& tensor_names);

// What a checkpoint's network and observations were built from, checked as strictly as a
// scenario (a damaged or another version's record is refused, naming the file and key).
struct CheckpointMeta {
  AgentConfig agent;
  EnvConfig env;
  std::int64_t observation_size = 0, min_replicas = 0, max_replicas = 0;
  double control_interval_s = 0;
  nlohmann::json record;  // all of it, the training state included
};
CheckpointMeta read_checkpoint_meta(const std::string& path);

// The agent config as a checkpoint's meta stores it (read back by read_agent_config()).
nlohmann::json agent_config_to_json(const AgentConfig& config);

}  // namespace faascale::rl
