// Quantile estimators used by the simulator's metrics.
//
// QuantileSketch: whole-run percentiles in fixed memory (81 KiB). Log-linear buckets, as
//   HdrHistogram's: each power of two is split into kSubBuckets equal buckets, so a
//   bucket [lo, hi) has hi - lo <= lo / kSubBuckets, and answering with its midpoint is
//   within a relative error of 1 / (2 * kSubBuckets) = kRelativeError (0.39%) of every
//   value in it, hence of the exact nearest-rank quantile. The bucket is found from the
//   bits of the double, with no logarithm. Range [kMin, kMax] seconds; values outside it
//   are clamped (and so reported as the range's end).
// GatewayHistogram: the OpenFaaS gateway's gateway_functions_seconds buckets, and
//   histogram_quantile() over them with Prometheus' interpolation rules.
// nearest_rank_quantile: the exact quantile of a buffer (used per control window).
#pragma once

#include <array>
#include <cstdint>
#include <utility>
#include <vector>

namespace faascale {

class QuantileSketch {
 public:
  static constexpr int kSubBucketBits = 7;
  static constexpr int kSubBuckets = 1 << kSubBucketBits;
  static constexpr double kRelativeError = 0.5 / kSubBuckets;
  static constexpr double kMin = 0x1p-40;  // ~9.1e-13 s
  static constexpr double kMax = 0x1p+41;  // ~2.2e12 s: above the longest timeout allowed

  QuantileSketch();
  void add(double value);
  // Estimate of the nearest-rank q-quantile (q in (0, 1]); NaN when empty.
  double quantile(double q) const;

 private:
  std::vector<std::int64_t> buckets_;
  std::int64_t count_ = 0;
};

class GatewayHistogram {
 public:
  // Upper bounds (seconds) of the gateway's buckets; a last bucket +Inf follows them.
  static constexpr std::array<double, 11> kUpperBounds = {.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10};
  static constexpr std::size_t kBuckets = kUpperBounds.size() + 1;

  void add(double seconds);
  void clear() { counts_.fill(0); }
  // histogram_quantile(q, ...) as Prometheus computes it: NaN without observations; linear
  // interpolation inside the bucket holding rank q*count (from 0 for the first bucket);
  // the highest finite bound when the rank falls in +Inf.
  double quantile(double q) const;
  // Non-cumulative count of bucket i (i == kUpperBounds.size() is the +Inf bucket).
  std::int64_t bucket(std::size_t i) const { return counts_[i]; }

 private:
  std::array<std::int64_t, kBuckets> counts_{};
};

// The smallest value v of `values` such that at least ceil(q * n) values are <= v; NaN when
// empty. Reorders `values`.
double nearest_rank_quantile(std::vector<double>& values, double q);
// Both quantiles at once (q1 <= q2), the second found in the tail the first leaves.
std::pair<double, double> nearest_rank_quantiles(std::vector<double>& values, double q1, double q2);

}  // namespace faascale
