// The simulator against queueing theory: static c pods, max_inflight 1, no CPU limit,
// Poisson arrivals, exponential service and a FIFO queue make an M/M/c queue, whose mean
// wait and probability of waiting are Erlang-C closed forms. Each (c, load) pair must
// match within 2% or 3 batch-means standard errors, whichever is larger. Also: Little's
// law, and conservation of requests with timeouts and rejections in play.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "scenario_builder.hpp"
#include "sim/openfaas_simulator.hpp"

namespace faascale {
namespace {

// Erlang-C probability that an arrival waits in M/M/c with offered load a = lambda/mu.
double erlang_c(int servers, double offered) {
  // Sum_{k<c} a^k/k! and a^c/c!, computed iteratively to stay finite.
  double term = 1.0, below = 0.0;
  for (int k = 0; k < servers; ++k) {
    below += term;
    term *= offered / (k + 1);
  }
  const double rho = offered / servers;
  const double top = term / (1.0 - rho);
  return top / (below + top);
}

struct BatchStats {
  double mean = 0, standard_error = 0;
};

BatchStats batch_means(const std::vector<double>& batches) {
  BatchStats s;
  for (double b : batches) s.mean += b;
  s.mean /= static_cast<double>(batches.size());
  double ss = 0;
  for (double b : batches) ss += (b - s.mean) * (b - s.mean);
  s.standard_error = std::sqrt(ss / static_cast<double>(batches.size() - 1) / static_cast<double>(batches.size()));
  return s;
}

void check_close(const char* what, const BatchStats& measured, double expected) {
  const double tolerance = std::max(0.02 * expected, 3.0 * measured.standard_error);
  MESSAGE(std::string(what) << ": simulated " << measured.mean << " +- " << measured.standard_error << " (1 s.e.), Erlang-C "
               << expected << ", tolerance " << tolerance);
  CHECK(std::abs(measured.mean - expected) <= tolerance);
}

}  // namespace

TEST_CASE("M/M/c mean wait and P(wait) match Erlang-C") {
  constexpr double kMeanService = 1.0;
  constexpr double kRequestsPerCase = 2'000'000;
  constexpr int kBatches = 40;
  constexpr int kWindowsPerBatch = 25;
  constexpr int kWarmupWindows = 50;  // discarded, so the empty start does not bias the mean
  const std::vector<std::pair<int, double>> cases = {{1, 0.5}, {2, 0.8}, {4, 0.9}, {10, 0.7}, {24, 0.9}};
  for (const auto& [servers, rho] : cases) {
    CAPTURE(servers);
    CAPTURE(rho);
    const double lambda = rho * servers / kMeanService;
    const double duration = kRequestsPerCase / lambda;
    const int windows = kBatches * kWindowsPerBatch + kWarmupWindows;
    auto doc = testing::base_scenario();
    doc["seed"] = 1000 + servers;
    doc["duration_s"] = duration;
    doc["control_interval_s"] = duration / windows;
    doc["trace"]["rate_per_s"] = lambda;
    doc["function"]["service"]["mean_s"] = kMeanService;
    doc["platform"]["initial_replicas"] = servers;
    doc["autoscaler"]["replicas"] = servers;

    std::vector<double> wait_sum(kBatches, 0), waited(kBatches, 0), dispatched(kBatches, 0);
    OpenFaasSimulator sim(testing::make_scenario(doc), nullptr, [&](const WindowMetrics& w) {
      if (w.index < kWarmupWindows) return;
      const auto b = static_cast<std::size_t>((w.index - kWarmupWindows) / kWindowsPerBatch);
      if (b >= wait_sum.size()) return;
      wait_sum[b] += w.wait_sum_s;
      waited[b] += static_cast<double>(w.waited);
      dispatched[b] += static_cast<double>(w.dispatched);
    });
    sim.set_desired_replicas(servers);
    sim.run();
    std::vector<double> mean_wait, p_wait;
    for (int b = 0; b < kBatches; ++b) {
      mean_wait.push_back(wait_sum[b] / dispatched[b]);
      p_wait.push_back(waited[b] / dispatched[b]);
    }
    const double c = erlang_c(servers, lambda * kMeanService);
    check_close("P(wait)", batch_means(p_wait), c);
    check_close("mean wait", batch_means(mean_wait), c / (servers / kMeanService - lambda));
  }
}

TEST_CASE("Erlang-C helper reproduces textbook values") {
  // M/M/1: P(wait) = rho. M/M/2 at a = 1: C = (1/2 * 2) / (1 + 1 + 1) = 1/3.
  CHECK(erlang_c(1, 0.7) == doctest::Approx(0.7));
  CHECK(erlang_c(2, 1.0) == doctest::Approx(1.0 / 3.0));
}

TEST_CASE("Little's law: time-average number in system equals arrival rate times mean latency") {
  auto doc = testing::base_scenario();
  doc["duration_s"] = 200000;
  doc["trace"]["rate_per_s"] = 3.2;
  doc["platform"]["initial_replicas"] = 4;
  doc["autoscaler"]["replicas"] = 4;
  OpenFaasSimulator sim(testing::make_scenario(doc), nullptr);
  sim.run();
  const RunTotals& t = sim.totals();
  const double time_average_in_system = t.in_system_seconds / sim.now();
  const double arrival_rate = static_cast<double>(t.arrivals) / sim.now();
  const double mean_latency = t.latency_sum_s / static_cast<double>(t.finished());
  // The only discrepancy is the handful of requests still in the system at the end.
  CHECK(time_average_in_system == doctest::Approx(arrival_rate * mean_latency).epsilon(0.002));
}

TEST_CASE("conservation: arrivals = completed + failed + rejected + in flight, under overload") {
  for (const char* mode : {"queue", "direct"}) {
    CAPTURE(mode);
    auto doc = testing::base_scenario();
    doc["duration_s"] = 5000;
    doc["trace"]["rate_per_s"] = 12;  // three times the capacity of 4 pods
    doc["function"]["timeout_s"] = 3;
    doc["function"]["max_inflight"] = 2;
    doc["function"]["cpu_limit_cores"] = 0.5;
    doc["function"]["service"] = {{"dist", "lognormal"}, {"mean_s", 0.4}, {"cv", 1.5}};
    doc["platform"]["queue_capacity"] = std::string(mode) == "queue" ? 20 : 0;
    doc["platform"]["initial_replicas"] = 4;
    doc["autoscaler"]["replicas"] = 4;
    OpenFaasSimulator sim(testing::make_scenario(doc), nullptr);
    sim.run();
    const RunTotals& t = sim.totals();
    CHECK(t.ok > 0);
    CHECK(t.timed_out > 0);
    CHECK(t.rejected > 0);
    CHECK(t.arrivals == t.ok + t.timed_out + t.rejected + sim.in_flight() + sim.queued());
  }
}

}  // namespace faascale
