// The RL agents on libtorch: recurrent handling end to end (the update re-runs the network
// exactly as the rollout did), checkpoints (resume = uninterrupted; a NaN stops training
// and keeps the last good checkpoint), the deployed agent (the "agent" autoscaler acts as
// the agent did in its environment), action masking, bad train settings, and damaged or
// foreign checkpoints (refused by key, deployed or resumed).
// libtorch (through glog) defines CHECK macros of its own; it comes first and they go.
#include "rl/actor_critic.hpp"
#undef CHECK
#undef CHECK_EQ
#undef CHECK_NE
#undef CHECK_LT
#undef CHECK_LE
#undef CHECK_GT
#undef CHECK_GE

#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>

#include "rl/agent.hpp"
#include "scenario_builder.hpp"
#include "sim/openfaas_simulator.hpp"
#include "sim/report.hpp"
#include "sim/simulation.hpp"

namespace faascale {
namespace {

namespace fs = std::filesystem;

std::string temp_dir(const std::string& name) {
  const fs::path dir = fs::path(testing::scratch_path("agents-" + name));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

std::string counts_file(const std::vector<int>& counts, const std::string& name) {
  const auto path = testing::scratch_path("agents-" + name + ".json");
  std::ofstream(path) << nlohmann::json(counts).dump();
  return path;
}

// A small platform: a varying load of 1 CPU-s requests (5 s at the 0.2-core limit), 30 s
// windows, 1..8 replicas.
Scenario small_scenario() {
  std::vector<int> counts;
  for (int i = 0; i < 400; ++i) counts.push_back(4 + (i / 7) % 3 * 4);
  auto doc = testing::base_scenario();
  doc.erase("duration_s");
  doc["control_interval_s"] = 30;
  doc["trace"] = {{"format", "counts-json"}, {"path", counts_file(counts, "small")}, {"window_s", 30},
                  {"arrivals", "uniform"}};
  doc["function"] = {{"service", {{"dist", "deterministic"}, {"mean_s", 1.0}}},
                     {"cold_start", {{"dist", "deterministic"}, {"mean_s", 3.0}}},
                     {"max_inflight", 1}, {"timeout_s", 60}, {"cpu_request_cores", 0.1}, {"cpu_limit_cores", 0.2}};
  doc["platform"] = {{"min_replicas", 1}, {"max_replicas", 8}, {"initial_replicas", 1}, {"queue_capacity", 1000}};
  return testing::make_scenario(doc);
}

rl::TrainConfig small_config(const std::string& agent, const std::string& dir) {
  rl::TrainConfig c;
  c.agent = rl::AgentConfig::defaults(agent);
  c.agent.rollout_steps = 96;
  c.agent.minibatch_steps = 32;
  c.agent.epochs = 2;
  c.agent.sequence_length = 4;  // sequences also start mid-episode, from stored states
  c.env.preset = agent;
  c.num_envs = 4;
  c.total_steps = 384;
  c.eval_every_steps = 192;
  c.checkpoint_dir = dir;
  Scenario eval = small_scenario();
  c.eval_trace = eval.trace;
  c.eval_trace->length_s = 1800;
  return c;
}

const std::vector<std::string> kAgents = {"lstm-ppo-plus", "lstm-ppo", "ppo"};

TEST_CASE("the update re-runs the network exactly as the rollout did (every agent)") {
  // With one minibatch holding the whole rollout, the first minibatch comes before any
  // optimiser step, so every probability ratio must be 1: the recurrent state was reset at
  // the same episode starts, each sequence started from the right stored state, and the
  // padding was ignored. Unmasked invalid actions make episodes of uneven length.
  for (const auto& agent : kAgents) {
    CAPTURE(agent);
    rl::TrainConfig c = small_config(agent, temp_dir("ratio-" + agent));
    c.agent.minibatch_steps = c.agent.rollout_steps;
    c.agent.epochs = 1;
    double worst = 0;
    int updates = 0;
    rl::TrainHooks hooks;
    hooks.on_update = [&](const rl::TrainProgress& p) {
      worst = std::max(worst, p.first_ratio_deviation);
      ++updates;
    };
    rl::train(small_scenario(), c, false, hooks);
    CHECK(updates == 4);
    CHECK(worst < 1e-5);
  }
}

TEST_CASE("a stale or missing state reset would show in the ratio check") {
  // The check above can fail: a network whose recurrent state carried over the episode
  // start gives other outputs than from the zero state.
  rl::AgentConfig a = rl::AgentConfig::defaults("lstm-ppo-plus");
  torch::manual_seed(3);
  rl::ActorCritic net(a, 7);
  const torch::Tensor obs = torch::rand({1, 1, 7});
  const torch::Tensor zero = net->initial_state(1);
  const auto first = net->forward(obs, zero);
  const auto carried = net->forward(obs, first.state);
  CHECK((first.values - carried.values).abs().max().item<double>() > 1e-4);
  CHECK((net->forward(obs, zero).values - first.values).abs().max().item<double>() == 0);
}

TEST_CASE("masked logits give invalid actions probability 0 and keep the entropy finite") {
  const torch::Tensor logits = torch::tensor({0.5f, 1.0f, -0.3f, 2.0f, 0.0f}).view({1, 5});
  const torch::Tensor valid = torch::tensor({false, true, true, false, true}).view({1, 5});
  const torch::Tensor log_probs = torch::log_softmax(rl::mask_logits(logits, valid), -1);
  const torch::Tensor p = log_probs.exp();
  CHECK(p[0][0].item<double>() == 0);
  CHECK(p[0][3].item<double>() == 0);
  CHECK(p.sum().item<double>() == doctest::Approx(1));
  CHECK(std::isfinite((-(p * log_probs).sum()).item<double>()));
}

TEST_CASE("resuming from a checkpoint gives the same result as an uninterrupted run") {
  for (const auto& agent : kAgents) {
    CAPTURE(agent);
    const std::string straight = temp_dir("straight-" + agent), split = temp_dir("split-" + agent);
    const nlohmann::json whole = rl::train(small_scenario(), small_config(agent, straight), false, {});
    rl::TrainConfig half = small_config(agent, split);
    half.total_steps = 192;
    rl::train(small_scenario(), half, false, {});
    const nlohmann::json resumed = rl::train(small_scenario(), small_config(agent, split), true, {});
    CHECK(resumed["env_steps"] == whole["env_steps"]);
    CHECK(resumed["env_steps_this_run"] == 192);
    CHECK(resumed["final_evaluation"] == whole["final_evaluation"]);
    // Same weights, bit for bit.
    const rl::CheckpointMeta meta = rl::read_checkpoint_meta(straight + "/last.pt");
    rl::ActorCritic a(meta.agent, meta.observation_size), b(meta.agent, meta.observation_size);
    rl::load_checkpoint(straight + "/last.pt", a, nullptr, {});
    rl::load_checkpoint(split + "/last.pt", b, nullptr, {});
    const auto pa = a->parameters(), pb = b->parameters();
    REQUIRE(pa.size() == pb.size());
    for (std::size_t i = 0; i < pa.size(); ++i) CHECK(torch::equal(pa[i], pb[i]));
    // The learning curves agree but for the wall-clock columns.
    const auto strip = [](const std::string& file) {
      std::ifstream in(file);
      std::string line, out;
      while (std::getline(in, line)) {
        std::vector<std::string> cells;
        std::stringstream row(line);
        for (std::string cell; std::getline(row, cell, ',');) cells.push_back(cell);
        cells.resize(14);
        cells[2] = cells[3] = "";
        for (const auto& cell : cells) out += cell + ",";
        out += "\n";
      }
      return out;
    };
    CHECK(strip(straight + "/learning_curve.csv") == strip(split + "/learning_curve.csv"));
  }
}

TEST_CASE("a second run into the same folder needs --resume; resume refuses other settings") {
  const std::string dir = temp_dir("refuse");
  rl::TrainConfig c = small_config("ppo", dir);
  c.total_steps = 192;
  rl::train(small_scenario(), c, false, {});
  CHECK_THROWS_WITH_AS(rl::train(small_scenario(), c, false, {}), doctest::Contains("pass --resume"), InputError);
  c.agent.lstm_hidden = 16;
  CHECK_THROWS_WITH_AS(rl::train(small_scenario(), c, true, {}), doctest::Contains("the agent's network"), InputError);
  c = small_config("ppo", dir);
  c.num_envs = 8;
  CHECK_THROWS_WITH_AS(rl::train(small_scenario(), c, true, {}), doctest::Contains("num_envs"), InputError);
  Scenario other = small_scenario();
  other.platform.max_replicas = 7;
  other.resolved["platform"]["max_replicas"] = 7;
  CHECK_THROWS_WITH_AS(rl::train(other, small_config("ppo", dir), true, {}), doctest::Contains("simulated platform"),
                       InputError);
}

TEST_CASE("a non-finite loss stops training and keeps the last good checkpoint") {
  const std::string dir = temp_dir("nan");
  rl::TrainConfig c = small_config("lstm-ppo-plus", dir);
  c.eval_every_steps = c.agent.rollout_steps;
  c.total_steps = c.agent.rollout_steps;
  rl::train(small_scenario(), c, false, {});
  const std::string good = [&] {
    std::ifstream in(dir + "/last.pt", std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }();
  // Resumed at an absurd learning rate: the next optimiser step throws the weights to
  // ~1e30 and the outputs or the loss overflow.
  c.agent.learning_rate = 1e30;
  c.total_steps = 4 * c.agent.rollout_steps;
  std::string message;
  try {
    rl::train(small_scenario(), c, true, {});
  } catch (const rl::TrainingDiverged& e) {
    message = e.what();
  }
  CHECK(message.find("update 2") != std::string::npos);
  CHECK(message.find("last good checkpoint") != std::string::npos);
  const auto meta = rl::read_checkpoint_meta(dir + "/last.pt");
  CHECK(meta.record["training"]["env_steps"] == 96);
  std::ifstream in(dir + "/last.pt", std::ios::binary);
  CHECK(std::string(std::istreambuf_iterator<char>(in), {}) == good);
  for (const auto& entry : fs::directory_iterator(dir)) CHECK(entry.path().extension() != ".tmp");
}

TEST_CASE("a stop request is obeyed in the final evaluations too") {
  rl::TrainConfig c = small_config("ppo", temp_dir("stop"));
  c.total_steps = c.agent.rollout_steps;
  bool trained = false;
  rl::TrainHooks hooks;
  hooks.on_update = [&](const rl::TrainProgress&) { trained = true; };
  hooks.stop_requested = [&] { return trained; };  // after the last update: during the baselines
  CHECK_THROWS_WITH_AS(rl::train(small_scenario(), c, false, hooks), doctest::Contains("continue with --resume"),
                       rl::TrainingStopped);
}

TEST_CASE("a checkpoint with non-finite weights is refused") {
  const std::string dir = temp_dir("nan-weights");
  rl::AgentConfig a = rl::AgentConfig::defaults("ppo");
  rl::ActorCritic net(a, 7);
  {
    torch::NoGradGuard no_grad;
    net->parameters()[0][0][0] = std::nan("");
  }
  rl::save_checkpoint(dir + "/bad.pt", {{"agent", rl::agent_config_to_json(a)}}, net, nullptr, {});
  rl::ActorCritic fresh(a, 7);
  CHECK_THROWS_WITH_AS(rl::load_checkpoint(dir + "/bad.pt", fresh, nullptr, {}), doctest::Contains("NaN or infinite"),
                       InputError);
}

TEST_CASE("the deployed agent acts as it did in its environment") {
  // The "agent" autoscaler, driving the simulator, takes the same decisions as the greedy
  // agent stepping the environment over the same requests.
  rl::register_agent_policy();
  for (const auto& agent : kAgents) {
    CAPTURE(agent);
    const std::string dir = temp_dir("deploy-" + agent);
    const nlohmann::json t = rl::train(small_scenario(), small_config(agent, dir), false, {});
    Scenario s = small_scenario();
    s.trace = *small_config(agent, dir).eval_trace;
    s.duration_s = s.trace.span_s();
    s.autoscaler = {{"kind", "agent"}, {"checkpoint", dir + "/last.pt"}};
    auto sim = make_simulation(s, nullptr);
    sim->run();
    const nlohmann::json m = run_metrics(*sim);
    CHECK(m["replica_seconds"].get<double>() == t["final_evaluation"]["replica_seconds"].get<double>());
    CHECK(m["latency_p95_s"] == t["final_evaluation"]["latency_p95_s"]);
  }
}

// One rollout of PPO on the small scenario, its checkpoints in a fresh folder `name`.
rl::TrainConfig trained_one_rollout(const std::string& name) {
  rl::TrainConfig c = small_config("ppo", temp_dir(name));
  c.total_steps = 96;
  c.eval_every_steps = 96;
  rl::train(small_scenario(), c, false, {});
  return c;
}

TEST_CASE("the agent autoscaler refuses checkpoints that do not fit the scenario") {
  rl::register_agent_policy();
  const std::string dir = trained_one_rollout("mismatch").checkpoint_dir;
  auto doc = testing::base_scenario();
  doc["control_interval_s"] = 30;
  doc["platform"] = {{"min_replicas", 1}, {"max_replicas", 9}};
  doc["autoscaler"] = {{"kind", "agent"}, {"checkpoint", dir + "/last.pt"}};
  CHECK_THROWS_WITH_AS(testing::make_scenario(doc), doctest::Contains("[1, 8] but this scenario has [1, 9]"),
                       InputError);
  doc["platform"]["max_replicas"] = 8;
  doc["control_interval_s"] = 10;
  CHECK_THROWS_WITH_AS(testing::make_scenario(doc), doctest::Contains("30 s control interval"), InputError);
  doc["autoscaler"]["checkpoint"] = dir + "/missing.pt";
  CHECK_THROWS_WITH_AS(testing::make_scenario(doc), doctest::Contains("$.autoscaler.checkpoint"), InputError);
  std::ofstream(dir + "/junk.pt") << "not a checkpoint";
  doc["autoscaler"]["checkpoint"] = dir + "/junk.pt";
  CHECK_THROWS_WITH_AS(testing::make_scenario(doc), doctest::Contains("not a faascale-agent-1 checkpoint"),
                       InputError);
}

TEST_CASE("a damaged or foreign checkpoint is refused, naming what is wrong, deployed or resumed") {
  rl::register_agent_policy();
  rl::TrainConfig c = trained_one_rollout("damaged");
  const std::string dir = c.checkpoint_dir;
  const rl::CheckpointMeta good = rl::read_checkpoint_meta(dir + "/last.pt");
  rl::ActorCritic net(good.agent, good.observation_size);
  torch::optim::Adam optimizer(net->parameters());
  const rl::Checkpoint stored = rl::load_checkpoint(dir + "/last.pt", net, &optimizer, {"state", "action_log"});
  // Rewrites last.pt with its record changed by `edit`, every tensor kept.
  const auto damage = [&](const std::function<void(nlohmann::json&)>& edit) {
    nlohmann::json record = good.record;
    edit(record);
    record.erase("format");
    rl::save_checkpoint(dir + "/last.pt", record, net, &optimizer, stored.tensors);
  };
  auto doc = testing::base_scenario();
  doc["control_interval_s"] = 30;
  doc["platform"] = {{"min_replicas", 1}, {"max_replicas", 8}};
  doc["autoscaler"] = {{"kind", "agent"}, {"checkpoint", dir + "/last.pt"}};
  const auto deploy_refuses = [&](const std::string& expected) {
    CHECK_THROWS_WITH_AS(testing::make_scenario(doc), doctest::Contains(expected.c_str()), InputError);
  };
  damage([](nlohmann::json& r) { r["agent"]["lstm_hidden"] = -5; });
  deploy_refuses("$.agent.lstm_hidden");
  deploy_refuses("checkpoint's metadata");
  damage([](nlohmann::json& r) { r.erase("min_replicas"); });
  deploy_refuses("$.min_replicas");
  // A ppo network under the lstm-ppo observation (6 values, not 7).
  damage([](nlohmann::json& r) { r["env"]["preset"] = "lstm-ppo"; });
  deploy_refuses("$.observation_size");
  // A valid description of another network than the stored weights.
  damage([](nlohmann::json& r) { r["agent"]["torso"] = {32, 32}; });
  deploy_refuses("are [64, 7] of Float where its metadata's network has [32, 7] of Float");
  damage([](nlohmann::json& r) { r["extra"] = 1; });
  deploy_refuses("$.extra: unknown key");
  // Resuming: a reward normaliser for fewer envs than the run has (once written out of
  // bounds), a held-out trace other than the run's, a target below the progress made.
  damage([](nlohmann::json& r) { r["training"]["return_scale"]["returns"] = {1.0}; });
  c.total_steps = 192;
  CHECK_THROWS_WITH_AS(rl::train(small_scenario(), c, true, {}), doctest::Contains("reward normaliser"), InputError);
  damage([](nlohmann::json& r) { r["training"]["curve"] = 3; });
  CHECK_THROWS_WITH_AS(rl::train(small_scenario(), c, true, {}), doctest::Contains("training state"), InputError);
  damage([](nlohmann::json& r) { r["training"]["curve"][0] = "1,2\n3"; });
  CHECK_THROWS_WITH_AS(rl::train(small_scenario(), c, true, {}), doctest::Contains("not one line"), InputError);
  damage([](nlohmann::json& r) { r["training"]["updates"] = 5; });
  CHECK_THROWS_WITH_AS(rl::train(small_scenario(), c, true, {}), doctest::Contains("rows for 5 updates"), InputError);
  damage([](nlohmann::json& r) { r["training"]["env_steps"] = 97; });  // read past the action log, once
  CHECK_THROWS_WITH_AS(rl::train(small_scenario(), c, true, {}), doctest::Contains("not a multiple of num_envs"),
                       InputError);
  damage([](nlohmann::json& r) { r["training"]["env_steps"] = 96.5; });
  CHECK_THROWS_WITH_AS(rl::train(small_scenario(), c, true, {}), doctest::Contains("$.training.env_steps"),
                       InputError);
  damage([](nlohmann::json&) {});
  {  // another training holds the folder
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
    REQUIRE(::flock(fd, LOCK_EX | LOCK_NB) == 0);
    CHECK_THROWS_WITH_AS(rl::train(small_scenario(), c, true, {}), doctest::Contains("another training is writing"),
                         InputError);
    ::close(fd);
  }
  rl::TrainConfig other_slice = c;
  other_slice.eval_trace->start_s = 300;
  CHECK_THROWS_WITH_AS(rl::train(small_scenario(), other_slice, true, {}), doctest::Contains("held-out trace"),
                       InputError);
  rl::TrainConfig shorter = c;
  shorter.total_steps = 48;
  shorter.agent.rollout_steps = 48;
  CHECK_THROWS_WITH_AS(rl::train(small_scenario(), shorter, true, {}), doctest::Contains("past train.total_steps 48"),
                       InputError);
  // The training trace file edited under the same path (small_scenario() writes it back).
  const Scenario edited = small_scenario();
  std::ofstream(edited.trace.path) << nlohmann::json(std::vector<int>(400, 9)).dump();
  CHECK_THROWS_WITH_AS(rl::train(edited, c, true, {}), doctest::Contains("simulated platform"), InputError);
  // Undamaged, it resumes.
  CHECK(rl::train(small_scenario(), c, true, {})["env_steps"] == 192);
  // A flipped bit in the stored weights, and a truncated file (libtorch checks no CRC
  // and reads past a short record): the digest of the whole archive refuses both.
  {
    rl::save_checkpoint(dir + "/intact.pt", good.record, net, nullptr, {});
    std::ifstream in(dir + "/intact.pt", std::ios::binary);
    std::string bytes(std::istreambuf_iterator<char>(in), {});
    const torch::Tensor w = net->named_parameters()["torso.0.weight"].contiguous();
    const auto at = bytes.find(std::string(static_cast<const char*>(w.data_ptr()), 16));
    REQUIRE(at != std::string::npos);
    bytes[at + 3] = static_cast<char>(bytes[at + 3] ^ 0x40);
    std::ofstream(dir + "/flipped.pt", std::ios::binary) << bytes;
    std::ofstream(dir + "/truncated.pt", std::ios::binary) << bytes.substr(0, bytes.size() - 100);
  }
  for (const char* name : {"/flipped.pt", "/truncated.pt"}) {
    doc["autoscaler"]["checkpoint"] = dir + name;
    deploy_refuses("damaged or truncated");
  }
  // Weights of another type are not reinterpreted.
  {
    torch::NoGradGuard no_grad;
    net->to(torch::kFloat64);
  }
  rl::save_checkpoint(dir + "/double.pt", good.record, net, nullptr, {});
  doc["autoscaler"]["checkpoint"] = dir + "/double.pt";
  deploy_refuses("of Double where");
}

}  // namespace
}  // namespace faascale
