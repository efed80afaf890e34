// Arrival instants (and, for per-request traces, durations) from a workload trace.
//
// Formats (scenario key trace.format; docs/scenarios.md lists every key):
//   "counts-json"   a JSON array of request counts per window, the research code's format
//                   (traces/azure-seed/request_count_raw.json). Keys: path, window_s,
//                   arrivals ("poisson": the count at independent uniform instants, a
//                   Poisson process conditioned on the count; "uniform": evenly spaced).
//   "azure-2019"    one function's row of an Azure 2019 invocations-per-minute file,
//                   selected by hash_owner/hash_app/hash_function or by row; expanded as
//                   counts per 60 s window. Key: arrivals.
//   "azure-2021"    the Azure 2021 per-invocation file, filtered to `app` (and `func`):
//                   exact instants (end - duration) and durations.
//   "requests-csv"  arrival_s,duration_s rows: exact instants and durations.
//   "poisson"       a Poisson process. Keys: rate_per_s, length_s (0 = unlimited).
// Common keys: path, scale, start_s and length_s (a slice; for counts, on window
// boundaries; length_s 0 = to the end), repeat (replays of the slice; per-request traces
// need length_s as the replay period). `scale` multiplies the load: a count c becomes
// floor(c*scale) plus one with probability frac(c*scale); a request is copied
// floor(scale) times plus once with probability frac(scale); a rate is multiplied.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "sim/json_reader.hpp"
#include "sim/random.hpp"
#include "sim/trace_files.hpp"

namespace faascale {

struct TraceSpec {
  std::string format;           // see above
  std::string path;             // the file as resolved
  double window_s = 30.0;       // counts-json: seconds per count
  std::string arrivals;         // counts-json: "poisson" | "uniform"
  double scale = 1.0;           // load multiplier
  double start_s = 0.0;         // counts-json: slice start in the file
  double length_s = 0.0;        // slice / stream length; 0 = whole file / unlimited
  std::int64_t repeat = 1;      // counts-json: replays of the slice
  double rate_per_s = 0.0;      // poisson: arrivals per second before scaling
  std::shared_ptr<const std::vector<std::int64_t>> counts;  // counts formats: the sliced counts
  std::shared_ptr<const std::vector<TraceRequest>> requests;  // per-request formats: the slice, from 0

  // A relative path is tried against the working directory, then against `base_dir` (the
  // scenario file's folder) and each folder above it.
  static TraceSpec read(JsonReader reader, const std::string& base_dir);
  // Seconds of simulated time the arrivals span (infinity for an unlimited stream).
  double span_s() const;
};

// Reads and validates a counts-per-window JSON file (array of non-negative integers).
std::vector<std::int64_t> load_counts_json(const std::string& path);

// Yields arrival instants in non-decreasing order, then +infinity.
class ArrivalSource {
 public:
  virtual ~ArrivalSource() = default;
  virtual double next() = 0;
  // The duration the trace gives for the arrival next() last returned, in seconds of a
  // request running alone; NaN when the trace has none (the function's service
  // distribution is used).
  virtual double duration_s() const { return std::numeric_limits<double>::quiet_NaN(); }
};

std::unique_ptr<ArrivalSource> make_arrival_source(const TraceSpec& spec, std::uint64_t seed);

}  // namespace faascale
