// Implementation of recorder.hpp.
#include "sim/recorder.hpp"

#include <cmath>
#include <tuple>

namespace faascale {

MetricsRecorder::MetricsRecorder(double interval_s, double cpu_request_cores, double memory_request_mib,
                                 WindowSink sink)
    : interval_s_(interval_s),
      cpu_request_cores_(cpu_request_cores),
      memory_request_mib_(memory_request_mib),
      sink_(std::move(sink)) {
  start_window(0, 0.0);
}

void MetricsRecorder::start_window(std::int64_t index, double start_s) {
  window_ = WindowMetrics{};
  window_.index = index;
  window_.start_s = start_s;
  // Boundaries are multiples of the interval, not sums, so they never drift.
  window_.end_s = static_cast<double>(index + 1) * interval_s_;
  window_.cpu_request_cores = cpu_request_cores_;
  window_.memory_request_mib = memory_request_mib_;
  latencies_.clear();
}

void MetricsRecorder::finish(Outcome outcome, double now, double arrival_s, double dispatched_s, bool cold_affected) {
  const double latency = now - arrival_s;
  window_.latency_sum_s += latency;
  if (!std::isnan(dispatched_s)) {
    window_.gateway.add(now - dispatched_s);
    const double wait = dispatched_s - arrival_s;
    ++window_.dispatched;
    window_.wait_sum_s += wait;
    window_.waited += wait > 0;
    window_.cold_start_affected += cold_affected;
  }
  switch (outcome) {
    case Outcome::ok:
      ++window_.ok;
      window_.ok_gateway_seconds += now - dispatched_s;
      window_.ok_latency_sum_s += latency;
      latencies_.push_back(latency);
      ok_latency_.add(latency);
      break;
    case Outcome::rejected: ++window_.rejected; break;
    case Outcome::timed_out: ++window_.timed_out; break;
  }
}

void MetricsRecorder::close(double now, const WindowEnd& end) {
  window_.end_s = now;
  window_.ready_replicas = end.ready_replicas;
  window_.desired_replicas = end.desired_replicas;
  window_.pods = end.pods;
  window_.queued = end.queued;
  window_.in_flight = end.in_flight;
  std::tie(window_.client_p95_s, window_.client_p99_s) = nearest_rank_quantiles(latencies_, 0.95, 0.99);
  if (sink_) sink_(window_);
  closed_.add(window_);
  last_ = window_;
  has_last_ = true;
  start_window(window_.index + 1, now);
}

RunTotals MetricsRecorder::totals() const {
  RunTotals t = closed_;
  t.add(window_);
  return t;
}

}  // namespace faascale
