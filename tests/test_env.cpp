// The simulator environment against the research code's rules (reference facts section
// 1): actions, invalid actions, episode ends, observations and both rewards, computed by
// hand; reset modes; VecEnv's auto-reset.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>

#include "rl/agent.hpp"
#include "rl/env.hpp"
#include "rl/vec_env.hpp"
#include "scenario_builder.hpp"

namespace faascale::rl {
namespace {

Scenario env_scenario() {
  auto doc = testing::base_scenario();
  doc["duration_s"] = 1e6;
  doc["control_interval_s"] = 30;
  doc["trace"]["rate_per_s"] = 2;
  doc["function"]["service"] = {{"dist", "exponential"}, {"mean_s", 0.2}};
  doc["function"]["cpu_request_cores"] = 0.1;
  doc["function"]["cpu_limit_cores"] = 0.2;
  doc["function"]["max_inflight"] = 4;
  doc["platform"] = {{"min_replicas", 1}, {"max_replicas", 24}, {"initial_replicas", 1}, {"queue_capacity", 1000}};
  return testing::make_scenario(doc);
}

Observation obs(std::vector<double> v) { return Observation{std::move(v)}; }

}  // namespace

TEST_CASE("an action below the minimum is invalid: no scaling, no time, -100, the same observation") {
  SimEnv env(env_scenario(), {});
  const Observation first = env.reset(1);
  REQUIRE(first.values.size() == 7);
  CHECK(first.values[3] == 1);  // one ready replica
  for (int i = 1; i <= 10; ++i) {
    const StepResult r = env.step(0);  // -2 from 1 replica
    CHECK_FALSE(r.valid);
    CHECK(r.reward == -100);
    CHECK(r.observation.values == first.values);
    CHECK_FALSE(r.truncated);
    CHECK(r.terminated == (i == 10));  // 10 invalid actions end the episode
  }
}

TEST_CASE("10 valid steps truncate the episode; each scales from the ready replicas") {
  SimEnv env(env_scenario(), {});
  env.reset(2);
  StepResult r;
  for (int i = 1; i <= 10; ++i) {
    r = env.step(4);  // +2
    CHECK(r.valid);
    CHECK(r.truncated == (i == 10));
    CHECK_FALSE(r.terminated);
  }
  // +2 per step from 1, with 1 s cold starts inside 30 s steps: 21 after 10 steps.
  CHECK(r.observation.values[3] == 21);
  CHECK(env.step(4).valid);   // a new episode's step (continue mode needs no restart)
  CHECK_FALSE(env.step(4).valid);  // 25 would exceed 24
}

TEST_CASE("LSTM-PPO+ reward, by hand") {
  SimEnv env(env_scenario(), {});
  // thr 2 req/s, cpu 0.5, mem 0.25, 3 replicas, P95 0.4 s; requested 3.
  const Observation o = obs({0.3, 2, 60, 3, 0.5, 0.25, 0.4});
  const double r_th = 0.2 * 4;
  const double r_cpu = 0.8 * std::exp(-4 * 0.2 * 0.2);
  const double r_mem = -0.5 * (0.7 - 0.25);
  const double r_lat = 0.2 * (1 - 0.4 / 1.0);
  const double target = std::max(std::ceil(0.5 / 0.7 * 3), std::ceil(0.25 / 0.7 * 3));  // 3
  const double expected = r_th + r_cpu + r_mem + r_lat - 0.1 * std::abs(3 - target);
  CHECK(env.preset().reward(o, 3) == doctest::Approx(std::round(expected * 1000) / 1000));
  // Observed replicas differ from the requested scale value: -0.5 more.
  CHECK(env.preset().reward(o, 4) == doctest::Approx(std::round((expected - 0.5) * 1000) / 1000));
  // Over-utilised CPU: -w * (1 + 2 * (u - 1)).
  const Observation hot = obs({0.3, 2, 60, 3, 1.5, 0.25, 0.4});
  const double hot_target = std::ceil(1.5 / 0.7 * 3);  // 7
  const double hot_expected = r_th - 0.8 * (1 + 2 * 0.5) + r_mem + r_lat - 0.1 * std::abs(3 - hot_target);
  CHECK(env.preset().reward(hot, 3) == doctest::Approx(std::round(hot_expected * 1000) / 1000));
}

TEST_CASE("seed_compat reproduces the published unit slips") {
  EnvConfig compat;
  compat.seed_compat = true;
  SimEnv env(env_scenario(), compat);
  // The latency term divides seconds by 200: P95 0.4 s costs almost nothing.
  const Observation o = obs({0.3, 2, 60, 3, 0.5, 0.25, 0.4});
  SimEnv corrected(env_scenario(), {});
  const double difference = env.preset().reward(o, 3) - corrected.preset().reward(o, 3);
  CHECK(difference == doctest::Approx(0.2 * (0.4 / 1.0 - 0.4 / 200)).epsilon(0.01));
  // CPU divided by 100 "millicores": about 1000 times smaller than usage / request.
  SimEnv plain(env_scenario(), {});
  plain.reset(5);
  env.reset(5);
  for (int i = 0; i < 3; ++i) {
    const auto a = plain.step(3).observation.values[4];
    const auto b = env.step(3).observation.values[4];
    if (a > 0) CHECK(b == doctest::Approx(a * 0.1 / 100));
  }
}

TEST_CASE("LSTM-PPO reward and observation, by hand") {
  EnvConfig c;
  c.preset = "lstm-ppo";
  SimEnv env(env_scenario(), c);
  CHECK(env.observation_size() == 6);
  CHECK(env.high()[2] == 2000);
  // thr 95%, cpu 0.5, mem 0.25, 3 replicas (min 1); requested 3, then 2.
  const Observation o = obs({0.3, 95, 60, 3, 0.5, 0.25});
  const double expected = 0.75 * 95 * 95 + 0.125 * 50 + 0.125 * 25 - 0.25 * 4;
  CHECK(env.preset().reward(o, 3) == doctest::Approx(expected));
  CHECK(env.preset().reward(o, 2) == doctest::Approx(expected - 100));
  const Observation first = env.reset(3);
  CHECK(first.values[1] >= 0);
  CHECK(first.values[1] <= 100);  // % of requests answered 200
}

TEST_CASE("observations: no requests means avg execution 0, P95 200, throughput 0 req/s") {
  auto doc = testing::base_scenario();
  doc["duration_s"] = 1e5;
  doc["trace"] = {{"format", "poisson"}, {"rate_per_s", 1e-9}};
  SimEnv env(testing::make_scenario(doc), {});
  const Observation o = env.reset(1);
  CHECK(o.values[0] == 0);
  CHECK(o.values[1] == 0);
  CHECK(o.values[6] == 200);
  const auto n = env.normalise(o);
  CHECK(n[6] == doctest::Approx(0.1));
}

TEST_CASE("reset modes: continue keeps the running platform, restart starts anew at a seeded offset") {
  SimEnv cont(env_scenario(), {});
  cont.reset(1);
  cont.step(3);
  const auto before = cont.step(3).observation.values;
  const auto after_reset = cont.reset(99).values;
  CHECK(after_reset == before);  // no restart: the last observation, same platform
  EnvConfig restart;
  restart.reset_mode = "restart";
  SimEnv a(env_scenario(), restart), b(env_scenario(), restart);
  CHECK(a.reset(7).values == b.reset(7).values);  // deterministic for a seed
  CHECK(a.step(3).observation.values == b.step(3).observation.values);
}

TEST_CASE("VecEnv: auto-reset keeps the final observation, deterministic") {
  const auto make = [] {
    std::vector<std::unique_ptr<Env>> envs;
    for (int i = 0; i < 3; ++i) envs.push_back(std::make_unique<SimEnv>(env_scenario(), EnvConfig{}));
    return VecEnv(std::move(envs));
  };
  VecEnv v = make(), w = make();
  v.reset(11);
  w.reset(11);
  for (int step = 1; step <= 10; ++step) {
    const VecStep a = v.step({2, 3, 2});
    const VecStep b = w.step({2, 3, 2});
    CHECK(a.rewards == b.rewards);
    for (std::size_t i = 0; i < 3; ++i) {
      CHECK(a.truncated[i] == (step == 10));
      if (step == 10) CHECK(a.final_observations[i].values.size() == 7);
    }
  }
}

TEST_CASE("baselines: a static count is reached from the same start through valid actions, then held") {
  // 1 s cold starts inside 30 s steps: a step's scaling is ready when it is observed.
  for (const std::int64_t k : {1, 2, 8, 24}) {
    CAPTURE(k);
    Scenario s = env_scenario();
    s.duration_s = 30 * 40;
    const Evaluation e = evaluate(s, {}, static_actor(k));
    CHECK(e.invalid_actions == 0);
    REQUIRE(e.replicas.size() == 39);
    for (std::size_t i = 0; i < e.replicas.size(); ++i) {
      CHECK(e.replicas[i] == std::min<std::int64_t>(k, 1 + 2 * static_cast<std::int64_t>(i + 1)));
    }
  }
  Scenario down = env_scenario();  // and down, from 24 to 5: 22, 20, ..., 6, 5, 5
  down.duration_s = 30 * 20;
  down.platform.initial_replicas = 24;
  const Evaluation e = evaluate(down, {}, static_actor(5));
  CHECK(e.replicas.front() == 22);
  CHECK(e.replicas[9] == 5);
  CHECK(e.replicas.back() == 5);
}

TEST_CASE("baselines: the random policy takes only valid actions, all of them, deterministically") {
  Scenario s = env_scenario();
  s.duration_s = 30 * 400;
  const Evaluation a = evaluate(s, {}, random_actor(7)), b = evaluate(s, {}, random_actor(7));
  CHECK(a.invalid_actions == 0);
  CHECK(a.replicas == b.replicas);
  CHECK(a.replicas != evaluate(s, {}, random_actor(8)).replicas);
  std::array<int, kActions> seen{};
  std::int64_t before = 1;
  for (const std::int64_t r : a.replicas) {
    REQUIRE(std::abs(r - before) <= 2);
    ++seen[static_cast<std::size_t>(r - before + 2)];
    before = r;
  }
  // Each action about 1/5 of the time away from the bounds: every one seen often.
  for (const int n : seen) CHECK(n > 40);
}

}  // namespace faascale::rl

