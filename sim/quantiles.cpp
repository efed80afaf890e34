// Implementation of quantiles.hpp.
#include "sim/quantiles.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

namespace faascale {
namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
}

namespace {

constexpr int kMantissaBits = 52;
constexpr int kMinExponent = -40;  // kMin = 2^kMinExponent
constexpr int kOctaves = 41 - kMinExponent;

// Bucket of a value in [kMin, kMax): its octave (power of two) and the top kSubBucketBits
// bits of its mantissa.
std::size_t bucket_of(double value) {
  const auto bits = std::bit_cast<std::uint64_t>(value);
  const auto exponent = static_cast<int>((bits >> kMantissaBits) & 0x7ff) - 1023;
  const auto sub = (bits >> (kMantissaBits - QuantileSketch::kSubBucketBits)) & (QuantileSketch::kSubBuckets - 1);
  return static_cast<std::size_t>(exponent - kMinExponent) * QuantileSketch::kSubBuckets + sub;
}

}  // namespace

QuantileSketch::QuantileSketch() : buckets_(static_cast<std::size_t>(kOctaves) * kSubBuckets, 0) {}

void QuantileSketch::add(double value) {
  // std::nextafter keeps kMax itself inside the last bucket.
  ++buckets_[bucket_of(std::clamp(value, kMin, std::nextafter(kMax, 0.0)))];
  ++count_;
}

double QuantileSketch::quantile(double q) const {
  if (count_ == 0) return kNaN;
  const auto rank = static_cast<std::int64_t>(std::max(1.0, std::ceil(q * static_cast<double>(count_))));
  std::int64_t seen = 0;
  for (std::size_t i = 0; i < buckets_.size(); ++i) {
    seen += buckets_[i];
    if (seen >= rank) {
      const auto octave = static_cast<int>(i / kSubBuckets);
      const auto sub = static_cast<double>(i % kSubBuckets);
      const double low = std::ldexp(1.0 + sub / kSubBuckets, kMinExponent + octave);
      const double width = std::ldexp(1.0 / kSubBuckets, kMinExponent + octave);
      return low + 0.5 * width;
    }
  }
  return kMax;
}

void GatewayHistogram::add(double seconds) {
  // Prometheus buckets are inclusive of their upper bound ("le"): the bucket's index is the
  // number of bounds below the value (counted without branches).
  std::size_t index = 0;
  for (double bound : kUpperBounds) index += bound < seconds;
  ++counts_[index];
}

double GatewayHistogram::quantile(double q) const {
  std::int64_t total = 0;
  for (auto c : counts_) total += c;
  if (total == 0 || std::isnan(q)) return kNaN;
  if (q < 0) return -std::numeric_limits<double>::infinity();
  if (q > 1) return std::numeric_limits<double>::infinity();
  const double rank = q * static_cast<double>(total);
  std::int64_t below = 0;
  for (std::size_t i = 0; i < kBuckets; ++i) {
    const std::int64_t cumulative = below + counts_[i];
    if (static_cast<double>(cumulative) >= rank) {
      if (i == kUpperBounds.size()) return kUpperBounds.back();
      const double lower = i == 0 ? 0.0 : kUpperBounds[i - 1];
      const double upper = kUpperBounds[i];
      if (counts_[i] == 0) return upper;  // only reachable for rank 0
      return lower + (upper - lower) * (rank - static_cast<double>(below)) / static_cast<double>(counts_[i]);
    }
    below = cumulative;
  }
  return kUpperBounds.back();
}

namespace {

// 0-based position of the nearest-rank q-quantile among n > 0 sorted values.
std::size_t rank_position(std::size_t n, double q) {
  const auto rank = static_cast<std::size_t>(std::max(1.0, std::ceil(q * static_cast<double>(n))));
  return std::min(rank, n) - 1;
}

}  // namespace

double nearest_rank_quantile(std::vector<double>& values, double q) {
  if (values.empty()) return kNaN;
  const auto at = values.begin() + static_cast<std::ptrdiff_t>(rank_position(values.size(), q));
  std::nth_element(values.begin(), at, values.end());
  return *at;
}

std::pair<double, double> nearest_rank_quantiles(std::vector<double>& values, double q1, double q2) {
  const double first = nearest_rank_quantile(values, q1);
  if (values.empty()) return {first, first};
  // nth_element left every value from q1's position on >= it: q2's lies in that tail.
  const auto tail = values.begin() + static_cast<std::ptrdiff_t>(rank_position(values.size(), q1));
  const auto at = values.begin() + static_cast<std::ptrdiff_t>(rank_position(values.size(), q2));
  std::nth_element(tail, at, values.end());
  return {first, *at};
}

}  // namespace faascale
