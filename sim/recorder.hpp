// MetricsRecorder: the per-window and whole-run bookkeeping every platform model shares.
// A platform records each finished request, integrates its own state into window()
// between events, and calls close() at each window boundary with its state there.
// docs/model.md, "Metrics", defines what is recorded.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "sim/metrics.hpp"
#include "sim/quantiles.hpp"

namespace faascale {

enum class Outcome { ok, rejected, timed_out };  // HTTP 200, 429, 504

// The platform's state at a window's end.
struct WindowEnd {
  std::int64_t ready_replicas = 0, desired_replicas = 0, pods = 0, queued = 0, in_flight = 0;
};

class MetricsRecorder {
 public:
  using WindowSink = std::function<void(const WindowMetrics&)>;

  MetricsRecorder(double interval_s, double cpu_request_cores, double memory_request_mib, WindowSink sink);

  // The window in progress, for the platform's integrals and counters.
  WindowMetrics& window() { return window_; }
  const WindowMetrics& window() const { return window_; }

  // A request finished at `now` (dispatched_s is NaN for one that never reached a pod).
  void finish(Outcome outcome, double now, double arrival_s, double dispatched_s, bool cold_affected);

  // Closes the window at `now` (its end, or earlier for a last, shorter window), hands it
  // to the sink and starts the next one.
  void close(double now, const WindowEnd& end);

  RunTotals totals() const;
  const QuantileSketch& ok_latency() const { return ok_latency_; }
  const WindowMetrics* last() const { return has_last_ ? &last_ : nullptr; }

 private:
  void start_window(std::int64_t index, double start_s);

  double interval_s_, cpu_request_cores_, memory_request_mib_;
  WindowSink sink_;
  WindowMetrics window_, last_;
  bool has_last_ = false;
  std::vector<double> latencies_;  // client latencies of this window's 200s, reused
  RunTotals closed_;               // sums over the closed windows
  QuantileSketch ok_latency_;
};

}  // namespace faascale
