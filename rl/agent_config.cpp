// The torch-free half of rl/agent.hpp: agent defaults, the "train" object, and evaluation
// runs through the environment.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <memory>

#include <fmt/format.h>

#include "rl/agent.hpp"
#include "sim/random.hpp"
#include "sim/report.hpp"

namespace faascale::rl {

AgentConfig AgentConfig::defaults(const std::string& kind) {
  AgentConfig c;
  c.kind = kind;
  if (kind == "lstm-ppo-plus") {
    c.torso = {64, 64};
    c.lstm_hidden = 256;
    c.activation = "relu";
    c.ent_coef = 0.01;
    c.rollout_steps = 2000;
    c.minibatch_steps = 128;
    c.epochs = 1;
  } else if (kind == "lstm-ppo") {
    c.lstm_hidden = 256;
    c.critic_lstm = true;
    c.heads = {64, 64};
    c.activation = "tanh";
    c.rollout_steps = 128;
    c.minibatch_steps = 128;
    c.epochs = 10;
  } else if (kind == "ppo") {
    c.torso = {64, 64};
    c.activation = "tanh";
    c.rollout_steps = 2000;
    c.minibatch_steps = 64;
    c.epochs = 10;
  } else {
    throw std::invalid_argument("AgentConfig::defaults: unknown kind " + kind);
  }
  return c;
}

namespace {

std::vector<std::int64_t> read_layers(JsonReader& r, std::string_view key, const std::vector<std::int64_t>& fallback) {
  if (!r.has(key)) return fallback;
  const nlohmann::json& v = r.raw(key);
  if (!v.is_array() || v.size() > 8) r.fail(key, "expected a list of at most 8 layer sizes, e.g. [64, 64].");
  std::vector<std::int64_t> out;
  for (const auto& x : v) {
    if (!is_integral(x) || x.get<double>() < 1 || x.get<double>() > 4096) {
      r.fail(key, fmt::format("layer size {} is not an integer in [1, 4096].", describe_json(x)));
    }
    out.push_back(x.get<std::int64_t>());
  }
  return out;
}

AgentConfig read_hyperparameters(JsonReader r, const std::string& kind) {
  AgentConfig c = AgentConfig::defaults(kind);
  c.torso = read_layers(r, "torso", c.torso);
  c.lstm_hidden = r.integer("lstm_hidden", 0, 4096, c.lstm_hidden);
  c.critic_lstm = r.boolean("critic_lstm", c.critic_lstm);
  c.heads = read_layers(r, "heads", c.heads);
  c.activation = r.choice("activation", {"relu", "tanh"}, c.activation);
  c.learning_rate = r.number("learning_rate", 1e-8, 1.0, c.learning_rate);
  c.gamma = r.number("gamma", 0, 1, c.gamma);
  c.gae_lambda = r.number("gae_lambda", 0, 1, c.gae_lambda);
  c.clip_range = r.number("clip_range", 1e-3, 10, c.clip_range);
  c.vf_coef = r.number("vf_coef", 0, 1e3, c.vf_coef);
  c.ent_coef = r.number("ent_coef", 0, 1e3, c.ent_coef);
  c.max_grad_norm = r.number("max_grad_norm", 1e-6, 1e6, c.max_grad_norm);
  c.rollout_steps = r.integer("rollout_steps", 1, 10'000'000, c.rollout_steps);
  c.minibatch_steps = r.integer("minibatch_steps", 1, 10'000'000, c.minibatch_steps);
  c.epochs = r.integer("epochs", 1, 1000, c.epochs);
  c.sequence_length = r.integer("sequence_length", 1, 100000, c.sequence_length);
  c.normalize_advantages = r.boolean("normalize_advantages", c.normalize_advantages);
  c.normalize_rewards = r.boolean("normalize_rewards", c.normalize_rewards);
  c.mask_invalid_actions = r.boolean("mask_invalid_actions", c.mask_invalid_actions);
  r.finish();
  if (c.critic_lstm && c.lstm_hidden == 0) r.fail("critic_lstm", "needs lstm_hidden > 0.");
  return c;
}

}  // namespace

AgentConfig read_agent_config(JsonReader r) {
  const std::string kind = r.choice("kind", {"lstm-ppo-plus", "lstm-ppo", "ppo"});
  return read_hyperparameters(std::move(r), kind);
}

TrainConfig read_train_config(const nlohmann::json& train, const std::string& file, const std::string& base_dir,
                              nlohmann::json& resolved) {
  JsonReader r(train, file, "$.train", resolved);
  TrainConfig c;
  const std::string kind = r.choice("agent", {"lstm-ppo-plus", "lstm-ppo", "ppo"});
  c.agent = read_hyperparameters(r.object("hyperparameters", true), kind);
  EnvConfig env_defaults;
  env_defaults.preset = kind;  // each agent's own observation and reward, unless "env" says otherwise
  nlohmann::json env = r.has("env") ? r.raw("env") : nlohmann::json::object();
  if (!env.is_object()) r.fail("env", "expected an object.");
  if (!env.contains("preset")) env["preset"] = env_defaults.preset;
  c.env = read_env_config(JsonReader(env, file, "$.train.env", resolved["env"]));
  c.total_steps = r.integer("total_steps", 1, 1'000'000'000, c.total_steps);
  c.num_envs = r.integer("num_envs", 1, 4096, c.num_envs);
  c.checkpoint_dir = r.text("checkpoint_dir", "");
  c.eval_every_steps = r.integer("eval_every_steps", 1, 1'000'000'000, c.eval_every_steps);
  c.threads = r.integer("threads", 1, 256, c.threads);
  if (r.has("eval")) {
    JsonReader eval = r.object("eval");
    c.eval_trace = TraceSpec::read(eval.object("trace"), base_dir);
    eval.finish();
    if (!std::isfinite(c.eval_trace->span_s())) eval.fail("trace", "must be a finite trace (set length_s).");
  }
  r.finish();
  if (c.total_steps < c.agent.rollout_steps) {
    r.fail("total_steps", fmt::format("{} is less than one rollout ({} steps); train at least rollout_steps, or make "
                                      "hyperparameters.rollout_steps smaller.", c.total_steps, c.agent.rollout_steps));
  }
  if (c.agent.rollout_steps % c.num_envs != 0) {
    r.fail("hyperparameters", fmt::format("rollout_steps {} is not a multiple of num_envs {}; rollout steps count all "
                                          "envs together, so choose num_envs dividing it.",
                                          c.agent.rollout_steps, c.num_envs));
  }
  return c;
}

void check_training_trace(const Scenario& s, const TrainConfig& c) {
  if ((c.env.reset_mode == "restart" || c.env.random_start) && s.trace.requests) {
    throw InputError(fmt::format("{}: $.train.env: reset_mode \"restart\" and random_start start at random windows "
                                 "of a counts or poisson trace, and $.trace is per-request; use continue mode "
                                 "without random_start.", s.file));
  }
  const TraceSpec& eval = c.eval_trace ? *c.eval_trace : s.trace;
  if (eval.span_s() < 2 * s.control_interval_s) {
    throw InputError(fmt::format("{}: $.train.eval.trace spans {} s: an evaluation needs at least two {} s windows "
                                 "(the first one starts the platform).", s.file, eval.span_s(), s.control_interval_s));
  }
  if (eval.span_s() / s.control_interval_s > 1e6) {
    throw InputError(fmt::format("{}: $.train.eval.trace spans {} windows, more than 1e6; every evaluation replays it, "
                                 "so hold out a shorter slice.", s.file, eval.span_s() / s.control_interval_s));
  }
  if (c.env.reset_mode == "continue") {
    // Each env runs on through the trace; past its end there is no load to learn from.
    const double needed = (static_cast<double>(c.total_steps) / static_cast<double>(c.num_envs) + 1) *
                              s.control_interval_s + (c.env.random_start ? c.env.warmup_s : 0.0);
    if (s.trace.span_s() < needed) {
      throw InputError(fmt::format(
          "{}: $.trace spans {:.0f} s, but in continue mode each of the {} envs runs {:.0f} s for {} steps; replay "
          "it (trace.repeat) at least {:.0f} times, or train fewer steps or more envs.",
          s.file, s.trace.span_s(), c.num_envs, needed, c.total_steps,
          std::ceil(needed / s.trace.span_s() * static_cast<double>(s.trace.repeat))));
    }
  }
}

TrainingScenario read_training_scenario(nlohmann::json doc, const std::string& file) {
  TrainingScenario t;
  const nlohmann::json train = doc.at("train");
  doc.erase("train");
  for (const char* key : {"autoscaler", "duration_s"}) {
    if (doc.contains(key)) {
      throw InputError(fmt::format("{}: $.{}: a training scenario takes none (the agent sets the replicas, and "
                                   "train.total_steps sets the length); remove it.", file, key));
    }
  }
  const auto trace = doc.find("trace");
  if (trace != doc.end() && trace->is_object() && trace->value("format", nlohmann::json()) == "poisson" &&
      trace->value("length_s", nlohmann::json(0)) == 0) {
    throw InputError(fmt::format("{}: $.trace.length_s: an unlimited Poisson stream cannot be a training trace (an "
                                 "environment restarts and replays its trace); set trace.length_s.", file));
  }
  doc["autoscaler"] = {{"kind", "static"}, {"replicas", 1}};  // the simulator needs one; the env overrides it
  t.scenario = Scenario::from_json(doc, file);
  t.scenario.resolved.erase("autoscaler");
  if (!train.is_object()) throw InputError(file + ": $.train: expected an object (see docs/training.md).");
  t.config = read_train_config(train, file, std::filesystem::path(file).parent_path().string(), t.resolved_train);
  check_training_trace(t.scenario, t.config);
  return t;
}

nlohmann::json Evaluation::to_json() const {
  const auto number = [](double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(); };
  return {{"steps", steps},
          {"mean_reward", number(mean_reward)},
          {"latency_p95_s", number(latency_p95_s)},
          {"success_ratio", number(success_ratio)},
          {"replica_seconds", number(replica_seconds)},
          {"mean_replicas", number(mean_replicas)},
          {"invalid_actions", invalid_actions}};
}

Evaluation evaluate(const Scenario& scenario, const EnvConfig& env_config, const Actor& actor) {
  EnvConfig config = env_config;
  config.reset_mode = "continue";
  config.random_start = false;
  SimEnv env(scenario, config);
  Observation observation = env.reset(scenario.seed);
  // The reset ran the first interval; then one step per interval until the trace ends.
  const auto steps = static_cast<std::int64_t>(std::floor(scenario.duration_s / scenario.control_interval_s)) - 1;
  Evaluation e;
  bool episode_start = true;
  double reward_sum = 0;
  for (std::int64_t i = 0; i < steps; ++i) {
    const StepResult r = env.step(actor(observation, env.valid_actions(), episode_start));
    reward_sum += r.reward;
    e.invalid_actions += !r.valid;
    e.replicas.push_back(env.simulation().view().ready);
    observation = r.observation;
    episode_start = r.terminated || r.truncated;
    if (episode_start) observation = env.reset(scenario.seed);
  }
  e.steps = steps;
  e.mean_reward = steps > 0 ? reward_sum / static_cast<double>(steps) : std::nan("");
  const nlohmann::json m = run_metrics(env.simulation());
  const auto get = [&](const char* k) { return m[k].is_null() ? std::nan("") : m[k].get<double>(); };
  e.latency_p95_s = get("latency_p95_s");
  e.success_ratio = get("success_ratio");
  e.replica_seconds = get("replica_seconds");
  e.mean_replicas = e.replica_seconds / env.simulation().now();
  return e;
}

Actor random_actor(std::uint64_t seed) {
  auto stream = std::make_shared<Rng>(seed, Stream::policy);
  return [stream](const Observation&, const ActionMask& valid, bool) {
    int count = 0;
    for (const bool v : valid) count += v;
    auto pick = static_cast<int>(stream->below(static_cast<std::uint64_t>(std::max(count, 1))));
    for (int a = 0; a < kActions; ++a) {
      if (valid[static_cast<std::size_t>(a)] && pick-- == 0) return a;
    }
    return 2;  // no valid action (min == max and not there): hold
  };
}

Actor static_actor(std::int64_t replicas) {
  return [replicas](const Observation& o, const ActionMask& valid, bool) {
    const auto ready = static_cast<std::int64_t>(o.values.at(kReplicasObservation));
    const int action = static_cast<int>(std::clamp<std::int64_t>(replicas - ready, -2, 2)) + 2;
    return valid[static_cast<std::size_t>(action)] ? action : 2;
  };
}

}  // namespace faascale::rl
