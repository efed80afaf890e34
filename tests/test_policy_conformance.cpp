// One conformance suite run over every autoscaler: its decisions stay within
// [min, max], it is deterministic for a seed, and it survives zero traffic, a 100x burst,
// unreadable (NaN) metrics, pods that never become ready, and a scale to zero with
// requests waiting.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <limits>

#include "scenario_builder.hpp"
#include "sim/report.hpp"
#include "sim/openfaas_simulator.hpp"
#ifdef FAASCALE_HAVE_TORCH
#include "rl/agent.hpp"
#endif

namespace faascale {
namespace {

// Every classic policy, each with parameters that fit the test function.
const std::vector<nlohmann::json> kClassicPolicies = {
    {{"kind", "static"}, {"replicas", 3}},
    {{"kind", "hpa"}},
    {{"kind", "hpa"}, {"metric", "rps"}, {"target_rps_per_pod", 1}},
    {{"kind", "kpa"}},
    {{"kind", "openfaas-ce"}, {"threshold_rps", 1}},  // the success rate of one pod tops at 2 req/s
    {{"kind", "openfaas-pro"}, {"mode", "rps"}, {"target", 1}},
    {{"kind", "openfaas-pro"}, {"mode", "capacity"}, {"target", 2}},
    {{"kind", "openfaas-pro"}, {"mode", "cpu"}, {"target", 500}},
};

// Forwards to a policy and records whether any decision left [min, max].
class BoundsRecorder final : public Policy {
 public:
  BoundsRecorder(std::unique_ptr<Policy> inner, std::int64_t min, std::int64_t max)
      : inner_(std::move(inner)), min_(min), max_(max) {}
  std::string_view kind() const override { return inner_->kind(); }
  double period_s() const override { return inner_->period_s(); }
  std::int64_t decide(const PlatformView& view) override {
    const std::int64_t d = inner_->decide(view);
    out_of_bounds += d < min_ || d > max_;
    highest = std::max(highest, d);
    ++decisions;
    return d;
  }
  std::int64_t out_of_bounds = 0, highest = 0, decisions = 0;