namespace faascale::rl {

TEST_CASE("every shipped training scenario is valid, with a held-out evaluation slice") {
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(FAASCALE_SOURCE_DIR) + "/scenarios")) {
    if (entry.path().extension() != ".json") continue;
    const nlohmann::json doc = read_json_file(entry.path().string());
    if (!doc.contains("train")) continue;
    CAPTURE(entry.path().string());
    const TrainingScenario t = read_training_scenario(doc, entry.path().string());
    CHECK(t.scenario.autoscaler.is_object());
    CHECK(t.config.eval_trace.has_value());
    CHECK(t.config.agent.rollout_steps % t.config.num_envs == 0);
    ++count;
  }
  CHECK(count >= 3);
}

TEST_CASE("bad train settings name their JSON path") {
  const auto doc = [](const nlohmann::json& train) {
    auto d = testing::base_scenario();
    d.erase("autoscaler");
    d.erase("duration_s");
    d["trace"]["length_s"] = 1e7;
    d["train"] = train;
    return d;
  };
  CHECK_THROWS_WITH_AS(read_training_scenario(doc({{"agent", "dqn"}}), "t.json"),
                       doctest::Contains("$.train.agent: \"dqn\" is not supported"), InputError);
  CHECK_THROWS_WITH_AS(read_training_scenario(doc({{"agent", "ppo"}, {"total_step", 5}}), "t.json"),
                       doctest::Contains("$.train.total_step"), InputError);
  CHECK_THROWS_WITH_AS(read_training_scenario(doc({{"agent", "ppo"}, {"num_envs", 3}}), "t.json"),
                       doctest::Contains("not a multiple of num_envs 3"), InputError);
  CHECK_THROWS_WITH_AS(read_training_scenario(doc({{"agent", "ppo"}, {"hyperparameters", {{"torso", {64, -1}}}}}), "t.json"),
                       doctest::Contains("$.train.hyperparameters.torso"), InputError);
  CHECK_THROWS_WITH_AS(read_training_scenario(doc({{"agent", "ppo"}, {"env", {{"preset", "x"}}}}), "t.json"),
                       doctest::Contains("$.train.env.preset"), InputError);
  CHECK_THROWS_WITH_AS(
      read_training_scenario(doc({{"agent", "ppo"}, {"hyperparameters", {{"learning_rate", std::nan("")}}}}), "t.json"),
      doctest::Contains("$.train.hyperparameters.learning_rate"), InputError);
  auto with_autoscaler = doc({{"agent", "ppo"}});
  with_autoscaler["autoscaler"] = {{"kind", "static"}, {"replicas", 1}};
  CHECK_THROWS_WITH_AS(read_training_scenario(with_autoscaler, "t.json"), doctest::Contains("$.autoscaler: a training"),
                       InputError);
  CHECK_THROWS_WITH_AS(read_training_scenario(doc({{"agent", "ppo"}, {"total_steps", 100}}), "t.json"),
                       doctest::Contains("less than one rollout"), InputError);
  CHECK_THROWS_WITH_AS(
      read_training_scenario(doc({{"agent", "ppo"}, {"eval", {{"trace", {{"format", "poisson"}, {"rate_per_s", 1},
                                                                          {"length_s", 15}}}}}}), "t.json"),
      doctest::Contains("at least two"), InputError);
  const TrainingScenario ok = read_training_scenario(doc({{"agent", "lstm-ppo"}}), "t.json");
  CHECK(ok.config.agent.rollout_steps == 128);
  CHECK(ok.config.agent.epochs == 10);
  CHECK(ok.config.env.preset == "lstm-ppo");
  CHECK(ok.resolved_train["hyperparameters"]["gamma"] == 0.99);
}

}  // namespace faascale::rl
