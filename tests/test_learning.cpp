// Learning works (label "learning"; minutes): every agent, trained with the shipped
// training settings (scenarios/train-*.json: gamma 0.9, masked actions, LSTM-PPO+ with 10
// epochs), settles at the replica count a constant load needs, the optimum found by
// trying every static count; and on a load whose next window can only be told from the
// previous ones, the recurrent agents beat the MLP agent. Both on the LSTM-PPO+
// observation and reward (LSTM-PPO's own linear reward: docs/training.md). And on the
// real Azure trace, the shipped LSTM-PPO+ training beats the random policy and the static
// counts that bracket its replica-seconds on the held-out hours.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "rl/agent.hpp"
#include "scenario_builder.hpp"
#include "sim/json_reader.hpp"

namespace faascale::rl {
namespace {

namespace fs = std::filesystem;

// Requests of 1 CPU-s (5 s at the 0.2-core limit, no variance), `counts` per 30 s window
// (uniform instants), 1..24 replicas; `windows` of them for evaluation.
Scenario load_scenario(const std::vector<int>& pattern, const std::string& name, double length_s = 0) {
  std::vector<int> counts;
  while (counts.size() < 2880) counts.insert(counts.end(), pattern.begin(), pattern.end());
  const auto path = testing::scratch_path("learning-" + name + ".json");
  std::ofstream(path) << nlohmann::json(counts).dump();
  auto doc = testing::base_scenario();
  doc.erase("duration_s");
  doc["control_interval_s"] = 30;
  doc["trace"] = {{"format", "counts-json"}, {"path", path}, {"window_s", 30}, {"arrivals", "uniform"}};
  if (length_s > 0) {
    doc["trace"]["length_s"] = length_s;
  } else {
    doc["trace"]["repeat"] = 3;  // 72 h: more than each env's 6250 steps of training
  }
  doc["function"] = {{"service", {{"dist", "deterministic"}, {"mean_s", 1.0}}},
                     {"cold_start", {{"dist", "deterministic"}, {"mean_s", 3.0}}},
                     {"max_inflight", 1}, {"timeout_s", 60}, {"cpu_request_cores", 0.1}, {"cpu_limit_cores", 0.2}};
  doc["platform"] = {{"min_replicas", 1}, {"max_replicas", 24}, {"initial_replicas", 1}, {"queue_capacity", 1000}};
  return testing::make_scenario(doc);
}

TrainConfig shipped_settings(const std::string& agent, const std::string& preset, const Scenario& eval) {
  TrainConfig c;
  c.agent = AgentConfig::defaults(agent);
  c.agent.gamma = 0.9;
  c.agent.mask_invalid_actions = true;
  if (agent == "lstm-ppo-plus") c.agent.epochs = 10;
  c.env.preset = preset;
  c.env.random_start = true;
  c.total_steps = 100000;
  c.num_envs = 16;
  c.eval_every_steps = 100000;
  c.eval_trace = eval.trace;
  const auto dir = fs::path(testing::scratch_path("learning-" + agent + "-" + preset));
  fs::remove_all(dir);
  c.checkpoint_dir = dir.string();
  return c;
}

// Trains, then evaluates the greedy agent from its last checkpoint on `eval` (what
// training's final evaluation does), keeping every step's replicas.
Evaluation trained(const std::string& agent, const std::string& preset, const Scenario& train_on, const Scenario& eval) {
  const TrainConfig c = shipped_settings(agent, preset, eval);
  train(train_on, c, false, {});
  return evaluate(eval, c.env, load_greedy_actor(c.checkpoint_dir + "/last.pt"));
}

// Mean ready replicas over the second half of an evaluation (after the climb from one).
double settled_replicas(const Evaluation& e) {
  double sum = 0;
  for (std::size_t i = e.replicas.size() / 2; i < e.replicas.size(); ++i) sum += static_cast<double>(e.replicas[i]);
  return sum / static_cast<double>(e.replicas.size() - e.replicas.size() / 2);
}

TEST_CASE("on a constant load every agent converges to the replica count it needs") {
  const Scenario train_on = load_scenario({24}, "constant");
  Scenario eval = load_scenario({24}, "constant", 7200);
  eval.duration_s = eval.trace.span_s();
  // Every agent (network and PPO settings) on the LSTM-PPO+ observation and reward, whose
  // optimum is a clear interior count; the best static count under it is the answer.
  const std::string preset = "lstm-ppo-plus";
  EnvConfig env;
  env.preset = preset;
  for (const std::string agent : {"ppo", "lstm-ppo-plus", "lstm-ppo"}) {
    int best = 0;
    double best_reward = -1e300;
    for (int k = 1; k <= 24; ++k) {
      Scenario s = eval;
      s.platform.initial_replicas = k;
      const double r = evaluate(s, env, [](const Observation&, const ActionMask&, bool) { return 2; }).mean_reward;
      if (r > best_reward) best_reward = r, best = k;
    }
    const Evaluation e = trained(agent, preset, train_on, eval);
    CAPTURE(agent);
    CAPTURE(best);
    CAPTURE(e.mean_reward);
    CHECK(std::abs(settled_replicas(e) - best) <= 1.0);
  }
}

TEST_CASE("when the load's phase must be inferred from history, the LSTM agents beat the MLP agent") {
  // Windows of 16, 16, 12, 12 requests, repeated: seeing a 16 does not tell whether the
  // next window has 16 or 12; having seen the one before does. All agents get the
  // LSTM-PPO+ observation and reward, so their rewards compare.
  const Scenario train_on = load_scenario({16, 16, 12, 12}, "phase");
  Scenario eval = load_scenario({16, 16, 12, 12}, "phase", 7200);
  eval.duration_s = eval.trace.span_s();
  const double mlp = trained("ppo", "lstm-ppo-plus", train_on, eval).mean_reward;
  const double plus = trained("lstm-ppo-plus", "lstm-ppo-plus", train_on, eval).mean_reward;
  const double lstm = trained("lstm-ppo", "lstm-ppo-plus", train_on, eval).mean_reward;
  CAPTURE(mlp);
  CAPTURE(plus);
  CAPTURE(lstm);
  CHECK(plus > mlp);
  CHECK(lstm > mlp);
}

TEST_CASE("on the real trace, trained LSTM-PPO+ beats random and static policies of equal replica-seconds") {
  // scenarios/train-lstm-ppo-plus.json as shipped: the first 18 hours of the boosted trace
  // for training, the last 6 of the raw trace held out.
  const std::string file = std::string(FAASCALE_SOURCE_DIR) + "/scenarios/train-lstm-ppo-plus.json";
  TrainingScenario t = read_training_scenario(read_json_file(file), file);
  const auto dir = fs::path(testing::scratch_path("learning-real-trace"));
  fs::remove_all(dir);
  t.config.checkpoint_dir = dir.string();
  const nlohmann::json summary = train(t.scenario, t.config, false, {});
  const nlohmann::json& agent = summary["final_evaluation"];
  const nlohmann::json& baselines = summary["baselines"];
  const double replica_seconds = agent["replica_seconds"].get<double>();
  CAPTURE(summary.dump());
  // The two static counts bracket the agent's replica-seconds...
  CHECK(baselines["static_below"]["replica_seconds"].get<double>() <= replica_seconds);
  CHECK(baselines["static_above"]["replica_seconds"].get<double>() >= replica_seconds);
  // ...and the agent beats them, and the random policy, on reward and on P95.
  for (const char* name : {"random", "static_below", "static_above"}) {
    CAPTURE(name);
    CHECK(agent["mean_reward"].get<double>() > baselines[name]["mean_reward"].get<double>());
    CHECK(agent["latency_p95_s"].get<double>() < baselines[name]["latency_p95_s"].get<double>());
  }
}

}  // namespace
}  // namespace faascale::rl
