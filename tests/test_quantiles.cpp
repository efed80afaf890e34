// Quantile estimators: Prometheus' histogram_quantile rules on the gateway buckets
// (reference facts section 5), the streaming sketch's stated error bound, and the exact
// nearest-rank quantile.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "sim/quantiles.hpp"
#include "sim/random.hpp"

namespace faascale {

TEST_CASE("histogram_quantile: no observations gives NaN") {
  GatewayHistogram h;
  CHECK(std::isnan(h.quantile(0.95)));
}

TEST_CASE("histogram_quantile interpolates linearly inside the bucket holding the rank") {
  GatewayHistogram h;
  // 10 observations in (0.5, 1], 10 in (1, 2.5].
  for (int i = 0; i < 10; ++i) h.add(0.7);
  for (int i = 0; i < 10; ++i) h.add(2.0);
  // rank 0.95 * 20 = 19: 9 of the 10 in (1, 2.5] -> 1 + 1.5 * 9/10.
  CHECK(h.quantile(0.95) == doctest::Approx(1.0 + 1.5 * 0.9));
  // rank 0.25 * 20 = 5: half of the bucket (0.5, 1] -> 0.75.
  CHECK(h.quantile(0.25) == doctest::Approx(0.75));
}

TEST_CASE("histogram_quantile: the first bucket starts at 0, and bounds are inclusive") {
  GatewayHistogram h;
  h.add(0.005);  // exactly on the first bound: belongs to le="0.005"
  h.add(0.005);
  CHECK(h.bucket(0) == 2);
  CHECK(h.quantile(0.5) == doctest::Approx(0.0025));
}

TEST_CASE("histogram_quantile: a rank in +Inf returns the highest finite bound") {
  GatewayHistogram h;
  for (int i = 0; i < 5; ++i) h.add(30.0);
  CHECK(h.bucket(GatewayHistogram::kUpperBounds.size()) == 5);
  CHECK(h.quantile(0.95) == doctest::Approx(10.0));
}

TEST_CASE("QuantileSketch: every quantile within its relative error bound of the exact one") {
  Rng rng(3, Stream::demands);
  std::vector<double> values;
  QuantileSketch sketch;
  for (int i = 0; i < 200000; ++i) {
    // Spread over six orders of magnitude.
    const double v = std::exp(rng.normal() * 3.0);
    values.push_back(v);
    sketch.add(v);
  }
  std::sort(values.begin(), values.end());
  for (double q : {0.01, 0.1, 0.5, 0.9, 0.95, 0.99, 0.999, 1.0}) {
    CAPTURE(q);
    const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(values.size())));
    const double exact = values[rank - 1];
    CHECK(std::abs(sketch.quantile(q) - exact) <= QuantileSketch::kRelativeError * exact * (1 + 1e-9));
  }
}

TEST_CASE("QuantileSketch: the error bound holds at the extremes a scenario can produce") {
  for (double v : {1e-11, 1e-9, 1e8, 1e12}) {
    CAPTURE(v);
    QuantileSketch sketch;
    sketch.add(v);
    CHECK(std::abs(sketch.quantile(0.5) - v) <= QuantileSketch::kRelativeError * v);
  }
}

TEST_CASE("QuantileSketch: empty gives NaN") { CHECK(std::isnan(QuantileSketch().quantile(0.5))); }

TEST_CASE("nearest-rank quantile") {
  std::vector<double> v = {5, 1, 4, 2, 3};
  CHECK(nearest_rank_quantile(v, 0.5) == 3);   // ceil(2.5) = 3rd smallest
  CHECK(nearest_rank_quantile(v, 0.95) == 5);  // ceil(4.75) = 5th
  CHECK(nearest_rank_quantile(v, 0.2) == 1);   // ceil(1.0) = 1st
  std::vector<double> empty;
  CHECK(std::isnan(nearest_rank_quantile(empty, 0.5)));
}

TEST_CASE("two nearest-rank quantiles at once agree with sorting") {
  Rng rng(4, Stream::arrivals);
  for (std::size_t n : {1, 2, 19, 20, 21, 1000, 12345}) {
    CAPTURE(n);
    std::vector<double> v(n);
    for (double& x : v) x = rng.uniform();
    std::vector<double> sorted = v;
    std::sort(sorted.begin(), sorted.end());
    const auto [p95, p99] = nearest_rank_quantiles(v, 0.95, 0.99);
    CHECK(p95 == sorted[static_cast<std::size_t>(std::ceil(0.95 * static_cast<double>(n))) - 1]);
    CHECK(p99 == sorted[static_cast<std::size_t>(std::ceil(0.99 * static_cast<double>(n))) - 1]);
  }
}

}  // namespace faascale
