// Implementation of vec_env.hpp.
#include "rl/vec_env.hpp"

#include <stdexcept>

namespace faascale::rl {

VecEnv::VecEnv(std::vector<std::unique_ptr<Env>> envs) : envs_(std::move(envs)), resets_(envs_.size(), 0) {
  if (envs_.empty()) throw std::invalid_argument("VecEnv: no environments");
}

std::vector<Observation> VecEnv::reset(std::uint64_t seed) {
  seed_ = seed;
  std::vector<Observation> out;
  for (std::size_t i = 0; i < envs_.size(); ++i) {
    resets_[i] = 0;
    out.push_back(envs_[i]->reset(seed_ + 1000003 * i + resets_[i]++));
  }
  return out;
}

VecStep VecEnv::step(const std::vector<int>& actions) {
  if (actions.size() != envs_.size()) throw std::invalid_argument("VecEnv: one action per environment");
  VecStep out;
  const std::size_t n = envs_.size();
  out.observations.resize(n);
  out.rewards.resize(n);
  out.terminated.resize(n);
  out.truncated.resize(n);
  out.final_observations.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    StepResult r = envs_[i]->step(actions[i]);
    out.rewards[i] = r.reward;
    out.terminated[i] = r.terminated;
    out.truncated[i] = r.truncated;
    if (r.terminated || r.truncated) {
      out.final_observations[i] = std::move(r.observation);
      out.observations[i] = envs_[i]->reset(seed_ + 1000003 * i + resets_[i]++);
    } else {
      out.observations[i] = std::move(r.observation);
    }
  }
  return out;
}

}  // namespace faascale::rl
