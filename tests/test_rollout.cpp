// One test per bug class of recurrent PPO that real libraries shipped (reference facts
// section 8), on the torch-free rollout core: advantages never cross episode or
// environment boundaries, truncation bootstraps and termination does not, sequences start
// at episode starts (zero state) and never span two episodes, minibatches keep whole
// sequences, and padding is masked.
#include <doctest/doctest.h>

#include <set>

#include "rl/rollout.hpp"

namespace faascale::rl {
namespace {

GaeInput one_env(std::vector<double> rewards, std::vector<double> values, double last_value) {
  GaeInput in;
  in.shape = {rewards.size(), 1};
  in.rewards = std::move(rewards);
  in.values = std::move(values);
  in.terminated.assign(in.shape.size(), false);
  in.truncated.assign(in.shape.size(), false);
  in.final_values.assign(in.shape.size(), 0.0);
  in.last_values = {last_value};
  return in;
}

}  // namespace

TEST_CASE("GAE by hand within one episode, bootstrapping from the value after the rollout") {
  const double g = 0.99, l = 0.95;
  const GaeOutput out = compute_gae(one_env({1, 2, 3}, {0.5, 0.4, 0.3}, 0.2));
  const double d2 = 3 + g * 0.2 - 0.3, d1 = 2 + g * 0.3 - 0.4, d0 = 1 + g * 0.4 - 0.5;
  CHECK(out.advantages[2] == doctest::Approx(d2));
  CHECK(out.advantages[1] == doctest::Approx(d1 + g * l * d2));
  CHECK(out.advantages[0] == doctest::Approx(d0 + g * l * (d1 + g * l * d2)));
  CHECK(out.returns[0] == doctest::Approx(out.advantages[0] + 0.5));
}

TEST_CASE("termination does not bootstrap, and nothing flows back from the next episode") {
  GaeInput in = one_env({1, 2, 3}, {0.5, 0.4, 0.3}, 0.2);
  in.terminated[1] = true;
  const GaeOutput out = compute_gae(in);
  CHECK(out.advantages[1] == doctest::Approx(2 - 0.4));
  CHECK(out.advantages[0] == doctest::Approx(1 + 0.99 * 0.4 - 0.5 + 0.99 * 0.95 * (2 - 0.4)));
  CHECK(out.advantages[2] == doctest::Approx(3 + 0.99 * 0.2 - 0.3));  // the new episode
}

TEST_CASE("truncation bootstraps from the value of the final observation") {
  GaeInput in = one_env({1, 2, 3}, {0.5, 0.4, 0.3}, 0.2);
  in.truncated[1] = true;
  in.final_values[1] = 7.0;
  const GaeOutput out = compute_gae(in);
  CHECK(out.advantages[1] == doctest::Approx(2 + 0.99 * 7.0 - 0.4));  // not V(o_2) = 0.3, not 0
}

TEST_CASE("no leakage across environments") {
  GaeInput in;
  in.shape = {3, 2};
  in.rewards = {1, 10, 2, 20, 3, 30};
  in.values = {0.5, 5, 0.4, 4, 0.3, 3};
  in.terminated.assign(6, false);
  in.truncated.assign(6, false);
  in.final_values.assign(6, 0);
  in.last_values = {0.2, 2};
  const GaeOutput both = compute_gae(in);
  const GaeOutput alone = compute_gae(one_env({1, 2, 3}, {0.5, 0.4, 0.3}, 0.2));
  for (std::size_t t = 0; t < 3; ++t) CHECK(both.advantages[in.shape.at(t, 0)] == doctest::Approx(alone.advantages[t]));
}

TEST_CASE("sequences start at episode starts, never span two episodes, and cover every step once") {
  const RolloutShape shape{7, 2};
  std::vector<bool> starts(shape.size(), false);
  starts[shape.at(0, 0)] = true;   // env 0 was just reset
  starts[shape.at(3, 0)] = true;   // and a new episode at t = 3
  starts[shape.at(5, 1)] = true;   // env 1 continues an episode, then a new one at t = 5
  const auto seqs = split_sequences(shape, starts, 3);
  std::multiset<std::size_t> covered;
  for (const Sequence& s : seqs) {
    CAPTURE(s.env);
    CAPTURE(s.start);
    CHECK(s.length >= 1);
    CHECK(s.length <= 3);
    CHECK(s.episode_start == starts[shape.at(s.start, s.env)]);
    for (std::size_t t = s.start + 1; t < s.start + s.length; ++t) CHECK_FALSE(starts[shape.at(t, s.env)]);
    for (std::size_t t = s.start; t < s.start + s.length; ++t) covered.insert(shape.at(t, s.env));
  }
  CHECK(covered.size() == shape.size());
  CHECK(std::set<std::size_t>(covered.begin(), covered.end()).size() == shape.size());
  // env 1 begins mid-episode: its first sequence must use the stored state, not a zero one.
  bool found = false;
  for (const Sequence& s : seqs) {
    if (s.env == 1 && s.start == 0) {
      found = true;
      CHECK_FALSE(s.episode_start);
    }
  }
  CHECK(found);
}

TEST_CASE("minibatches shuffle whole sequences, pad with a mask, and are seeded") {
  const RolloutShape shape{16, 4};
  std::vector<bool> starts(shape.size(), false);
  for (std::size_t n = 0; n < 4; ++n) starts[shape.at(0, n)] = true;
  starts[shape.at(6, 2)] = true;
  const auto seqs = split_sequences(shape, starts, 5);
  Rng a(3, Stream::policy), b(3, Stream::policy), c(4, Stream::policy);
  const auto batches = make_minibatches(shape, seqs, 12, a);
  std::set<std::int64_t> seen;
  for (const Minibatch& m : batches) {
    const std::size_t width = m.sequences.size();
    CHECK(m.steps() <= std::max<std::size_t>(12, m.max_length));
    for (std::size_t k = 0; k < width; ++k) {
      const Sequence& s = m.sequences[k];
      for (std::size_t l = 0; l < m.max_length; ++l) {
        const std::int64_t i = m.index[l * width + k];
        if (l < s.length) {
          CHECK(i == static_cast<std::int64_t>(shape.at(s.start + l, s.env)));  // consecutive steps, in order
          CHECK(m.mask[l * width + k] == 1.0f);
          CHECK(seen.insert(i).second);
        } else {
          CHECK(i == -1);
          CHECK(m.mask[l * width + k] == 0.0f);
        }
      }
    }
  }
  CHECK(seen.size() == shape.size());
  const auto again = make_minibatches(shape, seqs, 12, b);
  const auto other = make_minibatches(shape, seqs, 12, c);
  CHECK(again.front().index == batches.front().index);
  CHECK(other.front().index != batches.front().index);
}

TEST_CASE("padding never enters a mean") {
  CHECK(masked_mean({1, 2, 100, 100}, {1, 1, 0, 0}) == doctest::Approx(1.5));
  CHECK(masked_mean({5}, {0}) == 0.0);
}

}  // namespace faascale::rl