 private:
  std::unique_ptr<Policy> inner_;
  std::int64_t min_, max_;
};

// Counts per 10 s window written to a temporary file.
std::string counts_file(const std::vector<int>& counts) {
  static int number = 0;
  const auto path = testing::scratch_path("conformance-" + std::to_string(number++) + ".json");
  std::ofstream(path) << nlohmann::json(counts).dump();
  return path;
}

nlohmann::json scenario(const nlohmann::json& policy, const std::vector<int>& counts) {
  auto doc = testing::base_scenario();
  doc["trace"] = {{"format", "counts-json"}, {"path", counts_file(counts)}, {"window_s", 10}};
  doc.erase("duration_s");
  doc["function"]["service"] = {{"dist", "exponential"}, {"mean_s", 0.5}};
  doc["function"]["cold_start"] = {{"dist", "lognormal"}, {"mean_s", 2}, {"cv", 0.5}};
  doc["function"]["max_inflight"] = 2;
  doc["function"]["timeout_s"] = 20;
  doc["function"]["cpu_request_cores"] = 0.5;
  doc["function"]["cpu_limit_cores"] = 1;
  doc["platform"] = {{"min_replicas", 1}, {"max_replicas", 10}, {"initial_replicas", 1}, {"queue_capacity", 100}};
  doc["autoscaler"] = policy;
  return doc;
}

std::vector<int> burst_trace();

// The classic policies and, built with libtorch, an RL agent briefly trained on this
// platform (its behaviour is not asserted, only the contract: bounds, determinism,
// conservation, surviving the same abuse).
const std::vector<nlohmann::json>& policies() {
  static const std::vector<nlohmann::json> all = [] {
    std::vector<nlohmann::json> out = kClassicPolicies;
#ifdef FAASCALE_HAVE_TORCH
    rl::register_agent_policy();
    const auto dir = std::filesystem::path(testing::scratch_path("conformance-agent"));
    std::filesystem::remove_all(dir);
    auto doc = scenario({{"kind", "static"}, {"replicas", 1}}, burst_trace());
    rl::TrainConfig c;
    c.agent = rl::AgentConfig::defaults("lstm-ppo-plus");
    c.agent.rollout_steps = 64;
    c.num_envs = 4;
    c.total_steps = 128;
    c.eval_every_steps = 128;
    c.checkpoint_dir = dir.string();
    rl::train(testing::make_scenario(doc), c, false, {});
    out.push_back({{"kind", "agent"}, {"checkpoint", (dir / "last.pt").string()}});
#endif
    return out;
  }();
  return all;
}

// Whether the conformance suite may expect a policy to follow the load.
bool follows_load(const nlohmann::json& policy) { return policy["kind"] != "static" && policy["kind"] != "agent"; }

struct RunResult {
  std::string csv;
  RunTotals totals;
  std::int64_t out_of_bounds, highest, decisions, final_desired, in_system_at_end;
};

RunResult run(const nlohmann::json& doc) {
  const Scenario s = testing::make_scenario(doc);
  auto recorder = std::make_unique<BoundsRecorder>(s.make_autoscaler(), s.platform.min_replicas, s.platform.max_replicas);
  BoundsRecorder* r = recorder.get();
  RunResult o;
  OpenFaasSimulator sim(s, std::move(recorder), [&](const WindowMetrics& w) { o.csv += windows_csv_row(w); });
  sim.run();
  o.totals = sim.totals();
  o.out_of_bounds = r->out_of_bounds;
  o.highest = r->highest;
  o.decisions = r->decisions;
  o.final_desired = sim.view().desired;
  o.in_system_at_end = sim.in_flight() + sim.queued();
  return o;
}

std::vector<int> burst_trace() {
  std::vector<int> counts(30, 5);                  // 0.5 req/s for 300 s
  counts.insert(counts.end(), 6, 500);             // 100x for 60 s
  counts.insert(counts.end(), 60, 5);              // and back, for 600 s
  return counts;
}

}  // namespace

TEST_CASE("every policy: within bounds, deterministic, and scaling up on a 100x burst") {
  for (const auto& policy : policies()) {
    CAPTURE(policy.dump());
    const auto doc = scenario(policy, burst_trace());
    const RunResult a = run(doc), b = run(doc);
    CHECK(a.decisions > 0);
    CHECK(a.out_of_bounds == 0);
    CHECK(a.csv == b.csv);
    CHECK(a.totals.arrivals == a.totals.finished() + a.in_system_at_end);
    if (follows_load(policy)) CHECK(a.highest > 1);
  }
}

TEST_CASE("every policy: zero traffic keeps the minimum") {
  for (const auto& policy : policies()) {
    CAPTURE(policy.dump());
    const RunResult o = run(scenario(policy, std::vector<int>(100, 0)));
    CHECK(o.out_of_bounds == 0);
    CHECK(o.totals.arrivals == 0);
    if (follows_load(policy)) CHECK(o.final_desired == 1);
  }
}

TEST_CASE("every policy: pods that never become ready") {
  for (const auto& policy : policies()) {
    CAPTURE(policy.dump());
    auto doc = scenario(policy, burst_trace());
    doc["function"]["cold_start"] = {{"dist", "deterministic"}, {"mean_s", 1e6}};
    doc["platform"]["initial_replicas"] = 0;
    const RunResult o = run(doc);
    CHECK(o.out_of_bounds == 0);
    CHECK(o.totals.ok == 0);
    CHECK(o.totals.timed_out + o.totals.rejected + o.in_system_at_end == o.totals.arrivals);
  }
}

TEST_CASE("every policy that can: a scale to zero with requests waiting is served, not stuck") {
  const std::vector<nlohmann::json> zero_capable = {
      {{"kind", "static"}, {"replicas", 1}},
      {{"kind", "kpa"}},
      {{"kind", "openfaas-pro"}, {"mode", "capacity"}, {"target", 2}, {"scale_to_zero", true}, {"zero_duration_s", 60}},
  };
  for (const auto& policy : zero_capable) {
    CAPTURE(policy.dump());
    // Idle long enough to reach zero, then requests arrive.
    std::vector<int> counts(60, 0);
    counts.insert(counts.end(), 10, 3);
    counts.insert(counts.end(), 10, 0);
    auto doc = scenario(policy, counts);
    doc["platform"]["min_replicas"] = 0;
    doc["platform"]["initial_replicas"] = 1;
    const RunResult o = run(doc);
    CHECK(o.out_of_bounds == 0);
    CHECK(o.totals.arrivals == 30);
    CHECK(o.totals.ok == 30);  // all served after a scale from zero
    CHECK(o.in_system_at_end == 0);
  }
}

TEST_CASE("every policy: unreadable (NaN) metrics and no window yet never leave the bounds") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (const auto& spec : policies()) {
    CAPTURE(spec.dump());
    const Scenario s = testing::make_scenario(scenario(spec, {1}));
    auto policy = s.make_autoscaler();
    std::vector<PodView> pods(3);
    for (std::size_t i = 0; i < pods.size(); ++i) {
      pods[i].id = i + 1;
      pods[i].phase = PodView::Phase::ready;
      pods[i].cpu_core_seconds = nan;
    }
    PlatformView v;
    v.ready = 3;
    v.desired = 3;
    v.min_replicas = 1;
    v.max_replicas = 10;
    v.pods = pods.data();
    v.pod_count = pods.size();
    v.last_window = nullptr;
    for (int t = 0; t < 120; ++t) {
      v.now_s = t;
      v.in_system_seconds_total = t % 7 == 0 ? nan : static_cast<double>(t);
      v.cpu_core_seconds_total = nan;
      const std::int64_t d = policy->decide(v);
      CHECK(d >= 1);
      CHECK(d <= 10);
      v.desired = d;
    }
  }
}

}  // namespace faascale
