// Seeded random streams for the simulator.
//
// Each source of randomness (arrivals, service demands, cold starts, routing) draws from
// its own stream, so that two runs on one seed see the same requests whatever the
// autoscaler does (common random numbers). Streams are std::mt19937_64 (its output is fixed
// by the C++ standard) seeded through std::seed_seq (also fixed), and every variate is
// made here from the raw 64-bit output rather than by std:: distributions, whose results
// differ between standard libraries. What remains platform-dependent is libm's log, exp,
// sqrt and cos (see docs/model.md, "Determinism").
#pragma once

#include <cmath>
#include <cstdint>
#include <random>
#include <sstream>
#include <string>

namespace faascale {

// Stream identifiers: part of the seeding, so they must never be renumbered.
enum class Stream : std::uint64_t { arrivals = 1, demands = 2, cold_starts = 3, routing = 4, policy = 5 };

class Rng {
 public:
  Rng(std::uint64_t seed, Stream stream) {
    std::seed_seq seq{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32),
                      static_cast<std::uint32_t>(stream)};
    engine_.seed(seq);
  }

  // Uniform on the open interval (0, 1): 53 random bits, offset by half a step.
  double uniform() { return (static_cast<double>(engine_() >> 11) + 0.5) * 0x1.0p-53; }

  // Exponential with the given mean, by inversion.
  double exponential(double mean) { return -mean * std::log(uniform()); }

  // Standard normal by the Box-Muller transform (one of the pair is used, for simplicity
  // and so that each call consumes exactly two uniforms).
  double normal() {
    const double radius = std::sqrt(-2.0 * std::log(uniform()));
    return radius * std::cos(2.0 * M_PI * uniform());
  }

  // Uniform integer in [0, n) by Lemire's multiply-shift; n must be positive. The bias is
  // below n / 2^64, far beneath anything a simulation can observe.
  std::uint64_t below(std::uint64_t n) {
    __extension__ using Wide = unsigned __int128;
    return static_cast<std::uint64_t>((static_cast<Wide>(engine_()) * n) >> 64);
  }

  // The engine's whole state as text (the standard's operator<< format), for checkpoints;
  // restore() returns false when `text` is not such a state.
  std::string state() const {
    std::ostringstream out;
    out << engine_;
    return out.str();
  }
  bool restore(const std::string& text) {
    std::istringstream in(text);
    std::mt19937_64 engine;
    if (!(in >> engine)) return false;
    engine_ = engine;
    return true;
  }

 private:
  std::mt19937_64 engine_;
};

}  // namespace faascale
