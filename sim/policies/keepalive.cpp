// Keep-alive policies for the keep-alive platform (reference facts section 6).
//
// fixed-keepalive: every idle instance stays loaded keep_alive_s (default: the platform's
//   expiration_s; AWS uses 10 min, Azure 20 min).
//
// hybrid-histogram (Shahrad et al., "Serverless in the Wild", USENIX ATC 2020): a
//   histogram of the function's idle times (time from its last request ending to the next
//   arrival) over range_s in bin_s bins. When it is representative (at least min_samples
//   idle times, and a coefficient of variation of the bin counts of at least
//   cv_threshold), an instance that becomes idle is unloaded and pre-warmed at the
//   head_percentile of idle times (less margin), and kept loaded until the
//   tail_percentile (plus margin); a head of 0 means it just stays loaded until then.
//   Otherwise it stays loaded for the whole range (the paper's fallback).
//   Parameters: range_s 14400, bin_s 60, head_percentile 5, tail_percentile 99,
//   margin 0.1, min_samples 10, cv_threshold 2. Percentiles are read at bin edges (the
//   head at the lower edge of its bin, the tail at the upper edge).
//   Left out: the paper's ARIMA forecast for idle times beyond the range (such idle times
//   are counted in a last overflow bin, which pushes the tail to the whole range), and
//   its per-application view (the simulator runs one function). The minimum sample count
//   and the CV threshold are our reading of the paper's "representative" test.
#include <algorithm>
#include <cmath>
#include <vector>

#include "sim/json_reader.hpp"
#include "sim/keepalive_policy.hpp"

namespace faascale {
namespace {

class FixedKeepAlivePolicy final : public KeepAlivePolicy {
 public:
  explicit FixedKeepAlivePolicy(double seconds) : seconds_(seconds) {}
  Decision on_idle(double) override { return {0.0, seconds_}; }

 private:
  double seconds_;
};

struct HybridConfig {
  double range_s = 14400, bin_s = 60;
  double head_percentile = 5, tail_percentile = 99, margin = 0.1;
  std::int64_t min_samples = 10;
  double cv_threshold = 2;
};

// Counts per bin with O(log bins) updates and rank searches (a Fenwick tree), plus the sum
// of squared counts for the coefficient of variation, so that each idle time costs
// O(log bins) however fine the bins.
class BinCounts {
 public:
  explicit BinCounts(std::size_t bins) : counts_(bins, 0), tree_(bins + 1, 0) {}
  std::size_t size() const { return counts_.size(); }
  void add(std::size_t bin) {
    sum_squares_ += 2.0 * static_cast<double>(counts_[bin]) + 1.0;  // (c + 1)^2 - c^2
    ++counts_[bin];
    for (std::size_t i = bin + 1; i < tree_.size(); i += i & (~i + 1)) ++tree_[i];
  }
  double sum_squares() const { return sum_squares_; }
  // The bin holding the rank-th smallest value (rank from 1).
  std::size_t bin_of_rank(std::int64_t rank) const {
    std::size_t position = 0;
    std::size_t step = 1;
    while (step * 2 < tree_.size()) step *= 2;
    for (; step > 0; step /= 2) {
      if (position + step < tree_.size() && tree_[position + step] < rank) {
        position += step;
        rank -= tree_[position];
      }
    }
    return position;  // 0-based bin
  }

 private:
  std::vector<std::int64_t> counts_, tree_;
  double sum_squares_ = 0;
};

class HybridHistogramPolicy final : public KeepAlivePolicy {
 public:
  explicit HybridHistogramPolicy(const HybridConfig& c)
      : config_(c), bins_(static_cast<std::size_t>(std::ceil(c.range_s / c.bin_s)) + 1) {}

  void on_arrival(double, double idle_time_s) override {
    if (std::isnan(idle_time_s)) return;
    const auto bin = static_cast<std::size_t>(std::max(0.0, idle_time_s) / config_.bin_s);
    bins_.add(std::min(bin, bins_.size() - 1));  // the last bin: beyond the range
    ++samples_;
  }

  Decision on_idle(double) override {
    if (!representative()) return {0.0, config_.range_s};
    const double head = edge(config_.head_percentile, false) * (1 - config_.margin);
    const double tail = std::min(config_.range_s, edge(config_.tail_percentile, true) * (1 + config_.margin));
    return {head, std::max(tail - head, config_.bin_s)};
  }

 private:
  bool representative() const {
    if (samples_ < config_.min_samples) return false;
    const auto n = static_cast<double>(bins_.size());
    const double mean = static_cast<double>(samples_) / n;
    const double variance = std::max(0.0, bins_.sum_squares() / n - mean * mean);
    return std::sqrt(variance) / mean >= config_.cv_threshold;
  }

  // The lower (or upper) edge of the bin holding the given percentile, in seconds.
  double edge(double percentile, bool upper) const {
    const auto rank = static_cast<std::int64_t>(std::max(1.0, std::ceil(percentile / 100 * static_cast<double>(samples_))));
    const std::size_t bin = bins_.bin_of_rank(rank);
    if (bin + 1 >= bins_.size()) return config_.range_s;  // beyond the range
    return (static_cast<double>(bin) + (upper ? 1 : 0)) * config_.bin_s;
  }

  HybridConfig config_;
  BinCounts bins_;
  std::int64_t samples_ = 0;
};

}  // namespace

std::unique_ptr<KeepAlivePolicy> make_keepalive_policy(const nlohmann::json& spec, double default_keep_alive_s,
                                                       const std::string& file, nlohmann::json& resolved) {
  if (spec.is_null()) return std::make_unique<FixedKeepAlivePolicy>(default_keep_alive_s);
  JsonReader p(spec, file, "$.autoscaler", resolved);
  const std::string kind = p.choice("kind", {"fixed-keepalive", "hybrid-histogram"});
  std::unique_ptr<KeepAlivePolicy> policy;
  if (kind == "fixed-keepalive") {
    policy = std::make_unique<FixedKeepAlivePolicy>(p.number("keep_alive_s", 0, 1e9, default_keep_alive_s));
  } else {
    HybridConfig c;
    c.range_s = p.number("range_s", 60, 1e7, 14400);
    c.bin_s = p.number("bin_s", 1, c.range_s, 60);
    c.head_percentile = p.number("head_percentile", 0, 100, 5);
    c.tail_percentile = p.number("tail_percentile", c.head_percentile, 100, 99);
    c.margin = p.number("margin", 0, 0.99, 0.1);
    c.min_samples = p.integer("min_samples", 1, 1'000'000'000, 10);
    c.cv_threshold = p.number("cv_threshold", 0, 1e6, 2);
    if (c.range_s / c.bin_s > 1e7) p.fail("bin_s", "gives more than 1e7 bins; use wider bins.");
    policy = std::make_unique<HybridHistogramPolicy>(c);
  }
  p.finish();
  return policy;
}

}  // namespace faascale
