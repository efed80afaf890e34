// Implementation of trace.hpp.
#include "sim/trace.hpp"

#include <cmath>
#include <filesystem>
#include <limits>

#include <fmt/format.h>

namespace faascale {
namespace {

constexpr double kInfinity = std::numeric_limits<double>::infinity();
constexpr std::int64_t kMaxCountPerWindow = 1'000'000'000;

// A relative path is tried against the working directory, then against the scenario's
// folder and each folder above it (so scenarios/x.json finds traces/ from anywhere).
std::string resolve_path(const std::string& path, const std::string& base_dir) {
  namespace fs = std::filesystem;
  if (fs::path(path).is_absolute() || fs::exists(path) || base_dir.empty()) return path;
  for (fs::path dir = fs::absolute(base_dir);; dir = dir.parent_path()) {
    if (fs::exists(dir / path)) return (dir / path).string();
    if (dir == dir.parent_path()) return path;
  }
}

bool is_multiple(double value, double step) {
  const double ratio = value / step;
  return std::abs(ratio - std::round(ratio)) < 1e-9 * std::max(1.0, ratio);
}

// Expands each window's count into instants one at a time, in O(1) memory whatever the
// count: "uniform" spaces them evenly; "poisson" draws the ascending order statistics of
// `count` independent uniforms directly (each next one is the previous plus the minimum of
// the remaining uniforms on what is left of the window: 1 - (1 - u) * v^(1/remaining)).
class CountsArrivals final : public ArrivalSource {
 public:
  CountsArrivals(const TraceSpec& spec, std::uint64_t seed)
      : spec_(spec), counts_(spec.counts), rng_(seed, Stream::arrivals) {}

  double next() override {
    while (emitted_ == count_) {
      if (!start_next_window()) return kInfinity;
    }
    ++emitted_;
    if (spec_.arrivals == "uniform") {
      return start_ + (static_cast<double>(emitted_) - 0.5) / static_cast<double>(count_) * spec_.window_s;
    }
    const double remaining = static_cast<double>(count_ - emitted_ + 1);
    fraction_ = 1.0 - (1.0 - fraction_) * std::pow(rng_.uniform(), 1.0 / remaining);
    return start_ + fraction_ * spec_.window_s;
  }

 private:
  bool start_next_window() {
    const std::size_t windows_per_replay = counts_->size();
    if (window_ >= windows_per_replay * static_cast<std::size_t>(spec_.repeat)) return false;
    start_ = static_cast<double>(window_) * spec_.window_s;
    const double exact = static_cast<double>((*counts_)[window_ % windows_per_replay]) * spec_.scale;
    double whole = std::floor(exact);
    if (exact > whole && rng_.uniform() < exact - whole) whole += 1.0;
    count_ = static_cast<std::uint64_t>(whole);
    emitted_ = 0;
    fraction_ = 0.0;
    ++window_;
    return true;
  }

  TraceSpec spec_;
  std::shared_ptr<const std::vector<std::int64_t>> counts_;
  Rng rng_;
  std::size_t window_ = 0;                 // next window to start
  double start_ = 0;                       // current window's start
  std::uint64_t count_ = 0, emitted_ = 0;  // current window's arrivals, and how many so far
  double fraction_ = 0;                    // last instant's position in the window, in [0, 1)
};

class PoissonArrivals final : public ArrivalSource {
 public:
  PoissonArrivals(const TraceSpec& spec, std::uint64_t seed)
      : mean_gap_(1.0 / (spec.rate_per_s * spec.scale)), end_(spec.span_s()), rng_(seed, Stream::arrivals) {}

  double next() override {
    now_ += rng_.exponential(mean_gap_);
    return now_ < end_ ? now_ : kInfinity;
  }

