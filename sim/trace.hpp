// Arrival instants from a workload trace.
//
// Formats (scenario key trace.format):
//   "counts-json"  a JSON array of request counts per window, the research code's format
//                  (traces/azure-seed/request_count_raw.json). Keys: path, window_s,
//                  arrivals ("poisson": each window's count at independent uniform instants,
//                  which is a Poisson process conditioned on the count; "uniform": evenly
//                  spaced), scale, start_s, length_s (a slice, multiples of window_s;
//                  length_s 0 = to the end), repeat (times the slice is replayed).
//   "poisson"      a Poisson process. Keys: rate_per_s, scale, length_s (0 = unlimited).
// `scale` multiplies the load: a count c becomes floor(c*scale) plus one more with
// probability frac(c*scale); a rate is multiplied.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/json_reader.hpp"
#include "sim/random.hpp"

namespace faascale {

struct TraceSpec {
  std::string format;           // "counts-json" | "poisson"
  std::string path;             // counts-json: the file as resolved
  double window_s = 30.0;       // counts-json: seconds per count
  std::string arrivals;         // counts-json: "poisson" | "uniform"
  double scale = 1.0;           // load multiplier
  double start_s = 0.0;         // counts-json: slice start in the file
  double length_s = 0.0;        // slice / stream length; 0 = whole file / unlimited
  std::int64_t repeat = 1;      // counts-json: replays of the slice
  double rate_per_s = 0.0;      // poisson: arrivals per second before scaling
  std::shared_ptr<const std::vector<std::int64_t>> counts;  // counts-json: the sliced counts

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
};

std::unique_ptr<ArrivalSource> make_arrival_source(const TraceSpec& spec, std::uint64_t seed);

}  // namespace faascale
