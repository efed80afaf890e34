// bench_train: end-to-end LSTM-PPO+ training throughput against the bare cost of its
// network, measured in one run (docs/performance.md).
//
//   bench_train [--steps N] [--envs N] [--threads N] [--agent KIND]
//
// 1. Trains the agent (default hyper-parameters: rollout 2000, minibatch 128, 1 epoch)
//    with N envs on the calibrated function and the boosted Azure trace, recording the
//    shape of every network call. The held-out evaluation is cut to one step, so the
//    time is training's: simulator, GAE, bookkeeping and the network.
// 2. Replays the same calls on the same network with random inputs: a no-gradient
//    forward per recorded inference batch; per recorded minibatch a forward, the PPO loss
//    (log-softmax, gather, ratio, clip, value and entropy terms), backward, gradient
//    clipping and an Adam step.
// Prints both times, their ratio (bare / end-to-end; the target is at least 0.8), steps/s,
// peak resident memory and the thread settings.
#include <sys/resource.h>

#include <chrono>
#include <filesystem>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "rl/actor_critic.hpp"
#include "sim/json_reader.hpp"

namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;
using namespace faascale;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"End-to-end training throughput vs the bare network cost.", "bench_train"};
  std::int64_t steps = 100000, envs = 16, threads = 1;
  std::string agent = "lstm-ppo-plus";
  std::string scenario_path = std::string(FAASCALE_SOURCE_DIR) + "/scenarios/train-lstm-ppo-plus.json";
  app.add_option("--steps", steps, "Environment steps (all envs together)");
  app.add_option("--envs", envs, "Environments");
  app.add_option("--threads", threads, "torch intra-op threads");
  app.add_option("--agent", agent, "lstm-ppo-plus | lstm-ppo | ppo");
  CLI11_PARSE(app, argc, argv);

  nlohmann::json doc = read_json_file(scenario_path);
  rl::TrainingScenario t = rl::read_training_scenario(doc, scenario_path);
  rl::TrainConfig& c = t.config;
  c.agent = rl::AgentConfig::defaults(agent);  // the research defaults, not the tuned ones
  c.env.preset = agent;
  c.total_steps = steps;
  c.num_envs = envs;
  c.threads = threads;
  c.eval_every_steps = steps;
  c.eval_trace->length_s = 2 * t.scenario.control_interval_s;  // one evaluation step
  const fs::path dir = fs::temp_directory_path() / "faascale-bench-train";
  fs::remove_all(dir);
  c.checkpoint_dir = dir.string();

  std::vector<std::int64_t> inference;
  std::vector<std::pair<std::int64_t, std::int64_t>> minibatches;
  rl::TrainHooks hooks;
  hooks.on_inference = [&](std::int64_t batch) { inference.push_back(batch); };
  hooks.on_minibatch = [&](std::int64_t length, std::int64_t batch) { minibatches.emplace_back(length, batch); };
  double train_s = 0;
  hooks.on_update = [&, start = Clock::now()](const rl::TrainProgress&) { train_s = seconds_since(start); };
  const nlohmann::json summary = rl::train(t.scenario, c, false, hooks);
  const std::string thread_settings = summary["threads"].get<std::string>();

  // The bare network on the same shapes.
  torch::manual_seed(1);
  rl::ActorCritic net(c.agent, 7);
  torch::optim::Adam adam(net->parameters(), torch::optim::AdamOptions(c.agent.learning_rate).eps(1e-5));
  const std::int64_t state = net->state_size();
  const auto start = Clock::now();
  {
    torch::NoGradGuard no_grad;
    for (const auto b : inference) net->forward(torch::rand({1, b, 7}), torch::rand({b, state}));
  }
  for (const auto& [l, b] : minibatches) {
    rl::ActorCriticOutput out = net->forward(torch::rand({l, b, 7}), torch::rand({b, state}));
    const torch::Tensor mask = torch::ones({l, b});
    const torch::Tensor log_probs = torch::log_softmax(out.logits, -1);
    const torch::Tensor ratio = torch::exp(log_probs.gather(-1, torch::randint(5, {l, b, 1})).squeeze(-1) -
                                           torch::full({l, b}, -1.6f));
    const torch::Tensor adv = torch::randn({l, b});
    const torch::Tensor surrogate = torch::min(ratio * adv, torch::clamp(ratio, 0.8, 1.2) * adv);
    const torch::Tensor loss = -(surrogate * mask).sum() / mask.sum() +
                               0.5 * ((torch::randn({l, b}) - out.values).pow(2) * mask).sum() / mask.sum() -
                               0.01 * ((-(log_probs.exp() * log_probs).sum(-1)) * mask).sum() / mask.sum();
    adam.zero_grad();
    loss.backward();
    torch::nn::utils::clip_grad_norm_(net->parameters(), 0.5);
    adam.step();
  }
  const double bare_s = seconds_since(start);

  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  fmt::print("bench_train: {} with {} envs, {} env steps, {}\n", agent, envs, steps, thread_settings);
  fmt::print("  end-to-end training      {:8.2f} s  ({:.0f} env steps/s)\n", train_s,
             static_cast<double>(steps) / train_s);
  fmt::print("  bare network, same calls {:8.2f} s  ({} inference forwards, {} minibatch steps)\n", bare_s,
             inference.size(), minibatches.size());
  fmt::print("  ratio bare / end-to-end  {:8.3f}  (target >= 0.8: simulator, GAE and bookkeeping add under 25%)\n",
             bare_s / train_s);
  fmt::print("  peak resident memory     {:8.1f} MiB\n", static_cast<double>(usage.ru_maxrss) / 1024.0);
  fs::remove_all(dir);
  return 0;
}
