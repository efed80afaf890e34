// Implementation of rollout.hpp.
#include "rl/rollout.hpp"

#include <algorithm>
#include <stdexcept>

namespace faascale::rl {

GaeOutput compute_gae(const GaeInput& in) {
  const RolloutShape& s = in.shape;
  const std::size_t total = s.size();
  if (in.rewards.size() != total || in.values.size() != total || in.terminated.size() != total ||
      in.truncated.size() != total || in.final_values.size() != total || in.last_values.size() != s.envs) {
    throw std::invalid_argument("compute_gae: buffer sizes do not match the rollout shape");
  }
  GaeOutput out;
  out.advantages.assign(total, 0.0);
  out.returns.assign(total, 0.0);
  for (std::size_t n = 0; n < s.envs; ++n) {
    double next_advantage = 0;
    for (std::size_t t = s.steps; t-- > 0;) {
      const std::size_t i = s.at(t, n);
      const bool ended = in.terminated[i] || in.truncated[i];
      // The value of what follows step t within the same episode.
      double next_value;
      if (in.terminated[i]) {
        next_value = 0;
      } else if (in.truncated[i]) {
        next_value = in.final_values[i];
      } else {
        next_value = t + 1 < s.steps ? in.values[s.at(t + 1, n)] : in.last_values[n];
      }
      const double delta = in.rewards[i] + in.gamma * next_value - in.values[i];
      // An ended episode's advantage does not reach back from the next one.
      next_advantage = delta + (ended ? 0.0 : in.gamma * in.lambda * next_advantage);
      out.advantages[i] = next_advantage;
      out.returns[i] = next_advantage + in.values[i];
    }
  }
  return out;
}

std::vector<Sequence> split_sequences(const RolloutShape& shape, const std::vector<bool>& episode_start,
                                      std::size_t max_length) {
  if (episode_start.size() != shape.size() || max_length == 0) {
    throw std::invalid_argument("split_sequences: bad sizes");
  }
  std::vector<Sequence> out;
  for (std::size_t n = 0; n < shape.envs; ++n) {
    Sequence current{n, 0, 0, episode_start[shape.at(0, n)]};
    for (std::size_t t = 0; t < shape.steps; ++t) {
      const bool starts = episode_start[shape.at(t, n)];
      if (current.length > 0 && (starts || current.length == max_length)) {
        out.push_back(current);
        current = Sequence{n, t, 0, starts};
      }
      ++current.length;
    }
    if (current.length > 0) out.push_back(current);
  }
  return out;
}

std::size_t Minibatch::steps() const {
  std::size_t total = 0;
  for (const auto& s : sequences) total += s.length;
  return total;
}

std::vector<Minibatch> make_minibatches(const RolloutShape& shape, std::vector<Sequence> sequences,
                                        std::size_t steps_per_batch, Rng& rng) {
  // Fisher-Yates with our own draws, so the order is the same on every standard library.
  for (std::size_t i = sequences.size(); i > 1; --i) std::swap(sequences[i - 1], sequences[rng.below(i)]);
  std::vector<Minibatch> out;
  Minibatch current;
  std::size_t steps = 0;
  const auto flush = [&] {
    if (current.sequences.empty()) return;
    const std::size_t b = current.sequences.size();
    current.max_length = 0;
    for (const auto& s : current.sequences) current.max_length = std::max(current.max_length, s.length);
    current.index.assign(current.max_length * b, -1);
    current.mask.assign(current.max_length * b, 0.0f);
    for (std::size_t k = 0; k < b; ++k) {
      const Sequence& s = current.sequences[k];
      for (std::size_t l = 0; l < s.length; ++l) {
        current.index[l * b + k] = static_cast<std::int64_t>(shape.at(s.start + l, s.env));
        current.mask[l * b + k] = 1.0f;
      }
    }
    out.push_back(std::move(current));
    current = Minibatch{};
    steps = 0;
  };
  for (const Sequence& s : sequences) {
    if (steps > 0 && steps + s.length > steps_per_batch) flush();
    current.sequences.push_back(s);
    steps += s.length;
  }
  flush();
  return out;
}

double masked_mean(const std::vector<double>& values, const std::vector<float>& mask) {
  double sum = 0, weight = 0;
  for (std::size_t i = 0; i < values.size(); ++i) {
    sum += values[i] * mask[i];
    weight += mask[i];
  }
  return weight > 0 ? sum / weight : 0.0;
}

}  // namespace faascale::rl
