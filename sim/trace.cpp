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
      : spec_(spec), counts_(spec.counts), rng_(seed, Stream::arrivals) {
    // A slice without requests (or a scale of 0) has nothing to replay, however often.
    std::int64_t total = 0;
    for (auto c : *counts_) total += c;
    if (total == 0 || spec_.scale == 0) window_ = counts_->size() * static_cast<std::size_t>(spec_.repeat);
  }

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

// Replays per-request traces: each request at its instant with its duration, scaled by
// copying it floor(scale) times plus once more with probability frac(scale), and the
// slice replayed every length_s seconds `repeat` times.
class RequestArrivals final : public ArrivalSource {
 public:
  RequestArrivals(const TraceSpec& spec, std::uint64_t seed)
      : spec_(spec), requests_(spec.requests), rng_(seed, Stream::arrivals) {
    if (spec_.scale == 0) replay_ = spec_.repeat;  // nothing to replay
  }

  double next() override {
    while (copies_left_ == 0) {
      if (replay_ >= spec_.repeat) return kInfinity;
      if (index_ == requests_->size()) {
        index_ = 0;
        if (++replay_ >= spec_.repeat) return kInfinity;
      }
      double copies = std::floor(spec_.scale);
      if (spec_.scale > copies && rng_.uniform() < spec_.scale - copies) copies += 1;
      copies_left_ = static_cast<std::uint64_t>(copies);
      current_ = (*requests_)[index_++];
    }
    --copies_left_;
    return current_.arrival_s + static_cast<double>(replay_) * spec_.length_s;
  }
  double duration_s() const override { return current_.duration_s; }

