// The torch-free core of (recurrent) PPO's rollout handling, where the bugs that real
// libraries shipped live (reference facts section 8):
//   compute_gae()      advantages and returns per environment, never across an episode
//                      or environment boundary; a truncated episode bootstraps from the
//                      value of its final observation, a terminated one does not.
//   split_sequences()  cuts each environment's trajectory into sequences that start at
//                      episode starts (zero recurrent state) or continue one (the stored
//                      state at their first step), never spanning two episodes.
//   make_minibatches() shuffles whole sequences (never steps inside them) into padded
//                      time-major minibatches with a mask, so losses and statistics can
//                      ignore the padding.
// Buffers are time-major: element [t][n] is at t * envs + n.
#pragma once

#include <cstdint>
#include <vector>

#include "sim/random.hpp"

namespace faascale::rl {

struct RolloutShape {
  std::size_t steps = 0;  // T
  std::size_t envs = 0;   // N
  std::size_t at(std::size_t t, std::size_t n) const { return t * envs + n; }
  std::size_t size() const { return steps * envs; }
};

struct GaeInput {
  RolloutShape shape;
  std::vector<double> rewards;       // r_t
  std::vector<double> values;        // V(o_t)
  std::vector<bool> terminated;      // the episode ended at t: no bootstrap
  std::vector<bool> truncated;       // the episode was cut at t: bootstrap from final_values
  std::vector<double> final_values;  // V(final observation) where truncated
  std::vector<double> last_values;   // V(o_T) per env: bootstrap for unfinished episodes
  double gamma = 0.99, lambda = 0.95;
};

struct GaeOutput {
  std::vector<double> advantages, returns;
};

GaeOutput compute_gae(const GaeInput& in);

struct Sequence {
  std::size_t env = 0, start = 0, length = 0;
  bool episode_start = false;  // true: start from a zero state; false: the stored state at `start`
};

// `episode_start[at(t, n)]` is true where step t is the first of an episode (t = 0 of a
// rollout is an episode start only if the environment was just reset).
std::vector<Sequence> split_sequences(const RolloutShape& shape, const std::vector<bool>& episode_start,
                                      std::size_t max_length);

struct Minibatch {
  std::vector<Sequence> sequences;  // B of them
  std::size_t max_length = 0;       // L
  // [l][b] (time-major, l * B + b): the rollout element, or -1 for padding; and the mask.
  std::vector<std::int64_t> index;
  std::vector<float> mask;
  std::size_t steps() const;  // real (unpadded) steps
};

// Shuffles sequences with `rng` and packs them, in that order, into minibatches of at
// most `steps_per_batch` real steps each (a sequence longer than that forms its own).
std::vector<Minibatch> make_minibatches(const RolloutShape& shape, std::vector<Sequence> sequences,
                                        std::size_t steps_per_batch, Rng& rng);

// Mean of `values` over the unmasked entries.
double masked_mean(const std::vector<double>& values, const std::vector<float>& mask);

}  // namespace faascale::rl
