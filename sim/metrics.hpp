// What the simulator measures: one WindowMetrics per control window (the observations the
// live cluster's Prometheus queries give, reference facts sections 1-2) and RunTotals for
// the whole run (summary.json). docs/model.md, "Metrics", is the contract.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>

#include "sim/quantiles.hpp"

namespace faascale {

struct WindowMetrics {
  std::int64_t index = 0;
  double start_s = 0, end_s = 0;
  // Requests that completed in the window, by HTTP code (gateway_function_invocation_total).
  std::int64_t ok = 0, rejected = 0, timed_out = 0;
  std::int64_t arrivals = 0;
  double ok_gateway_seconds = 0;  // gateway_functions_seconds_sum{code="200"}
  GatewayHistogram gateway;       // gateway_functions_seconds_bucket, every dispatched request
  double client_p95_s = std::numeric_limits<double>::quiet_NaN();  // exact, code 200, arrival to response
  double client_p99_s = std::numeric_limits<double>::quiet_NaN();
  double cpu_core_seconds = 0;    // CPU time used by all pods during the window
  double memory_mib_seconds = 0;  // integral of all pods' memory over the window
  std::int64_t dispatched = 0, waited = 0;  // completed requests that reached a pod / that waited first
  double wait_sum_s = 0;
  double ok_latency_sum_s = 0;    // client latency, code 200
  double latency_sum_s = 0;       // client latency, every finished request
  std::int64_t cold_starts = 0, cold_start_affected = 0;
  // Integrals over the window: pods alive (creation to exit: what is paid for), pods
  // ready, requests queued or in flight.
  double replica_seconds = 0, ready_pod_seconds = 0, in_system_seconds = 0;
  // Platform state at the window's end.
  std::int64_t ready_replicas = 0, desired_replicas = 0, pods = 0, queued = 0, in_flight = 0;
  // Units for the relative CPU and memory observations.
  double cpu_request_cores = 1, memory_request_mib = 1;

  double length_s() const { return end_s - start_s; }
  std::int64_t requests() const { return ok + rejected + timed_out; }
  // rate(sum{code=200}) / rate(count{code=200}); NaN without successes.
  double avg_execution_s() const {
    return ok > 0 ? ok_gateway_seconds / static_cast<double>(ok) : std::numeric_limits<double>::quiet_NaN();
  }
  // LSTM-PPO's throughput: % of the window's requests answered 200; 100 when there were none.
  double success_pct() const {
    return requests() > 0 ? 100.0 * static_cast<double>(ok) / static_cast<double>(requests()) : 100.0;
  }
  // LSTM-PPO+'s throughput: requests per second.
  double requests_per_s() const { return static_cast<double>(requests()) / length_s(); }
  // (sum of pods' CPU rate / ready replicas) / CPU request; ready replicas counted as >= 1.
  double avg_cpu() const { return cpu_core_seconds / length_s() / per_replica() / cpu_request_cores; }
  double avg_mem() const { return memory_mib_seconds / length_s() / per_replica() / memory_request_mib; }
  double gateway_p95_s() const { return gateway.quantile(0.95); }

 private:
  double per_replica() const { return static_cast<double>(ready_replicas > 0 ? ready_replicas : 1); }
};

// Sums over the windows of a run (closed ones and the one in progress).
struct RunTotals {
  std::int64_t arrivals = 0, ok = 0, rejected = 0, timed_out = 0;
  std::int64_t dispatched = 0, waited = 0;
  std::int64_t cold_starts = 0, cold_start_affected = 0;
  std::int64_t events = 0;
  double wait_sum_s = 0;
  double ok_latency_sum_s = 0;
  double latency_sum_s = 0;
  double replica_seconds = 0;
  double ready_pod_seconds = 0;
  double cpu_core_seconds = 0;
  double in_system_seconds = 0;

  std::int64_t finished() const { return ok + rejected + timed_out; }
  void add(const WindowMetrics& w) {
    arrivals += w.arrivals;
    ok += w.ok;
    rejected += w.rejected;
    timed_out += w.timed_out;
    dispatched += w.dispatched;
    waited += w.waited;
    cold_starts += w.cold_starts;
    cold_start_affected += w.cold_start_affected;
    wait_sum_s += w.wait_sum_s;
    ok_latency_sum_s += w.ok_latency_sum_s;
    latency_sum_s += w.latency_sum_s;
    replica_seconds += w.replica_seconds;
    ready_pod_seconds += w.ready_pod_seconds;
    cpu_core_seconds += w.cpu_core_seconds;
    in_system_seconds += w.in_system_seconds;
  }
};

}  // namespace faascale
