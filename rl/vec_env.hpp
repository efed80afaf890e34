// N environments stepped together, for one batched network call per step.
//
// Auto-reset: when an environment's episode ends (terminated or truncated), step() keeps
// its last observation in final_observations (to bootstrap from, on a truncation) and
// resets it at once; observations then holds the new episode's first observation. The
// k-th reset of environment i uses seed + 1000003 * i + k, so runs are deterministic.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "rl/env.hpp"

namespace faascale::rl {

struct VecStep {
  std::vector<Observation> observations;        // after any auto-reset
  std::vector<double> rewards;
  std::vector<bool> terminated, truncated;
  std::vector<Observation> final_observations;  // the ending episode's last, where one ended
};

class VecEnv {
 public:
  explicit VecEnv(std::vector<std::unique_ptr<Env>> envs);
  std::vector<Observation> reset(std::uint64_t seed);
  VecStep step(const std::vector<int>& actions);
  std::size_t size() const { return envs_.size(); }
  Env& env(std::size_t i) { return *envs_[i]; }

 private:
  std::vector<std::unique_ptr<Env>> envs_;
  std::vector<std::uint64_t> resets_;
  std::uint64_t seed_ = 0;
};

}  // namespace faascale::rl