 private:
  double mean_gap_, end_;
  Rng rng_;
  double now_ = 0.0;
};

}  // namespace

std::vector<std::int64_t> load_counts_json(const std::string& path) {
  const nlohmann::json doc = read_json_file(path);
  if (!doc.is_array()) {
    throw InputError(fmt::format("{}: expected a JSON array of request counts per window, got a {}.", path,
                                 doc.type_name()));
  }
  if (doc.empty()) throw InputError(fmt::format("{}: the array of counts is empty; give at least one window.", path));
  std::vector<std::int64_t> counts;
  counts.reserve(doc.size());
  for (std::size_t i = 0; i < doc.size(); ++i) {
    const auto& v = doc[i];
    const bool ok = is_integral(v) && v.get<double>() >= 0 && v.get<double>() <= kMaxCountPerWindow;
    if (!ok) {
      throw InputError(fmt::format(
          "{}: element [{}] (window {} counting from 0): expected a request count, an integer in [0, {}], got {}.",
          path, i, i, kMaxCountPerWindow, describe_json(v)));
    }
    counts.push_back(static_cast<std::int64_t>(v.get<double>()));
  }
  return counts;
}

TraceSpec TraceSpec::read(JsonReader reader, const std::string& base_dir) {
  TraceSpec spec;
  spec.format = reader.choice("format", {"counts-json", "poisson"});
  spec.scale = reader.number("scale", 0.0, 1e6, 1.0);
  if (spec.format == "poisson") {
    spec.rate_per_s = reader.number("rate_per_s", 1e-9, 1e9);
    spec.length_s = reader.number("length_s", 0.0, 1e10, 0.0);
    reader.finish();
    return spec;
  }
  const std::string given = reader.text("path");
  spec.path = resolve_path(given, base_dir);
  spec.window_s = reader.number("window_s", 1e-3, 1e6, 30.0);
  spec.arrivals = reader.choice("arrivals", {"poisson", "uniform"}, "poisson");
  spec.start_s = reader.number("start_s", 0.0, 1e10, 0.0);
  spec.length_s = reader.number("length_s", 0.0, 1e10, 0.0);
  spec.repeat = reader.integer("repeat", 1, 1'000'000, 1);
  reader.finish();
  for (const char* key : {"start_s", "length_s"}) {
    const double v = std::string(key) == "start_s" ? spec.start_s : spec.length_s;
    if (!is_multiple(v, spec.window_s)) {
      reader.fail(key, fmt::format("{} is not a multiple of window_s ({}); slices start and end on window "
                                   "boundaries.", v, spec.window_s));
    }
  }
  std::vector<std::int64_t> all;
  try {
    all = load_counts_json(spec.path);
  } catch (const InputError& e) {
    throw InputError(fmt::format("{} (read for {} in {})", e.what(), reader.path_of("path"), reader.file()));
  }
  const auto first = static_cast<std::size_t>(std::llround(spec.start_s / spec.window_s));
  const auto wanted = static_cast<std::size_t>(std::llround(spec.length_s / spec.window_s));
  if (first >= all.size()) {
    reader.fail("start_s", fmt::format("{} s is at or past the end of {}, which holds {} windows ({} s).",
                                       spec.start_s, spec.path, all.size(), static_cast<double>(all.size()) * spec.window_s));
  }
  if (wanted > 0 && first + wanted > all.size()) {
    reader.fail("length_s", fmt::format("the slice [{} s, {} s) does not fit in {}, which holds {} windows "
                                        "({} s); shorten the slice.", spec.start_s, spec.start_s + spec.length_s,
                                        spec.path, all.size(), static_cast<double>(all.size()) * spec.window_s));
  }
  const std::size_t last = wanted > 0 ? first + wanted : all.size();
  spec.counts = std::make_shared<const std::vector<std::int64_t>>(all.begin() + static_cast<std::ptrdiff_t>(first),
                                                                  all.begin() + static_cast<std::ptrdiff_t>(last));
  return spec;
}

double TraceSpec::span_s() const {
  if (format == "poisson") return length_s > 0.0 ? length_s : kInfinity;
  return static_cast<double>(counts->size()) * window_s * static_cast<double>(repeat);
}

std::unique_ptr<ArrivalSource> make_arrival_source(const TraceSpec& spec, std::uint64_t seed) {
  if (spec.format == "poisson") return std::make_unique<PoissonArrivals>(spec, seed);
  return std::make_unique<CountsArrivals>(spec, seed);
}

}  // namespace faascale
