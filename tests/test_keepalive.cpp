// The keep-alive platform: SimFaaS' published example (reference facts section 7), and
// its semantics on hand-built cases: the most recently idled instance is reused, idle
// instances expire, max_concurrency rejects, a cold request waits for its cold start, and
// timeouts count from arrival.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <limits>

#include "sim/keepalive_policy.hpp"

#include "scenario_builder.hpp"
#include "sim/keepalive_simulator.hpp"
#include "sim/report.hpp"

namespace faascale {
namespace {

nlohmann::json keepalive_scenario() {
  auto doc = testing::base_scenario();
  doc["platform"] = {{"kind", "keepalive"}, {"expiration_s", 600}};
  doc.erase("autoscaler");
  return doc;
}

nlohmann::json with_requests(nlohmann::json doc, const std::string& csv) {
  static int number = 0;
  const auto path = testing::scratch_path("keepalive-" + std::to_string(number++) + ".csv");
  std::ofstream(path) << "arrival_s,duration_s\n" << csv;
  doc["trace"] = {{"format", "requests-csv"}, {"path", path}};
  return doc;
}

}  // namespace

TEST_CASE("SimFaaS' example: arrival 0.9/s, warm 1.991 s, cold 2.244 s, expiration 600 s") {
  auto doc = keepalive_scenario();
  doc["duration_s"] = 2e6;
  doc["control_interval_s"] = 1000;
  doc["trace"]["rate_per_s"] = 0.9;
  doc["function"]["service"] = {{"dist", "exponential"}, {"mean_s", 1.991}};
  doc["function"]["cold_start"] = {{"dist", "deterministic"}, {"mean_s", 2.244 - 1.991}};
  const Scenario s = testing::make_scenario(doc);
  KeepAliveSimulator sim(s, nullptr);
  sim.run();
  nlohmann::json m;
  sim.add_metrics(m);
  MESSAGE("P(cold) " << m["cold_start_probability"] << ", instances " << m["instances_mean"] << ", running "
                     << m["instances_running_mean"] << ", idle " << m["instances_idle_mean"]);
  // SimFaaS README: P(cold) 0.0014, instances 7.66, running 1.79, idle 5.87 (themselves
  // simulation estimates). Cold starts are rare events (about 2,500 here), so P(cold)
  // gets the widest band.
  CHECK(m["cold_start_probability"].get<double>() == doctest::Approx(0.0014).epsilon(0.15));
  CHECK(m["instances_mean"].get<double>() == doctest::Approx(7.66).epsilon(0.03));
  CHECK(m["instances_running_mean"].get<double>() == doctest::Approx(1.79).epsilon(0.02));
  CHECK(m["instances_idle_mean"].get<double>() == doctest::Approx(5.87).epsilon(0.04));
}

TEST_CASE("the most recently idled instance is reused; the others expire") {
  // A: 0 -> 1, B: 0.5 -> 2. The request at 3 takes B (idle since 2), so A expires at
  // 1 + 10 = 11 while B, idle again from 4, expires at 14.
  auto doc = with_requests(keepalive_scenario(), "0,1\n0.5,1.5\n3,1\n");
  doc["platform"]["expiration_s"] = 10;
  doc["function"]["cold_start"] = {{"dist", "deterministic"}, {"mean_s", 1e-9}};
  doc["duration_s"] = 20;
  KeepAliveSimulator sim(testing::make_scenario(doc), nullptr);
  sim.run_until(3.5);
  CHECK(sim.instances() == 2);
  sim.run_until(11.5);
  CHECK(sim.instances() == 1);  // with the least recently idled reused, 2 would remain
  sim.run_until(14.5);
  CHECK(sim.instances() == 0);
  sim.run();
  CHECK(sim.totals().ok == 3);
  CHECK(sim.totals().cold_starts == 2);
}

TEST_CASE("a cold request takes its cold start plus its service time; the gateway times only the latter") {
  auto doc = with_requests(keepalive_scenario(), "1,2\n");
  doc["function"]["cold_start"] = {{"dist", "deterministic"}, {"mean_s", 0.5}};
  doc["duration_s"] = 10;
  std::vector<WindowMetrics> windows;
  KeepAliveSimulator sim(testing::make_scenario(doc), nullptr, [&](const WindowMetrics& w) { windows.push_back(w); });
  sim.run();
  CHECK(sim.totals().ok_latency_sum_s == doctest::Approx(2.5));
  CHECK(sim.totals().cold_start_affected == 1);
  CHECK(sim.totals().wait_sum_s == doctest::Approx(0.5));
  REQUIRE(windows.size() == 1);
  CHECK(windows[0].avg_execution_s() == doctest::Approx(2.0));
}

TEST_CASE("an instance whose cold start outlasts the timeout is not warm before it has loaded") {
  // Cold start 50 s, timeout 30 s: the first request fails at 30 s, its instance loads
  // until 50 s, so the request at 31 s finds no idle instance and starts its own.
  auto doc = with_requests(keepalive_scenario(), "0,1\n31,1\n");
  doc["function"]["cold_start"] = {{"dist", "deterministic"}, {"mean_s", 50}};
  doc["function"]["timeout_s"] = 30;
  doc["duration_s"] = 200;
  KeepAliveSimulator sim(testing::make_scenario(doc), nullptr);
  sim.run();
  CHECK(sim.totals().cold_starts == 2);
  CHECK(sim.totals().timed_out == 2);
}

TEST_CASE("pre-warming respects max_concurrency") {
  std::string csv;
  for (int i = 0; i < 40; ++i) csv += std::to_string(100 * i) + ",1\n";
  auto doc = with_requests(keepalive_scenario(), csv);
  doc["platform"]["max_concurrency"] = 1;
  doc["autoscaler"] = {{"kind", "hybrid-histogram"}, {"min_samples", 1}, {"cv_threshold", 0}};
  doc["duration_s"] = 4000;
  doc["control_interval_s"] = 10;
  std::int64_t most = 0;
  KeepAliveSimulator sim(testing::make_scenario(doc), nullptr,
                         [&](const WindowMetrics& w) { most = std::max(most, w.pods); });
  sim.run();
  nlohmann::json m;
  sim.add_metrics(m);
  CHECK(m["prewarms"].get<int>() > 0);
  CHECK(most <= 1);
}

TEST_CASE("max_concurrency rejects; timeouts count from arrival") {
  auto doc = with_requests(keepalive_scenario(), "0,5\n0,5\n0,5\n");
  doc["platform"]["max_concurrency"] = 2;
  doc["function"]["timeout_s"] = 3;
  doc["duration_s"] = 10;
  KeepAliveSimulator sim(testing::make_scenario(doc), nullptr);
  sim.run();
  const RunTotals t = sim.totals();
  CHECK(t.rejected == 1);
  CHECK(t.timed_out == 2);
  CHECK(t.arrivals == t.finished());
  // The two instances used CPU from the end of their 1 s cold start to the timeout at 3 s.
  CHECK(t.cpu_core_seconds == doctest::Approx(4.0));
}

TEST_CASE("keepalive runs are deterministic and conserve requests; summary adds its metrics") {
  auto doc = keepalive_scenario();
  doc["duration_s"] = 5000;
  doc["trace"]["rate_per_s"] = 3;
  doc["function"]["service"] = {{"dist", "lognormal"}, {"mean_s", 1.0}, {"cv", 2.0}};
  doc["function"]["timeout_s"] = 4;
  doc["platform"]["expiration_s"] = 30;
  doc["platform"]["max_concurrency"] = 6;
  std::string csv[2];
  for (auto& out : csv) {
    const auto sim = make_simulation(testing::make_scenario(doc), [&](const WindowMetrics& w) { out += windows_csv_row(w); });
    sim->run();
    const RunTotals t = sim->totals();
    CHECK(t.rejected > 0);
    CHECK(t.timed_out > 0);
    CHECK(t.arrivals == t.finished() + sim->in_system());
    const nlohmann::json m = run_metrics(*sim);
    CHECK(m.contains("cold_start_probability"));
    CHECK(m["instances_mean"].get<double>() <= 6.0);
  }
  CHECK(csv[0] == csv[1]);
}

TEST_CASE("the keepalive platform takes keep-alive policies only") {
  auto doc = keepalive_scenario();
  doc["autoscaler"] = {{"kind", "static"}, {"replicas", 1}};
  CHECK_THROWS_WITH_AS(testing::make_scenario(doc), doctest::Contains("$.autoscaler.kind: \"static\" is not supported"),
                       InputError);
}

TEST_CASE("hybrid histogram: pre-warm at the 5th percentile, keep to the 99th, with margins") {
  nlohmann::json resolved;
  auto policy = make_keepalive_policy({{"kind", "hybrid-histogram"}}, 600, "t.json", resolved);
  // Too few idle times: not representative, so keep loaded for the whole 4 h range.
  for (int i = 0; i < 5; ++i) policy->on_arrival(0, 610);
  CHECK(policy->on_idle(0).prewarm_after_s == 0);
  CHECK(policy->on_idle(0).keep_alive_s == 14400);
  // 50 idle times in the bin [600, 660): head at its lower edge less 10%, tail at its
  // upper edge plus 10%.
  for (int i = 0; i < 45; ++i) policy->on_arrival(0, 615);
  const auto d = policy->on_idle(0);
  CHECK(d.prewarm_after_s == doctest::Approx(540));
  CHECK(d.keep_alive_s == doctest::Approx(660 * 1.1 - 540));
  // No idle time is recorded while requests run.
  policy->on_arrival(0, std::numeric_limits<double>::quiet_NaN());
}

TEST_CASE("hybrid histogram on a periodic function: warm starts at a fraction of a long keep-alive's cost") {
  // A 1 s request every 600 s, with a 1 s cold start.
  std::string csv;
  for (int i = 0; i < 200; ++i) csv += std::to_string(600 * i) + ",1\n";
  auto doc = with_requests(keepalive_scenario(), csv);
  doc["duration_s"] = 600 * 200;
  doc["control_interval_s"] = 600;
  const auto run = [&](const nlohmann::json& autoscaler) {
    auto d = doc;
    d["autoscaler"] = autoscaler;
    const auto sim = make_simulation(testing::make_scenario(d));
    sim->run();
    return run_metrics(*sim);
  };
  const auto short_fixed = run({{"kind", "fixed-keepalive"}, {"keep_alive_s", 300}});
  const auto long_fixed = run({{"kind", "fixed-keepalive"}, {"keep_alive_s", 1200}});
  const auto hybrid = run({{"kind", "hybrid-histogram"}});
  CHECK(short_fixed["cold_start_probability"].get<double>() == 1.0);
  CHECK(long_fixed["cold_start_probability"].get<double>() == doctest::Approx(1.0 / 200));
  // The hybrid policy learns the period from its first idle times, then pre-warms.
  CHECK(hybrid["cold_start_probability"].get<double>() < 0.1);
  CHECK(hybrid["prewarms"].get<int>() > 150);
  CHECK(hybrid["replica_seconds"].get<double>() < 0.5 * long_fixed["replica_seconds"].get<double>());
  MESSAGE("instance-seconds: fixed 300 s " << short_fixed["replica_seconds"] << ", fixed 1200 s "
                                           << long_fixed["replica_seconds"] << ", hybrid " << hybrid["replica_seconds"]);
}

}  // namespace faascale
