// OpenFaasSimulator throughput: simulated requests per second of wall time on one core.
//
// BM_OpenFaasHeavyLoad: the openfaas model with `pods` static pods, max_inflight 4, a CPU
// limit of 0.2 cores shared by each pod's requests, exponential demands and Poisson
// arrivals at kUtilisation of the pods' CPU capacity, with the gateway queue (arg 1) or
// random direct routing (arg 0). The counter "requests/s" is what docs/performance.md
// reports; the SimFaaS reference figure is ~65k requests/s (reference facts section 7).
// Also at 8 and 1000 pods (same load per pod), to show the cost per request does not grow
// with the pod count.
// BM_KeepAlive: the keep-alive platform at about 8 and 1000 live instances.
// BM_OpenFaasHeavyLoadWithPolicy: the same with the gateway queue and an autoscaler
// deciding at its native period; min = max = pods, so the decisions cannot change the
// load and the difference from BM_OpenFaasHeavyLoad/pods:24/queue:1 is the policy's cost.
#include <benchmark/benchmark.h>

#include <nlohmann/json.hpp>

#include "sim/openfaas_simulator.hpp"
#include "sim/simulation.hpp"

namespace {

constexpr double kUtilisation = 0.9;          // offered CPU load / CPU capacity
constexpr double kMeanDemand = 0.01;          // CPU-seconds per request
constexpr double kCpuLimit = 0.2;             // cores per pod
constexpr double kRequestsPerRun = 2'000'000; // simulated per benchmark iteration

// The autoscalers measured by BM_OpenFaasHeavyLoadWithPolicy, by index.
const nlohmann::json kPolicies[] = {
    {{"kind", "hpa"}},
    {{"kind", "kpa"}},
    {{"kind", "openfaas-ce"}},
    {{"kind", "openfaas-pro"}, {"mode", "capacity"}, {"target", 4}},
};

faascale::Scenario heavy_load(int pods, bool queue, const nlohmann::json& autoscaler = nullptr) {
  const double rate = kUtilisation * pods * kCpuLimit / kMeanDemand;
  const nlohmann::json doc = {
      {"name", "bench"},
      {"seed", 1},
      {"duration_s", kRequestsPerRun / rate},
      {"control_interval_s", 30},
      {"trace", {{"format", "poisson"}, {"rate_per_s", rate}}},
      {"function",
       {{"service", {{"dist", "exponential"}, {"mean_s", kMeanDemand}}},
        {"cold_start", {{"dist", "deterministic"}, {"mean_s", 1}}},
        {"max_inflight", 4},
        {"timeout_s", 30},
        {"cpu_limit_cores", kCpuLimit}}},
      {"platform",
       {{"min_replicas", pods}, {"max_replicas", pods}, {"initial_replicas", pods}, {"queue_capacity", queue ? 1000 : 0}}},
      {"autoscaler", autoscaler.is_null() ? nlohmann::json{{"kind", "static"}, {"replicas", pods}} : autoscaler}};
  return faascale::Scenario::from_json(doc, "bench");
}

// Runs `scenario` once per iteration (with its autoscaler, or none) and reports
// simulated requests per second.
void run_and_count(benchmark::State& state, const faascale::Scenario& scenario, bool with_policy) {
  std::int64_t requests = 0, events = 0;
  double success = 0;
  for (auto _ : state) {
    faascale::OpenFaasSimulator sim(scenario, with_policy ? scenario.make_autoscaler() : nullptr);
    sim.run();
    const faascale::RunTotals t = sim.totals();
    requests += t.arrivals;
    events += t.events;
    success = static_cast<double>(t.ok) / static_cast<double>(t.finished());
  }
  state.SetItemsProcessed(requests);
  state.counters["requests/s"] = benchmark::Counter(static_cast<double>(requests), benchmark::Counter::kIsRate);
  state.counters["events/request"] = static_cast<double>(events) / static_cast<double>(requests);
  state.counters["success"] = success;
}

void BM_OpenFaasHeavyLoad(benchmark::State& state) {
  run_and_count(state, heavy_load(static_cast<int>(state.range(0)), state.range(1) != 0), false);
}
BENCHMARK(BM_OpenFaasHeavyLoad)
    ->ArgNames({"pods", "queue"})
    ->Args({24, 1})
    ->Args({24, 0})
    ->Args({8, 1})
    ->Args({1000, 1})
    ->Args({8, 0})
    ->Args({1000, 0})
    ->Unit(benchmark::kMillisecond);

void BM_OpenFaasHeavyLoadWithPolicy(benchmark::State& state) {
  const nlohmann::json& policy = kPolicies[state.range(0)];
  state.SetLabel(policy["kind"].get<std::string>());
  run_and_count(state, heavy_load(24, true, policy), true);
}
BENCHMARK(BM_OpenFaasHeavyLoadWithPolicy)
    ->ArgName("policy")
    ->DenseRange(0, std::size(kPolicies) - 1)
    ->Unit(benchmark::kMillisecond);

// The keep-alive platform with about `instances` live at once: Poisson arrivals at
// instances / kKeepAliveService per second, exponential service, a 10 s keep-alive.
constexpr double kKeepAliveService = 2.0;  // seconds

void BM_KeepAlive(benchmark::State& state) {
  const double instances = static_cast<double>(state.range(0));
  const double rate = instances / kKeepAliveService;
  const nlohmann::json doc = {
      {"name", "bench-keepalive"},
      {"seed", 1},
      {"duration_s", kRequestsPerRun / rate},
      {"control_interval_s", 30},
      {"trace", {{"format", "poisson"}, {"rate_per_s", rate}}},
      {"function",
       {{"service", {{"dist", "exponential"}, {"mean_s", kKeepAliveService}}},
        {"cold_start", {{"dist", "deterministic"}, {"mean_s", 0.25}}},
        {"timeout_s", 600}}},
      {"platform", {{"kind", "keepalive"}, {"expiration_s", 10}}}};
  const faascale::Scenario scenario = faascale::Scenario::from_json(doc, "bench");
  std::int64_t requests = 0;
  double live = 0;
  for (auto _ : state) {
    const auto sim = faascale::make_simulation(scenario);
    sim->run();
    requests += sim->totals().arrivals;
    nlohmann::json m;
    sim->add_metrics(m);
    live = m["instances_mean"].get<double>();
  }
  state.SetItemsProcessed(requests);
  state.counters["requests/s"] = benchmark::Counter(static_cast<double>(requests), benchmark::Counter::kIsRate);
  state.counters["instances"] = live;
}
BENCHMARK(BM_KeepAlive)->ArgName("instances")->Arg(8)->Arg(1000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
