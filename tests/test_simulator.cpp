// The simulator's semantics (docs/model.md), each checked against a hand-computed case:
// processor sharing under a CPU limit, cold-start-affected requests, timeouts, 429s from
// a full pod and from a full queue, draining on scale-down, window accounting by
// completion, what the gateway histogram times, memory, determinism and common random
// numbers.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <vector>

#include "scenario_builder.hpp"
#include "sim/report.hpp"
#include "sim/openfaas_simulator.hpp"

namespace faascale {
namespace {

// A scenario whose arrivals are the counts per window of `window_s` seconds, evenly spaced
// in each window; the service demand is deterministic.
nlohmann::json counts_scenario(const std::vector<int>& counts, double window_s, double demand) {
  static int file_number = 0;
  const auto path = testing::scratch_path("sim-counts-" + std::to_string(file_number++) + ".json");
  std::ofstream(path) << nlohmann::json(counts).dump();
  auto doc = testing::base_scenario();
  doc["trace"] = {{"format", "counts-json"}, {"path", path}, {"window_s", window_s}, {"arrivals", "uniform"}};
  doc["function"]["service"] = {{"dist", "deterministic"}, {"mean_s", demand}};
  doc.erase("duration_s");
  doc["duration_s"] = 100;
  return doc;
}

struct Run {
  std::vector<WindowMetrics> windows;
  RunTotals totals;
  std::int64_t in_system_at_end = 0;
};

Run run(const nlohmann::json& doc) {
  Run r;
  OpenFaasSimulator sim(testing::make_scenario(doc), nullptr, [&](const WindowMetrics& w) { r.windows.push_back(w); });
  sim.set_desired_replicas(doc["autoscaler"]["replicas"].get<std::int64_t>());
  sim.run();
  r.totals = sim.totals();
  r.in_system_at_end = sim.in_flight() + sim.queued();
  return r;
}

double mean_latency(const RunTotals& t) { return t.ok_latency_sum_s / static_cast<double>(t.ok); }

}  // namespace

TEST_CASE("processor sharing: a CPU limit is shared equally, each request at most one core") {
  SUBCASE("limit 0.2: a 0.2 CPU-s request alone takes 1 s") {
    auto doc = counts_scenario({1}, 2, 0.2);
    doc["function"]["cpu_limit_cores"] = 0.2;
    const Run r = run(doc);
    CHECK(r.totals.ok == 1);
    CHECK(mean_latency(r.totals) == doctest::Approx(1.0));
    CHECK(r.totals.cpu_core_seconds == doctest::Approx(0.2));
  }
  SUBCASE("limit 0.2: two 0.2 CPU-s requests 0.5 ms apart both take 1.9995 s") {
    // Arrivals at 0.25 ms and 0.75 ms. The first runs alone at 0.2 cores for 0.5 ms
    // (0.0001 CPU-s), then both at 0.1 core: the first needs 0.1999 more (1.999 s), by
    // which time the second lacks 0.0001 CPU-s, done alone at 0.2 in 0.5 ms.
    auto doc = counts_scenario({2}, 0.001, 0.2);
    doc["function"]["cpu_limit_cores"] = 0.2;
    doc["function"]["max_inflight"] = 2;
    const Run r = run(doc);
    CHECK(r.totals.ok == 2);
    CHECK(mean_latency(r.totals) == doctest::Approx(1.9995));
    CHECK(r.totals.cpu_core_seconds == doctest::Approx(0.4));
  }
  SUBCASE("no limit: each request runs at one core") {
    auto doc = counts_scenario({2}, 0.001, 0.2);
    doc["function"]["max_inflight"] = 2;
    const Run r = run(doc);
    CHECK(mean_latency(r.totals) == doctest::Approx(0.2));
  }
  SUBCASE("limit 1.5 with two requests: 0.75 cores each") {
    // Arrivals 0.5 ms apart: the first runs alone at one core for 0.5 ms, then both at
    // 0.75 cores; each takes 0.0005 + 0.2995 / 0.75 s.
    auto doc = counts_scenario({2}, 0.001, 0.3);
    doc["function"]["cpu_limit_cores"] = 1.5;
    doc["function"]["max_inflight"] = 2;
    const Run r = run(doc);
    CHECK(mean_latency(r.totals) == doctest::Approx(0.0005 + 0.2995 / 0.75));
  }
}

TEST_CASE("every request that waited for a cold start is cold-start-affected, in both dispatch modes") {
  for (int queue_capacity : {100, 0}) {
    CAPTURE(queue_capacity);
    // Arrivals at 1, 3, 5 s (window 6 s, 3 uniform) and 15 s; the only pod is created at
    // 0 s and ready at 10 s.
    auto doc = counts_scenario({3, 0, 1}, 6, 0.1);
    doc["function"]["max_inflight"] = 3;
    doc["function"]["cold_start"] = {{"dist", "deterministic"}, {"mean_s", 10}};
    doc["platform"]["initial_replicas"] = 0;
    doc["platform"]["queue_capacity"] = queue_capacity;
    doc["platform"]["routing"] = "least-loaded";
    const Run r = run(doc);
    CHECK(r.totals.cold_starts == 1);
    CHECK(r.totals.ok == 4);
    CHECK(r.totals.cold_start_affected == 3);
    CHECK(r.totals.waited == 3);
    CHECK(r.totals.wait_sum_s == doctest::Approx(9 + 7 + 5));
  }
}

TEST_CASE("the gateway histogram times dispatch to response; the client sees the wait too") {
  auto doc = counts_scenario({1}, 2, 0.5);  // arrives at 1 s
  doc["function"]["cold_start"] = {{"dist", "deterministic"}, {"mean_s", 4}};
  doc["platform"]["initial_replicas"] = 0;
  doc["control_interval_s"] = 10;
  const Run r = run(doc);
  REQUIRE(r.windows.size() >= 1);
  const WindowMetrics& w = r.windows[0];
  CHECK(w.ok == 1);
  CHECK(w.avg_execution_s() == doctest::Approx(0.5));
  CHECK(w.gateway_p95_s() == doctest::Approx(0.25 + 0.25 * 0.95));  // rank 0.95 in (0.25, 0.5]
  CHECK(w.client_p95_s == doctest::Approx(3.5));  // waited 3 s (ready at 4 s), ran 0.5 s
}

TEST_CASE("a timed-out request fails with 504 at arrival + timeout and stops using CPU") {
  auto doc = counts_scenario({1}, 2, 10.0);  // arrives at 1 s, would need 10 s
  doc["function"]["timeout_s"] = 3;
  const Run r = run(doc);
  CHECK(r.totals.timed_out == 1);
  CHECK(r.totals.ok == 0);
  CHECK(r.totals.cpu_core_seconds == doctest::Approx(3.0));
  CHECK(r.windows[0].timed_out == 1);
  CHECK(r.windows[0].success_pct() == 0.0);
}

TEST_CASE("queued requests time out from their arrival") {
  auto doc = counts_scenario({2}, 0.001, 10.0);  // two at once, one pod, one slot
  doc["function"]["timeout_s"] = 4;
  const Run r = run(doc);
  // Arrivals at 0.25 and 0.75 ms: the first runs until its deadline 4.00025 s, then the
  // second runs from there to its own deadline 0.5 ms later.
  CHECK(r.totals.timed_out == 2);
  CHECK(r.totals.cpu_core_seconds == doctest::Approx(4.0005));
  CHECK(r.totals.dispatched == 2);
  CHECK(r.totals.wait_sum_s == doctest::Approx(4.0 - 0.0005));
}

TEST_CASE("direct routing: a request routed to a full pod gets 429 at once") {
  auto doc = counts_scenario({2}, 0.001, 5.0);
  doc["platform"]["queue_capacity"] = 0;
  const Run r = run(doc);
  CHECK(r.totals.rejected == 1);
  CHECK(r.totals.ok == 1);
  // The 429 reached the pod: the gateway histogram has it, in the first bucket.
  CHECK(r.windows[0].gateway.bucket(0) == 1);
}

TEST_CASE("round-robin routing spreads requests over the ready pods") {
  auto doc = counts_scenario({4}, 0.001, 5.0);
  doc["platform"]["queue_capacity"] = 0;
  doc["platform"]["routing"] = "round-robin";
  doc["platform"]["initial_replicas"] = 4;
  doc["autoscaler"]["replicas"] = 4;
  const Run r = run(doc);
  CHECK(r.totals.ok == 4);
  CHECK(r.totals.rejected == 0);
}

TEST_CASE("a full gateway queue rejects with 429") {
  auto doc = counts_scenario({3}, 0.001, 1.0);
  doc["platform"]["queue_capacity"] = 1;
  const Run r = run(doc);
  CHECK(r.totals.ok == 2);
  CHECK(r.totals.rejected == 1);
}

TEST_CASE("scale-down: a removed pod takes no new requests, finishes its own, then exits") {
  auto doc = counts_scenario({2}, 0.001, 10.0);  // two 10 s requests at ~0 s
  doc["platform"]["initial_replicas"] = 2;
  doc["platform"]["routing"] = "least-loaded";
  doc["duration_s"] = 20;
  OpenFaasSimulator sim(testing::make_scenario(doc), nullptr);
  sim.run_until(1.0);
  CHECK(sim.view().ready == 2);
  sim.set_desired_replicas(1);
  CHECK(sim.view().ready == 1);
  CHECK(sim.view().draining == 1);
  sim.run();
  CHECK(sim.totals().ok == 2);
  CHECK(sim.view().draining == 0);
  // One pod for 20 s, the other until its request finished at ~10 s.
  CHECK(sim.totals().replica_seconds == doctest::Approx(30.0).epsilon(1e-4));
}

TEST_CASE("replicas stay within [min, max]; a pod removed before it is ready never serves") {
  auto doc = counts_scenario({1}, 2, 0.1);
  doc["platform"]["min_replicas"] = 1;
  doc["platform"]["max_replicas"] = 3;
  doc["function"]["cold_start"] = {{"dist", "deterministic"}, {"mean_s", 5}};
  OpenFaasSimulator sim(testing::make_scenario(doc), nullptr);
  sim.set_desired_replicas(100);
  CHECK(sim.view().desired == 3);
  CHECK(sim.view().starting == 2);
  sim.set_desired_replicas(-4);
  CHECK(sim.view().desired == 1);
  CHECK(sim.view().starting == 0);
  CHECK(sim.view().ready == 1);
  sim.run();
  CHECK(sim.totals().cold_starts == 2);
  CHECK(sim.totals().cold_start_affected == 0);
}

TEST_CASE("a request counts in the window in which it completes") {
  auto doc = counts_scenario({1}, 20, 5.0);  // arrives at 10 s, done at 15 s
  doc["control_interval_s"] = 12;
  const Run r = run(doc);
  CHECK(r.windows[0].arrivals == 1);
  CHECK(r.windows[0].requests() == 0);
  CHECK(r.windows[0].success_pct() == 100.0);  // no requests: 100, as LSTM-PPO defines it
  CHECK(r.windows[1].ok == 1);
  CHECK(r.windows[1].requests_per_s() == doctest::Approx(1.0 / 12));
}

TEST_CASE("a run that is not a whole number of windows ends with a shorter last window") {
  for (double interval : {30.0, 1.1, 0.3, 500.0}) {
    CAPTURE(interval);
    auto doc = testing::base_scenario();
    doc["duration_s"] = interval == 1.1 ? 110.0 : 100.0;
    doc["control_interval_s"] = interval;
    doc["trace"]["rate_per_s"] = 5;
    std::vector<WindowMetrics> windows;
    OpenFaasSimulator sim(testing::make_scenario(doc), nullptr, [&](const WindowMetrics& w) { windows.push_back(w); });
    sim.run();
    REQUIRE(!windows.empty());
    CHECK(windows.back().end_s == doctest::Approx(doc["duration_s"].get<double>()));
    std::int64_t requests = 0, arrivals = 0;
    for (const auto& w : windows) {
      requests += w.requests();
      arrivals += w.arrivals;
    }
    CHECK(requests == sim.totals().finished());
    CHECK(arrivals == sim.totals().arrivals);
  }
}

TEST_CASE("scaling many pods down at once") {
  auto doc = counts_scenario({0}, 10, 1.0);
  doc["platform"]["max_replicas"] = 20000;
  doc["platform"]["min_replicas"] = 0;
  doc["platform"]["initial_replicas"] = 20000;
  OpenFaasSimulator sim(testing::make_scenario(doc), nullptr);
  CHECK(sim.view().ready == 20000);
  sim.set_desired_replicas(7);
  CHECK(sim.view().ready == 7);
  sim.set_desired_replicas(0);
  CHECK(sim.view().ready == 0);
  CHECK(sim.view().draining == 0);
}

TEST_CASE("CPU and memory observations relative to the requests") {
  // One pod, busy 6 s of a 12 s window at one core (no limit); memory idle 64 MiB plus
  // 16 MiB while the request runs, against a 256 MiB request.
  auto doc = counts_scenario({1}, 2, 6.0);
  doc["control_interval_s"] = 12;
  doc["function"]["cpu_request_cores"] = 0.5;
  doc["function"]["memory_idle_mib"] = 64;
  doc["function"]["memory_per_request_mib"] = 16;
  const Run r = run(doc);
  CHECK(r.windows[0].avg_cpu() == doctest::Approx(6.0 / 12 / 0.5));
  CHECK(r.windows[0].avg_mem() == doctest::Approx((64.0 * 12 + 16 * 6) / 12 / 256));
}

TEST_CASE("runs are deterministic for a seed and differ across seeds") {
  auto doc = testing::base_scenario();
  doc["trace"]["rate_per_s"] = 3.0;
  doc["function"]["service"] = {{"dist", "lognormal"}, {"mean_s", 0.8}, {"cv", 1.0}};
  doc["function"]["max_inflight"] = 2;
  doc["function"]["cpu_limit_cores"] = 0.7;
  doc["function"]["timeout_s"] = 5;
  doc["platform"]["queue_capacity"] = 0;
  doc["autoscaler"]["replicas"] = 3;
  const auto csv = [](const nlohmann::json& d) {
    std::string out;
    for (const auto& w : run(d).windows) out += windows_csv_row(w);
    return out;
  };
  const std::string first = csv(doc);
  CHECK(first == csv(doc));
  doc["seed"] = 2;
  CHECK(first != csv(doc));
}

TEST_CASE("common random numbers: two policies on one seed see the same requests") {
  auto doc = testing::base_scenario();
  doc["trace"]["rate_per_s"] = 2.0;
  doc["function"]["service"] = {{"dist", "lognormal"}, {"mean_s", 1.0}, {"cv", 0.5}};
  doc["function"]["cold_start"] = {{"dist", "lognormal"}, {"mean_s", 2.0}, {"cv", 0.5}};
  doc["duration_s"] = 20000;
  RunTotals totals[2];
  int i = 0;
  for (int replicas : {3, 9}) {
    doc["autoscaler"]["replicas"] = replicas;
    totals[i++] = run(doc).totals;
  }
  CHECK(totals[0].arrivals == totals[1].arrivals);
  // Without a CPU limit or timeouts, CPU used is the sum of the demands of the requests
  // done: nearly all of them, in either run.
  CHECK(totals[0].cpu_core_seconds == doctest::Approx(totals[1].cpu_core_seconds).epsilon(1e-3));
  CHECK(totals[0].wait_sum_s > totals[1].wait_sum_s);
}

}  // namespace faascale
