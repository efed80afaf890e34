// Implementation of distribution.hpp.
#include "sim/distribution.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "sim/trace_files.hpp"

namespace faascale {

Distribution::Distribution(Kind kind, double mean, double cv) : kind_(kind), mean_(mean) {
  if (kind_ == Kind::lognormal) {
    // For lognormal(mu, sigma): mean = exp(mu + sigma^2/2) and cv^2 = exp(sigma^2) - 1.
    sigma_ = std::sqrt(std::log1p(cv * cv));
    mu_ = std::log(mean) - 0.5 * sigma_ * sigma_;
  }
}

Distribution Distribution::lognormal(double mean, double cv) { return {Kind::lognormal, mean, cv}; }

Distribution Distribution::empirical(std::vector<std::pair<double, double>> points) {
  // The mean of a piecewise-linear inverse CDF: the average of each segment's ends,
  // weighted by its probability.
  double mean = 0;
  for (std::size_t i = 1; i < points.size(); ++i) {
    mean += (points[i].first - points[i - 1].first) * 0.5 * (points[i].second + points[i - 1].second);
  }
  Distribution d(Kind::empirical, mean, 0.0);
  d.points_ = std::move(points);
  return d;
}

double Distribution::inverse_cdf(double u) const {
  const auto above = std::upper_bound(points_.begin(), points_.end(), u,
                                      [](double x, const std::pair<double, double>& p) { return x < p.first; });
  if (above == points_.begin()) return points_.front().second;
  if (above == points_.end()) return points_.back().second;
  const auto below = above - 1;
  const double span = above->first - below->first;
  return below->second + (above->second - below->second) * (span > 0 ? (u - below->first) / span : 0.0);
}

Distribution Distribution::read(JsonReader reader, const std::string& base_dir) {
  const std::string dist =
      reader.choice("dist", {"deterministic", "exponential", "lognormal", "empirical", "azure-2019-durations"});
  if (dist == "azure-2019-durations") {
    const std::string path = resolve_input_path(reader.text("path"), base_dir);
    const AzureFunction function = AzureFunction::read(reader);
    reader.finish();
    try {
      Distribution d = empirical(load_azure_2019_durations(path, function));
      d.wall_time_ = true;
      return d;
    } catch (const InputError& e) {
      throw InputError(fmt::format("{} (read for {} in {})", e.what(), reader.path_of("path"), reader.file()));
    }
  }
  if (dist == "empirical") {
    const nlohmann::json& given = reader.raw("points");
    std::vector<std::pair<double, double>> points;
    const bool shape = given.is_array() && given.size() >= 2;
    for (std::size_t i = 0; shape && i < given.size(); ++i) {
      const auto& p = given[i];
      const bool ok = p.is_array() && p.size() == 2 && p[0].is_number() && p[1].is_number() &&
                      p[0].get<double>() >= 0 && p[0].get<double>() <= 1 && p[1].get<double>() >= 0 &&
                      std::isfinite(p[1].get<double>()) &&
                      (points.empty() || (p[0].get<double>() > points.back().first &&
                                          p[1].get<double>() >= points.back().second));
      if (!ok) {
        reader.fail("points", fmt::format("element [{}] is not a [quantile, seconds] pair rising from the one "
                                          "before (quantiles in [0, 1], seconds >= 0 and not decreasing).", i));
      }
      points.emplace_back(p[0].get<double>(), p[1].get<double>());
    }
    if (!shape || points.front().first != 0 || points.back().first != 1) {
      reader.fail("points", "expected at least two [quantile, seconds] pairs, the first at quantile 0 and the "
                            "last at quantile 1.");
    }
    reader.finish();
    return empirical(std::move(points));
  }
  const double mean = reader.number("mean_s", 1e-9, 1e7);
  Distribution result = dist == "lognormal"     ? lognormal(mean, reader.number("cv", 0.0, 100.0, 1.0))
                        : dist == "exponential" ? exponential(mean)
                                                : deterministic(mean);
  reader.finish();
  return result;
}

}  // namespace faascale
