// The CSV trace formats (Azure 2019 invocations and durations, Azure 2021 per-invocation,
// plain per-request CSV) on small files written for these tests (tests/data/), and the
// errors a malformed row gives.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "scenario_builder.hpp"
#include "sim/distribution.hpp"
#include "sim/openfaas_simulator.hpp"
#include "sim/trace.hpp"

namespace faascale {
namespace {

const std::string kData = std::string(FAASCALE_SOURCE_DIR) + "/tests/data/";

std::string write_temp(const std::string& name, const std::string& text) {
  const auto path = testing::scratch_path("files-" + name);
  std::ofstream(path) << text;
  return path;
}

TraceSpec read_trace(const nlohmann::json& doc) {
  nlohmann::json resolved;
  return TraceSpec::read(JsonReader(doc, "test.json", "$.trace", resolved), "");
}

std::vector<double> all_arrivals(ArrivalSource& source, std::vector<double>* durations = nullptr) {
  std::vector<double> out;
  for (double t = source.next(); std::isfinite(t); t = source.next()) {
    out.push_back(t);
    if (durations) durations->push_back(source.duration_s());
  }
  return out;
}

}  // namespace

TEST_CASE("azure-2019: a function by hashes or by row, as counts per minute") {
  const std::string path = kData + "azure2019-invocations.csv";
  const TraceSpec by_hash = read_trace(
      {{"format", "azure-2019"}, {"path", path}, {"hash_owner", "own1"}, {"hash_app", "app1"}, {"hash_function", "fn2"}});
  const TraceSpec by_row = read_trace({{"format", "azure-2019"}, {"path", path}, {"row", 2}});
  REQUIRE(by_hash.counts->size() == 1440);
  CHECK(*by_hash.counts == *by_row.counts);
  // Row 2: 3 at every whole hour, plus 2 every 7th minute.
  CHECK((*by_hash.counts)[0] == 5);
  CHECK((*by_hash.counts)[7] == 2);
  CHECK((*by_hash.counts)[60] == 3);
  CHECK(by_hash.span_s() == 86400);
  auto source = make_arrival_source(by_hash, 1);
  const auto arrivals = all_arrivals(*source);
  std::int64_t total = 0;
  for (auto c : *by_hash.counts) total += c;
  CHECK(static_cast<std::int64_t>(arrivals.size()) == total);
  for (std::size_t i = 0; i < 5; ++i) CHECK(arrivals[i] < 60);  // minute 0's five
}

TEST_CASE("azure-2019: a slice of minutes") {
  const TraceSpec spec = read_trace({{"format", "azure-2019"}, {"path", kData + "azure2019-invocations.csv"},
                                     {"row", 1}, {"start_s", 3600}, {"length_s", 600}});
  CHECK(spec.counts->size() == 10);
  CHECK((*spec.counts)[0] == 3 + 1 * (60 % 7 == 0));
}

TEST_CASE("azure-2019 durations: an empirical distribution through the percentiles") {
  nlohmann::json doc = {{"dist", "azure-2019-durations"}, {"path", kData + "azure2019-durations.csv"},
                        {"hash_owner", "own1"}, {"hash_app", "app1"}, {"hash_function", "fn1"}};
  nlohmann::json resolved;
  const Distribution d = Distribution::read(JsonReader(doc, "t.json", "$.function.service", resolved));
  CHECK(d.wall_time());
  // Percentiles 0.1 0.12 0.3 0.4 0.6 1.8 2.0 s at 0 1 25 50 75 99 100 %.
  const double mean = 0.01 * 0.11 + 0.24 * 0.21 + 0.25 * 0.35 + 0.25 * 0.5 + 0.24 * 1.2 + 0.01 * 1.9;
  CHECK(d.mean() == doctest::Approx(mean));
  Rng rng(1, Stream::demands);
  int below_median = 0;
  for (int i = 0; i < 20000; ++i) below_median += d.sample(rng) < 0.4;
  CHECK(std::abs(below_median - 10000) < 5 * 71);
}

TEST_CASE("azure-2019 memory: the application's average allocated memory") {
  auto doc = testing::base_scenario();
  doc["function"]["memory_azure_2019"] = {
      {"path", kData + "azure2019-memory.csv"}, {"hash_owner", "own1"}, {"hash_app", "app1"}};
  CHECK(testing::make_scenario(doc).function.memory_idle_mib == 143.5);
  doc["function"]["memory_idle_mib"] = 10;
  CHECK_THROWS_WITH_AS(testing::make_scenario(doc), doctest::Contains("not both"), InputError);
  doc["function"].erase("memory_idle_mib");
  doc["function"]["memory_azure_2019"]["hash_app"] = "nope";
  CHECK_THROWS_WITH_AS(testing::make_scenario(doc), doctest::Contains("no application with"), InputError);
}

TEST_CASE("empirical distributions are checked point by point") {
  nlohmann::json resolved;
  nlohmann::json bad = {{"dist", "empirical"}, {"points", {{0, 1}, {0.5, 0.5}, {1, 2}}}};
  CHECK_THROWS_WITH_AS(Distribution::read(JsonReader(bad, "t.json", "$.s", resolved)),
                       doctest::Contains("$.s.points: element [1]"), InputError);
  nlohmann::json open_end = {{"dist", "empirical"}, {"points", {{0, 1}, {0.5, 2}}}};
  CHECK_THROWS_WITH_AS(Distribution::read(JsonReader(open_end, "t.json", "$.s", resolved)),
                       doctest::Contains("last at quantile 1"), InputError);
}

TEST_CASE("azure-2021: filtered by app and func, arrival = end - duration, sorted") {
  const TraceSpec spec =
      read_trace({{"format", "azure-2021"}, {"path", kData + "azure2021.txt"}, {"app", "appA"}, {"func", "f1"}});
  // Rows i = 0..199 with i % 3 != 0 (appA) and i odd (f1).
  std::size_t expected = 0;
  for (int i = 0; i < 200; ++i) expected += (i % 3 != 0) && (i % 2 == 1);
  CHECK(spec.requests->size() == expected);
  auto source = make_arrival_source(spec, 1);
  std::vector<double> durations;
  const auto arrivals = all_arrivals(*source, &durations);
  REQUIRE(arrivals.size() == expected);
  // The first kept row is i = 1: duration 0.15, end 0.5 + 0.15 + 0.01, so arrival 0.51.
  CHECK(arrivals[0] == doctest::Approx(0.51));
  CHECK(durations[0] == doctest::Approx(0.15));
  for (std::size_t i = 1; i < arrivals.size(); ++i) CHECK(arrivals[i] >= arrivals[i - 1]);
}

TEST_CASE("requests-csv: exact replay, scaling by copies, repeats every length_s") {
  const TraceSpec spec = read_trace({{"format", "requests-csv"}, {"path", kData + "requests.csv"}, {"scale", 2},
                                     {"length_s", 10}, {"repeat", 2}});
  auto source = make_arrival_source(spec, 1);
  std::vector<double> durations;
  const auto arrivals = all_arrivals(*source, &durations);
  const std::vector<double> expected = {0.25, 0.25, 0.5, 0.5, 3, 3, 10.25, 10.25, 10.5, 10.5, 13, 13};
  CHECK(arrivals == expected);
  CHECK(durations[0] == 2.0);
  CHECK(durations[2] == 1.0);
}

TEST_CASE("traced durations are the time a request takes alone, whatever the CPU limit") {
  auto doc = testing::base_scenario();
  doc["trace"] = {{"format", "requests-csv"}, {"path", kData + "requests.csv"}};
  doc["duration_s"] = 20;
  doc["function"]["cpu_limit_cores"] = 0.5;
  doc["platform"]["initial_replicas"] = 3;
  doc["autoscaler"]["replicas"] = 3;
  OpenFaasSimulator sim(testing::make_scenario(doc), nullptr);
  sim.set_desired_replicas(3);
  sim.run();
  CHECK(sim.totals().ok == 3);
  CHECK(sim.totals().ok_latency_sum_s == doctest::Approx(2.0 + 1.0 + 0.5));
  CHECK(sim.totals().cpu_core_seconds == doctest::Approx(0.5 * 3.5));
}

TEST_CASE("by default a per-request run lasts until its last request is done") {
  auto doc = testing::base_scenario();
  doc["trace"] = {{"format", "requests-csv"}, {"path", kData + "requests.csv"}};
  doc.erase("duration_s");
  doc["function"]["timeout_s"] = 30;
  const Scenario s = testing::make_scenario(doc);
  CHECK(s.duration_s == doctest::Approx(3 + 30));  // last arrival + timeout
  OpenFaasSimulator sim(s, s.make_autoscaler());
  sim.run();
  CHECK(sim.totals().arrivals == 3);
  CHECK(sim.totals().ok == 3);
}

TEST_CASE("azure-2019 selection: duplicates are errors, blank lines do not count as rows") {
  const std::string header = "HashOwner,HashApp,HashFunction,Trigger";
  std::string minutes, ones;
  for (int m = 1; m <= 1440; ++m) {
    minutes += ',';
    minutes += std::to_string(m);
    ones += ",1";
  }
  const std::string file = write_temp("dup.csv", header + minutes + "\n\no,a,f,http" + ones + "\no,a,g,http" + ones +
                                                     "\no,a,f,http" + ones + "\n");
  CHECK_THROWS_WITH_AS(read_trace({{"format", "azure-2019"}, {"path", file}, {"hash_owner", "o"}, {"hash_app", "a"},
                                   {"hash_function", "f"}}),
                       doctest::Contains("dup.csv: line 5: the selection HashOwner=o HashApp=a HashFunction=f matches "
                                         "line 3 too"),
                       InputError);
  // Row 2 is "o,a,g" although a blank line precedes the data.
  CHECK(read_trace({{"format", "azure-2019"}, {"path", file}, {"row", 2}}).counts->size() == 1440);
  CHECK_THROWS_WITH_AS(read_trace({{"format", "azure-2019"}, {"path", file}, {"row", 9}}),
                       doctest::Contains("no function with data row 9"), InputError);
  CHECK_THROWS_WITH_AS(read_trace({{"format", "requests-csv"}, {"path", testing::scratch_dir().string()}}),
                       doctest::Contains("is a folder"), InputError);
}

TEST_CASE("malformed rows: file, line and column") {
  const std::string header = "HashOwner,HashApp,HashFunction,Trigger";
  std::string minutes, row = "o,a,f,http";
  for (int m = 1; m <= 1440; ++m) {
    minutes += ',';
    minutes += std::to_string(m);
    row += m == 5 ? ",x" : ",1";
  }
  const std::string bad_cell = write_temp("inv.csv", header + minutes + "\n" + row + "\n");
  CHECK_THROWS_WITH_AS(read_trace({{"format", "azure-2019"}, {"path", bad_cell}, {"row", 1}}),
                       doctest::Contains("line 2: column 9 (invocations per minute): expected a non-negative number, got \"x\""),
                       InputError);
  CHECK_THROWS_WITH_AS(read_trace({{"format", "azure-2019"}, {"path", kData + "azure2019-invocations.csv"},
                                   {"hash_owner", "own1"}, {"hash_app", "app1"}, {"hash_function", "nope"}}),
                       doctest::Contains("no function with HashOwner=own1 HashApp=app1 HashFunction=nope"), InputError);
  const std::string bad_2021 = write_temp("inv2021.txt", "app,func,end_timestamp,duration\na,f,1.5,0.5\na,f,2.0\n");
  CHECK_THROWS_WITH_AS(read_trace({{"format", "azure-2021"}, {"path", bad_2021}, {"app", "a"}}),
                       doctest::Contains("inv2021.txt: line 3: expected 4 comma-separated fields, got 3"), InputError);
  const std::string negative = write_temp("req.csv", "arrival_s,duration_s\n1,2\n2,-1\n");
  CHECK_THROWS_WITH_AS(read_trace({{"format", "requests-csv"}, {"path", negative}}),
                       doctest::Contains("req.csv: line 3: column 2 (duration_s)"), InputError);
  const std::string wrong_header = write_temp("hdr.csv", "time,duration\n1,2\n");
  CHECK_THROWS_WITH_AS(read_trace({{"format", "requests-csv"}, {"path", wrong_header}}),
                       doctest::Contains("line 1: expected a header starting arrival_s,duration_s"), InputError);
  CHECK_THROWS_WITH_AS(read_trace({{"format", "requests-csv"}, {"path", kData + "requests.csv"}, {"repeat", 2}}),
                       doctest::Contains("$.trace.repeat: replaying a per-request trace needs length_s"), InputError);
}

}  // namespace faascale
