// Positive random durations: service demands (CPU-seconds) and cold-start delays (s).
//
// Parameters (scenario keys):
//   dist    "deterministic" | "exponential" | "lognormal" | "empirical" | "azure-2019-durations"
//   mean_s  the mean, > 0 (deterministic, exponential, lognormal)
//   cv      coefficient of variation (standard deviation / mean), lognormal only, >= 0
//   points  empirical: [[quantile, seconds], ...], quantiles rising from 0 to 1, seconds
//           not decreasing; sampled by linear interpolation between the points (inverse CDF)
//   azure-2019-durations: path (function_durations_percentiles.anon.dNN.csv) and the
//           function (hash_owner, hash_app, hash_function, or row): an empirical
//           distribution through its published percentiles 0, 1, 25, 50, 75, 99, 100,
//           read as the time a request takes alone in a pod (see wall_time()).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "sim/json_reader.hpp"
#include "sim/random.hpp"

namespace faascale {

class Distribution {
 public:
  enum class Kind { deterministic, exponential, lognormal, empirical };

  static Distribution deterministic(double mean) { return {Kind::deterministic, mean, 0.0}; }
  static Distribution exponential(double mean) { return {Kind::exponential, mean, 1.0}; }
  static Distribution lognormal(double mean, double cv);
  static Distribution empirical(std::vector<std::pair<double, double>> points);
  // `base_dir`: where the scenario file is, for relative paths.
  static Distribution read(JsonReader reader, const std::string& base_dir = "");

  double sample(Rng& rng) const {
    switch (kind_) {
      case Kind::deterministic: return mean_;
      case Kind::exponential: return rng.exponential(mean_);
      case Kind::lognormal: return std::exp(mu_ + sigma_ * rng.normal());
      case Kind::empirical: return inverse_cdf(rng.uniform());
    }
    return mean_;
  }
  double mean() const { return mean_; }
  // True when the values are durations of a request running alone (from a trace), not
  // CPU-seconds: the simulator converts them at the rate a lone request gets.
  bool wall_time() const { return wall_time_; }

 private:
  Distribution(Kind kind, double mean, double cv);
  double inverse_cdf(double u) const;
  std::vector<std::pair<double, double>> points_;  // empirical: (quantile, value)
  bool wall_time_ = false;
  Kind kind_;
  double mean_;
  double mu_ = 0.0, sigma_ = 0.0;  // of the underlying normal (lognormal only)
};

}  // namespace faascale
