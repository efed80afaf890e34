// Implementation of distribution.hpp.
#include "sim/distribution.hpp"

#include <cmath>

namespace faascale {

Distribution::Distribution(Kind kind, double mean, double cv) : kind_(kind), mean_(mean), cv_(cv) {
  if (kind_ == Kind::lognormal) {
    // For lognormal(mu, sigma): mean = exp(mu + sigma^2/2) and cv^2 = exp(sigma^2) - 1.
    sigma_ = std::sqrt(std::log1p(cv * cv));
    mu_ = std::log(mean) - 0.5 * sigma_ * sigma_;
  }
}

Distribution Distribution::lognormal(double mean, double cv) { return {Kind::lognormal, mean, cv}; }

Distribution Distribution::read(JsonReader reader) {
  const std::string dist = reader.choice("dist", {"deterministic", "exponential", "lognormal"});
  const double mean = reader.number("mean_s", 1e-9, 1e7);
  Distribution result = dist == "lognormal"     ? lognormal(mean, reader.number("cv", 0.0, 100.0, 1.0))
                        : dist == "exponential" ? exponential(mean)
                                                : deterministic(mean);
  reader.finish();
  return result;
}

}  // namespace faascale
