// Traces: counts-per-window expansion (poisson and uniform instants), scaling, slicing,
// repeating, the Poisson stream, and the errors a bad counts file gives.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "scratch.hpp"
#include "sim/trace.hpp"

namespace faascale {
namespace {

std::string write_temp(const std::string& name, const std::string& text) {
  const auto path = testing::scratch_path("trace-" + name);
  std::ofstream(path) << text;
  return path;
}

TraceSpec counts_spec(const std::string& file_text, nlohmann::json changes = nlohmann::json::object()) {
  nlohmann::json doc = {{"format", "counts-json"}, {"path", write_temp("counts.json", file_text)}, {"window_s", 30}};
  doc.update(changes);
  nlohmann::json resolved;
  return TraceSpec::read(JsonReader(doc, "test.json", "$.trace", resolved), "");
}

// Arrivals per window of `window_s` seconds, until the source is exhausted.
std::vector<int> per_window(ArrivalSource& source, double window_s) {
  std::vector<int> counts;
  double previous = 0;
  for (double t = source.next(); std::isfinite(t); t = source.next()) {
    REQUIRE(t >= previous);  // non-decreasing
    previous = t;
    const auto w = static_cast<std::size_t>(t / window_s);
    if (counts.size() <= w) counts.resize(w + 1, 0);
    ++counts[w];
  }
  return counts;
}

}  // namespace

TEST_CASE("counts-json with poisson instants keeps every window's count") {
  const TraceSpec spec = counts_spec("[3, 0, 5, 1]");
  auto source = make_arrival_source(spec, 1);
  CHECK(per_window(*source, 30) == std::vector<int>{3, 0, 5, 1});
  CHECK(spec.span_s() == 120);
}

TEST_CASE("counts-json with uniform instants spaces them evenly") {
  const TraceSpec spec = counts_spec("[2, 3]", {{"arrivals", "uniform"}});
  auto source = make_arrival_source(spec, 1);
  for (double expected : {7.5, 22.5, 35.0, 45.0, 55.0}) CHECK(source->next() == doctest::Approx(expected));
  CHECK(std::isinf(source->next()));
}

TEST_CASE("a window of a billion requests streams its instants in order, in constant memory") {
  const TraceSpec spec = counts_spec("[1000000000]", {{"scale", 1000}});
  auto source = make_arrival_source(spec, 3);
  double previous = 0;
  for (int i = 0; i < 100000; ++i) {
    const double t = source->next();
    REQUIRE(t >= previous);
    REQUIRE(t < 30);
    previous = t;
  }
  // 1e12 uniform instants in 30 s: the 100000th smallest is near 100000 * 30 / 1e12.
  CHECK(previous == doctest::Approx(3e-6).epsilon(0.05));
}

TEST_CASE("slicing and repeating") {
  const TraceSpec spec = counts_spec("[1, 2, 3, 4, 5]", {{"start_s", 30}, {"length_s", 60}, {"repeat", 3}});
  auto source = make_arrival_source(spec, 1);
  CHECK(per_window(*source, 30) == std::vector<int>{2, 3, 2, 3, 2, 3});
}

TEST_CASE("a slice off a window boundary or past the end is an error naming the key") {
  CHECK_THROWS_WITH(counts_spec("[1, 2]", {{"start_s", 15}}), doctest::Contains("$.trace.start_s"));
  CHECK_THROWS_WITH(counts_spec("[1, 2]", {{"start_s", 30}, {"length_s", 60}}),
                    doctest::Contains("does not fit"));
}

TEST_CASE("scaling a count rounds randomly so that the expected count is exact") {
  const TraceSpec spec = counts_spec("[3]", {{"scale", 0.5}, {"repeat", 20000}});
  auto source = make_arrival_source(spec, 9);
  const std::vector<int> counts = per_window(*source, 30);
  double total = 0;
  for (int c : counts) {
    CHECK((c == 1 || c == 2));
    total += c;
  }
  // 20000 windows of 1.5 expected: binomial standard deviation sqrt(20000/4) = 71.
  CHECK(std::abs(total - 30000) < 5 * 71);
}

TEST_CASE("same seed, same instants; another seed, other instants") {
  const TraceSpec spec = counts_spec("[10, 10]");
  auto a = make_arrival_source(spec, 5), b = make_arrival_source(spec, 5), c = make_arrival_source(spec, 6);
  bool differs = false;
  for (int i = 0; i < 20; ++i) {
    const double x = a->next();
    CHECK(x == b->next());
    differs = differs || x != c->next();
  }
  CHECK(differs);
}

TEST_CASE("the Poisson stream has the requested rate and stops at length_s") {
  nlohmann::json doc = {{"format", "poisson"}, {"rate_per_s", 4}, {"scale", 2.5}, {"length_s", 10000}};
  nlohmann::json resolved;
  const TraceSpec spec = TraceSpec::read(JsonReader(doc, "test.json", "$.trace", resolved), "");
  auto source = make_arrival_source(spec, 2);
  double n = 0, last = 0;
  for (double t = source->next(); std::isfinite(t); t = source->next()) {
    ++n;
    last = t;
  }
  CHECK(last < 10000);
  CHECK(std::abs(n - 100000) < 5 * std::sqrt(100000.0));  // Poisson count, 5 sigma
}

TEST_CASE("bad counts files: clear errors with file and position") {
  CHECK_THROWS_WITH(load_counts_json(write_temp("neg.json", "[1, 2, -3]")),
                    doctest::Contains("element [2]"));
  CHECK_THROWS_WITH(load_counts_json(write_temp("float.json", "[1, 2.5]")), doctest::Contains("element [1]"));
  CHECK_THROWS_WITH(load_counts_json(write_temp("obj.json", "{\"a\": 1}")), doctest::Contains("expected a JSON array"));
  CHECK_THROWS_WITH(load_counts_json(write_temp("empty.json", "[]")), doctest::Contains("empty"));
  CHECK_THROWS_WITH(load_counts_json(write_temp("syntax.json", "[1,\n 2,,3]")), doctest::Contains("line 2, column 4"));
  CHECK_THROWS_WITH(load_counts_json("/nonexistent/counts.json"), doctest::Contains("cannot open"));
  CHECK_THROWS_WITH(load_counts_json(testing::scratch_dir().string()), doctest::Contains("is a folder"));
  CHECK(load_counts_json(write_temp("float-integral.json", "[1, 3.0]")) == std::vector<std::int64_t>{1, 3});
}

}  // namespace faascale