 private:
  TraceSpec spec_;
  std::shared_ptr<const std::vector<TraceRequest>> requests_;
  Rng rng_;
  std::size_t index_ = 0;
  std::int64_t replay_ = 0;
  std::uint64_t copies_left_ = 0;
  TraceRequest current_{0, 0};
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

namespace {

// Runs `load` and adds to its errors which scenario key asked for the file.
template <typename Load>
auto loading(const JsonReader& reader, Load load) {
  try {
    return load();
  } catch (const InputError& e) {
    throw InputError(fmt::format("{} (read for {} in {})", e.what(), reader.path_of("path"), reader.file()));
  }
}

// Cuts [start_s, start_s + length_s) out of counts per window; both on window boundaries.
void slice_counts(TraceSpec& spec, const JsonReader& reader, const std::vector<std::int64_t>& all) {
  for (const char* key : {"start_s", "length_s"}) {
    const double v = std::string(key) == "start_s" ? spec.start_s : spec.length_s;
    if (!is_multiple(v, spec.window_s)) {
      reader.fail(key, fmt::format("{} is not a multiple of the window ({} s); slices start and end on window "
                                   "boundaries.", v, spec.window_s));
    }
  }
  const auto first = static_cast<std::size_t>(std::llround(spec.start_s / spec.window_s));
  const auto wanted = static_cast<std::size_t>(std::llround(spec.length_s / spec.window_s));
  const double file_span = static_cast<double>(all.size()) * spec.window_s;
  if (first >= all.size()) {
    reader.fail("start_s", fmt::format("{} s is at or past the end of {}, which holds {} windows ({} s).",
                                       spec.start_s, spec.path, all.size(), file_span));
  }
  if (wanted > 0 && first + wanted > all.size()) {
    reader.fail("length_s", fmt::format("the slice [{} s, {} s) does not fit in {}, which holds {} windows "
                                        "({} s); shorten the slice.", spec.start_s, spec.start_s + spec.length_s,
                                        spec.path, all.size(), file_span));
  }
  const std::size_t last = wanted > 0 ? first + wanted : all.size();
  spec.counts = std::make_shared<const std::vector<std::int64_t>>(all.begin() + static_cast<std::ptrdiff_t>(first),
                                                                  all.begin() + static_cast<std::ptrdiff_t>(last));
}

// Keeps the requests arriving in [start_s, start_s + length_s), shifted to start at 0.
void slice_requests(TraceSpec& spec, const JsonReader& reader, std::vector<TraceRequest> all) {
  const double end = spec.length_s > 0 ? spec.start_s + spec.length_s : kInfinity;
  std::vector<TraceRequest> kept;
  for (const TraceRequest& r : all) {
    if (r.arrival_s >= spec.start_s && r.arrival_s < end) kept.push_back({r.arrival_s - spec.start_s, r.duration_s});
  }
  if (kept.empty()) {
    reader.fail("start_s", fmt::format("no request of {} arrives in [{} s, {} s); move the slice.", spec.path,
                                       spec.start_s, end));
  }
  if (spec.repeat > 1 && spec.length_s <= 0) {
    reader.fail("repeat", "replaying a per-request trace needs length_s (the replay period) > 0.");
  }
  spec.requests = std::make_shared<const std::vector<TraceRequest>>(std::move(kept));
}

}  // namespace

TraceSpec TraceSpec::read(JsonReader reader, const std::string& base_dir) {
  TraceSpec spec;
  spec.format = reader.choice("format", {"counts-json", "poisson", "azure-2019", "azure-2021", "requests-csv"});
  spec.scale = reader.number("scale", 0.0, 1e6, 1.0);
  if (spec.format == "poisson") {
    spec.rate_per_s = reader.number("rate_per_s", 1e-9, 1e9);
    spec.length_s = reader.number("length_s", 0.0, 1e10, 0.0);
    reader.finish();
    return spec;
  }
  spec.path = resolve_input_path(reader.text("path"), base_dir);
  const bool counts = spec.format == "counts-json" || spec.format == "azure-2019";
  if (spec.format == "counts-json") spec.window_s = reader.number("window_s", 1e-3, 1e6, 30.0);
  if (spec.format == "azure-2019") spec.window_s = 60.0;  // invocations per minute
  if (counts) spec.arrivals = reader.choice("arrivals", {"poisson", "uniform"}, "poisson");
  spec.start_s = reader.number("start_s", 0.0, 1e10, 0.0);
  spec.length_s = reader.number("length_s", 0.0, 1e10, 0.0);
  spec.repeat = reader.integer("repeat", 1, 1'000'000, 1);
  AzureFunction function;
  std::string app, func;
  if (spec.format == "azure-2019") function = AzureFunction::read(reader);
  if (spec.format == "azure-2021") {
    app = reader.text("app");
    func = reader.text("func", "");
  }
  reader.finish();
  if (spec.format == "counts-json") slice_counts(spec, reader, loading(reader, [&] { return load_counts_json(spec.path); }));
  if (spec.format == "azure-2019") {
    slice_counts(spec, reader, loading(reader, [&] { return load_azure_2019_counts(spec.path, function); }));
  }
  if (spec.format == "azure-2021") {
    slice_requests(spec, reader, loading(reader, [&] { return load_azure_2021(spec.path, app, func); }));
  }
  if (spec.format == "requests-csv") {
    slice_requests(spec, reader, loading(reader, [&] { return load_requests_csv(spec.path); }));
  }
  return spec;
}

double TraceSpec::span_s() const {
  if (format == "poisson") return length_s > 0.0 ? length_s : kInfinity;
  if (requests) {
    // Until the last arrival (the run can be longer, to let requests finish).
    return length_s > 0 ? length_s * static_cast<double>(repeat) : std::max(requests->back().arrival_s, 1e-3);
  }
  return static_cast<double>(counts->size()) * window_s * static_cast<double>(repeat);
}

std::unique_ptr<ArrivalSource> make_arrival_source(const TraceSpec& spec, std::uint64_t seed) {
  if (spec.format == "poisson") return std::make_unique<PoissonArrivals>(spec, seed);
  if (spec.requests) return std::make_unique<RequestArrivals>(spec, seed);
  return std::make_unique<CountsArrivals>(spec, seed);
}

}  // namespace faascale
