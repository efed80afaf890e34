// Scenario reading: the issue's example shape, defaults made explicit, strict rejection of
// unknown keys, wrong types and out-of-range values with their JSON path, --set overrides,
// and every shipped scenario; and output files written atomically, never through a link.
#include <doctest/doctest.h>

#include <filesystem>
#include <unistd.h>
#include <fstream>

#include "scenario_builder.hpp"
#include "sim/json_reader.hpp"
#include "sim/policy.hpp"
#include "sim/report.hpp"

namespace faascale {

namespace {
const std::string kSource = FAASCALE_SOURCE_DIR;

// The shape the simulator issue requires simrun to accept, verbatim.
nlohmann::json example() {
  return nlohmann::json::parse(R"({"name": "azure-day", "seed": 42, "duration_s": 86400, "control_interval_s": 30,
 "trace": {"format": "counts-json", "path": "traces/azure-seed/request_count_raw.json",
           "window_s": 30, "arrivals": "poisson", "scale": 1.0},
 "function": {"service": {"dist": "lognormal", "mean_s": 1.5, "cv": 1.0},
              "cold_start": {"dist": "lognormal", "mean_s": 3.0, "cv": 0.3},
              "max_inflight": 4, "timeout_s": 30, "cpu_request_cores": 0.1,
              "cpu_limit_cores": 0.2, "memory_request_mib": 256},
 "platform": {"kind": "openfaas", "min_replicas": 1, "max_replicas": 24,
              "initial_replicas": 1, "queue_capacity": 1000},
 "autoscaler": {"kind": "static", "replicas": 2}})");
}

Scenario read_example(const nlohmann::json& doc) { return Scenario::from_json(doc, kSource + "/scenarios/example.json"); }
}  // namespace

TEST_CASE("the issue's example scenario is accepted, and the real trace found from the scenario's folder") {
  const Scenario s = read_example(example());
  CHECK(s.name == "azure-day");
  CHECK(s.trace.counts->size() == 2880);
  CHECK(s.function.max_inflight == 4);
  CHECK(s.function.service.mean() == 1.5);
  CHECK(s.platform.queue_capacity == 1000);
}

TEST_CASE("the resolved scenario makes defaults explicit and reads back to the same scenario") {
  auto doc = testing::base_scenario();
  doc["platform"].erase("queue_capacity");
  const Scenario s = testing::make_scenario(doc);
  CHECK(s.resolved["platform"]["queue_capacity"] == 0);
  CHECK(s.resolved["platform"]["routing"] == "random");
  CHECK(s.resolved["autoscaler"]["period_s"] == 30.0);
  const Scenario again = testing::make_scenario(s.resolved);
  CHECK(again.resolved == s.resolved);
}

TEST_CASE("bad values are rejected with their JSON path") {
  struct Case {
    std::string pointer;
    nlohmann::json value;
    const char* message;
  };
  const Case cases[] = {
      {"/function/max_inflight", -3, "$.function.max_inflight: -3 is out of range"},
      {"/function/max_inflight", 2.5, "$.function.max_inflight: expected an integer"},
      {"/function/timeout_s", "30", "$.function.timeout_s: expected a number"},
      {"/function/service/dist", "gamma", "$.function.service.dist: \"gamma\" is not supported"},
      {"/function/servce", 1, "$.function.servce: unknown key"},
      {"/platform/min_replicas", 5000, "$.platform.min_replicas: 5000 exceeds max_replicas"},
      {"/autoscaler/kind", "magic", "$.autoscaler.kind: \"magic\" is not supported"},
      {"/autoscaler/replicas", -1, "$.autoscaler.replicas: -1 is out of range"},
      {"/trace/rate_per_s", 0, "$.trace.rate_per_s: 0 is out of range"},
      {"/trace/window_s", 30, "$.trace.window_s: unknown key"},  // not a key of the poisson format
      {"/control_interval_s", nullptr, "$.control_interval_s: expected a number"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.pointer);
    auto doc = testing::base_scenario();
    doc[nlohmann::json::json_pointer(c.pointer)] = c.value;
    CHECK_THROWS_WITH_AS(testing::make_scenario(doc), doctest::Contains(c.message), InputError);
  }
  auto doc = testing::base_scenario();
  doc.erase("function");
  CHECK_THROWS_WITH_AS(testing::make_scenario(doc), doctest::Contains("$.function: missing"), InputError);
}

TEST_CASE("--set overrides parse JSON values, fall back to strings, and refuse unknown sections") {
  auto doc = testing::base_scenario();
  apply_override(doc, "function.max_inflight=8");
  apply_override(doc, "name=renamed");
  apply_override(doc, "platform.routing=round-robin");
  CHECK(doc["function"]["max_inflight"] == 8);
  CHECK(doc["name"] == "renamed");
  CHECK(testing::make_scenario(doc).platform.routing == Routing::round_robin);
  CHECK_THROWS_WITH_AS(apply_override(doc, "fnction.max_inflight=8"), doctest::Contains("no section \"fnction\""),
                       InputError);
  CHECK_THROWS_WITH_AS(apply_override(doc, "no-equals-sign"), doctest::Contains("PATH=VALUE"), InputError);
}

TEST_CASE("malformed JSON names the line and column") {
  CHECK_THROWS_WITH_AS(parse_json_text("{\n  \"a\": 1,\n  \"b\": }", "x.json"),
                       doctest::Contains("x.json: line 3, column 8"), InputError);
}

TEST_CASE("every shipped scenario is valid") {
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kSource + "/scenarios")) {
    if (entry.path().extension() != ".json") continue;
    CAPTURE(entry.path().string());
    const nlohmann::json doc = read_json_file(entry.path().string());
    if (doc.contains("train")) continue;  // training scenarios: tests/test_env.cpp
    const Scenario s = Scenario::from_json(doc, entry.path().string());
    // Every openfaas scenario has an autoscaler; the keepalive platform takes none.
    CHECK((s.make_autoscaler() != nullptr) == (s.platform.kind == "openfaas"));
    ++count;
  }
  CHECK(count >= 2);
}

TEST_CASE("an output file appears whole under its name, never written through a planted link") {
  namespace fs = std::filesystem;
  const fs::path dir = testing::scratch_dir() / "atomic";
  fs::create_directories(dir);
  const std::string target = (dir / "summary.json").string(), victim = (dir / "victim.txt").string();
  std::ofstream(victim) << "precious";
  // A link where this process's temporary file will be made.
  fs::create_symlink(victim, dir / (".summary.json." + std::to_string(::getpid()) + ".tmp"));
  {
    AtomicFile file(target);
    file.write("half");
    CHECK(!fs::exists(target));  // nothing under the name until commit
    file.write(" and whole");
    file.commit();
  }
  std::ifstream in(target), kept(victim);
  CHECK(std::string(std::istreambuf_iterator<char>(in), {}) == "half and whole");
  CHECK(std::string(std::istreambuf_iterator<char>(kept), {}) == "precious");
  for (const auto& entry : fs::directory_iterator(dir)) CHECK(entry.path().extension() != ".tmp");
  { AtomicFile abandoned(target + ".2"); abandoned.write("x"); }  // destroyed uncommitted
  CHECK(!fs::exists(target + ".2"));
}

}  // namespace faascale
