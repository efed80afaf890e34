// Positive random durations: service demands (CPU-seconds) and cold-start delays (s).
//
// Parameters (scenario keys):
//   dist    "deterministic" | "exponential" | "lognormal"
//   mean_s  the mean, > 0
//   cv      coefficient of variation (standard deviation / mean), lognormal only, >= 0
#pragma once

#include <string>

#include "sim/json_reader.hpp"
#include "sim/random.hpp"

namespace faascale {

class Distribution {
 public:
  enum class Kind { deterministic, exponential, lognormal };

  static Distribution deterministic(double mean) { return {Kind::deterministic, mean, 0.0}; }
  static Distribution exponential(double mean) { return {Kind::exponential, mean, 1.0}; }
  static Distribution lognormal(double mean, double cv);
  static Distribution read(JsonReader reader);

  double sample(Rng& rng) const {
    switch (kind_) {
      case Kind::deterministic: return mean_;
      case Kind::exponential: return rng.exponential(mean_);
      case Kind::lognormal: return std::exp(mu_ + sigma_ * rng.normal());
    }
    return mean_;
  }
  double mean() const { return mean_; }
  double cv() const { return cv_; }
  Kind kind() const { return kind_; }

 private:
  Distribution(Kind kind, double mean, double cv);
  Kind kind_;
  double mean_, cv_;
  double mu_ = 0.0, sigma_ = 0.0;  // of the underlying normal (lognormal only)
};

}  // namespace faascale
