// Implementation of actor_critic.hpp, and the deployed agent: the "agent" autoscaler kind
// and configure_threads() of agent.hpp.
#include "rl/actor_critic.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>
#include <string_view>

#include <fmt/format.h>

#include "sim/input_error.hpp"
#include "sim/json_reader.hpp"
#include "sim/metrics.hpp"
#include "sim/report.hpp"

namespace faascale::rl {
namespace {

constexpr const char* kCheckpointFormat = "faascale-agent-1";
constexpr float kMaskedLogit = -1e8f;  // probability 0 after softmax, but finite (entropy stays 0, not NaN)

void orthogonal(torch::nn::Linear& layer, double gain) {
  torch::nn::init::orthogonal_(layer->weight, gain);
  torch::nn::init::zeros_(layer->bias);
}

torch::nn::ModuleList make_mlp(const std::vector<std::int64_t>& sizes, std::int64_t& width) {
  torch::nn::ModuleList layers;
  for (const std::int64_t size : sizes) {
    torch::nn::Linear layer(width, size);
    orthogonal(layer, std::sqrt(2.0));
    layers->push_back(layer);
    width = size;
  }
  return layers;
}

torch::nn::LSTM make_lstm(std::int64_t input, std::int64_t hidden) {
  torch::nn::LSTM lstm(torch::nn::LSTMOptions(input, hidden));
  for (auto& p : lstm->named_parameters()) {
    if (p.key().find("weight") != std::string::npos) {
      torch::nn::init::orthogonal_(p.value(), 1.0);
    } else {
      torch::nn::init::zeros_(p.value());
    }
  }
  return lstm;
}

}  // namespace

ActorCriticImpl::ActorCriticImpl(const AgentConfig& config, std::int64_t observation_size) : config_(config) {
  std::int64_t width = observation_size;
  torso_ = register_module("torso", make_mlp(config.torso, width));
  if (config.recurrent()) {
    actor_lstm_ = register_module("actor_lstm", make_lstm(width, config.lstm_hidden));
    if (config.critic_lstm) critic_lstm_ = register_module("critic_lstm", make_lstm(width, config.lstm_hidden));
    width = config.lstm_hidden;
  }
  std::int64_t actor_width = width, critic_width = width;
  actor_mlp_ = register_module("actor_mlp", make_mlp(config.heads, actor_width));
  critic_mlp_ = register_module("critic_mlp", make_mlp(config.heads, critic_width));
  actor_out_ = register_module("actor_out", torch::nn::Linear(actor_width, kActions));
  critic_out_ = register_module("critic_out", torch::nn::Linear(critic_width, 1));
  orthogonal(actor_out_, 0.01);
  orthogonal(critic_out_, 1.0);
}

std::int64_t ActorCriticImpl::state_size() const {
  return config_.lstm_hidden * 2 * (config_.critic_lstm ? 2 : 1);
}

torch::Tensor ActorCriticImpl::mlp(torch::nn::ModuleList& layers, torch::Tensor x) const {
  for (const auto& layer : *layers) {
    x = layer->as<torch::nn::Linear>()->forward(x);
    x = config_.activation == "relu" ? torch::relu(x) : torch::tanh(x);
  }
  return x;
}

torch::Tensor ActorCriticImpl::recur(torch::nn::LSTM& lstm, const torch::Tensor& x, const torch::Tensor& state_part,
                                     std::vector<torch::Tensor>& next_state) const {
  const std::int64_t h = config_.lstm_hidden;
  auto hc = std::make_tuple(state_part.narrow(1, 0, h).unsqueeze(0).contiguous(),
                            state_part.narrow(1, h, h).unsqueeze(0).contiguous());
  auto [out, final_state] = lstm->forward(x, hc);
  next_state.push_back(std::get<0>(final_state).squeeze(0));
  next_state.push_back(std::get<1>(final_state).squeeze(0));
  return out;
}

ActorCriticOutput ActorCriticImpl::forward(const torch::Tensor& observations, const torch::Tensor& state) {
  torch::Tensor features = mlp(torso_, observations);
  torch::Tensor actor = features, critic = features;
  ActorCriticOutput out;
  if (config_.recurrent()) {
    const std::int64_t part = 2 * config_.lstm_hidden;
    std::vector<torch::Tensor> next;
    actor = recur(actor_lstm_, features, state.narrow(1, 0, part), next);
    critic = config_.critic_lstm ? recur(critic_lstm_, features, state.narrow(1, part, part), next) : actor;
    out.state = torch::cat(next, 1);
  } else {
    out.state = state;
  }
  out.logits = actor_out_->forward(mlp(actor_mlp_, actor));
  out.values = critic_out_->forward(mlp(critic_mlp_, critic)).squeeze(-1);
  return out;
}

torch::Tensor mask_logits(const torch::Tensor& logits, const torch::Tensor& valid) {
  return logits.masked_fill(valid.logical_not(), kMaskedLogit);
}

GreedyActor::GreedyActor(ActorCritic net, Preset preset, bool mask_invalid)
    : net_(std::move(net)), preset_(std::move(preset)), mask_invalid_(mask_invalid), state_(net_->initial_state(1)) {}

int GreedyActor::act(const Observation& observation, const ActionMask& valid, bool episode_start) {
  torch::NoGradGuard no_grad;
  if (episode_start) state_ = net_->initial_state(1);
  const std::vector<double> x = normalise(observation, preset_.low(), preset_.high());
  const torch::Tensor input = torch::tensor(std::vector<float>(x.begin(), x.end())).view({1, 1, -1});
  ActorCriticOutput out = net_->forward(input, state_);
  state_ = out.state;
  const auto logits = out.logits.view({kActions});
  const float* l = logits.data_ptr<float>();
  int best = -1;
  for (int a = 0; a < kActions; ++a) {
    if (mask_invalid_ && !valid[static_cast<std::size_t>(a)]) continue;
    if (!std::isfinite(l[a])) throw NonFiniteOutput("agent: the network's output is not finite");
    if (best < 0 || l[a] > l[best]) best = a;
  }
  return best < 0 ? 2 : best;  // no valid action at all (min == max and not there): hold
}

// ---- checkpoints ----------------------------------------------------------------------

nlohmann::json agent_config_to_json(const AgentConfig& c) {
  return {{"kind", c.kind},
          {"torso", c.torso},
          {"lstm_hidden", c.lstm_hidden},
          {"critic_lstm", c.critic_lstm},
          {"heads", c.heads},
          {"activation", c.activation},
          {"learning_rate", c.learning_rate},
          {"gamma", c.gamma},
          {"gae_lambda", c.gae_lambda},
          {"clip_range", c.clip_range},
          {"vf_coef", c.vf_coef},
          {"ent_coef", c.ent_coef},
          {"max_grad_norm", c.max_grad_norm},
          {"rollout_steps", c.rollout_steps},
          {"minibatch_steps", c.minibatch_steps},
          {"epochs", c.epochs},
          {"sequence_length", c.sequence_length},
          {"normalize_advantages", c.normalize_advantages},
          {"normalize_rewards", c.normalize_rewards},
          {"mask_invalid_actions", c.mask_invalid_actions}};
}

void save_checkpoint(const std::string& path, const nlohmann::json& meta, ActorCritic& net,
                     torch::optim::Optimizer* optimizer, const std::map<std::string, torch::Tensor>& tensors) {
  nlohmann::json full = meta;
  full["format"] = kCheckpointFormat;
  torch::serialize::OutputArchive archive;
  archive.write("meta", c10::IValue(full.dump()));
  torch::serialize::OutputArchive model;
  net->save(model);
  archive.write("model", model);
  if (optimizer != nullptr) {
    torch::serialize::OutputArchive optimizer_archive;
    optimizer->save(optimizer_archive);
    archive.write("optimizer", optimizer_archive);
  }
  for (const auto& [name, tensor] : tensors) archive.write("tensor." + name, tensor);
  std::ostringstream bytes;
  archive.save_to(bytes);
  // A checkpoint file is one line "faascale-agent-1 DIGEST" and then the torch archive. The
  // digest covers every byte of the archive and is checked before any of it is read, so a
  // damaged or truncated record (libtorch checks no CRC and would read past a short one) is
  // refused instead of loaded.
  const std::string body = bytes.str();
  write_file_atomically(path, fmt::format("{} {}\n", kCheckpointFormat, content_digest(body)) + body);
}

namespace {

torch::serialize::InputArchive open_archive(const std::string& path) {
  constexpr std::uintmax_t kMaxCheckpointBytes = std::uintmax_t{4} << 30;
  check_input_file(path, "checkpoint (last.pt or best.pt)", kMaxCheckpointBytes);
  const std::string bytes = read_file_bytes(path);
  const std::string_view header(bytes.data(), std::min(bytes.find('\n'), bytes.size()));
  const std::string format = std::string(kCheckpointFormat) + " ";
  if (header.substr(0, format.size()) != format) {
    throw InputError(fmt::format("{}: not a {} checkpoint (written by another faascale version, or not a "
                                 "checkpoint); give the last.pt or best.pt a training run of this version wrote.",
                                 path, kCheckpointFormat));
  }
  const std::string_view body = std::string_view(bytes).substr(std::min(header.size() + 1, bytes.size()));
  if (header.substr(format.size()) != content_digest(body)) {
    throw InputError(fmt::format("{}: the checkpoint is damaged or truncated (its bytes do not match the digest "
                                 "written with them); use another checkpoint (best.pt, last.pt) or train again.",
                                 path));
  }
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(body.data(), body.size());
  } catch (const std::exception&) {  // c10::Error, or TorchScript's parser on damaged records
    throw InputError(fmt::format("{}: cannot be read as a faascale agent checkpoint (missing, unreadable or not a "
                                 "checkpoint); give the last.pt or best.pt a training run wrote.", path));
  }
  return archive;
}

nlohmann::json read_meta(torch::serialize::InputArchive& archive, const std::string& path) {
  c10::IValue meta;
  if (!archive.try_read("meta", meta) || !meta.isString()) {
    throw InputError(path + ": not a faascale agent checkpoint (no \"meta\" record).");
  }
  const nlohmann::json j = parse_json_text(meta.toStringRef(), path + " (its \"meta\" record)");  // depth-limited
  if (!j.is_object() || j.value("format", "") != kCheckpointFormat) {
    throw InputError(fmt::format("{}: checkpoint format is not {}; retrain with this version.", path,
                                 kCheckpointFormat));
  }
  return j;
}

// The tensor a module's save() wrote for the parameter `dotted` ("torso.0.weight"): one
// nested archive per submodule.
torch::Tensor read_stored_tensor(torch::serialize::InputArchive& model, const std::string& dotted) {
  std::vector<torch::serialize::InputArchive> chain;
  chain.reserve(static_cast<std::size_t>(std::count(dotted.begin(), dotted.end(), '.')));
  torch::serialize::InputArchive* archive = &model;
  std::size_t begin = 0;
  for (std::size_t dot = dotted.find('.'); dot != std::string::npos; dot = dotted.find('.', begin)) {
    chain.emplace_back();
    archive->read(dotted.substr(begin, dot - begin), chain.back());
    archive = &chain.back();
    begin = dot + 1;
  }
  torch::Tensor stored;
  archive->read(dotted.substr(begin), stored);
  return stored;
}

// Adam's moments must be finite tensors of their parameter's shape, its step count >= 0:
// load() takes any.
void check_adam_state(const std::string& path, torch::optim::Optimizer& optimizer) {
  for (const auto& group : optimizer.param_groups()) {
    for (const auto& p : group.params()) {
      const auto it = optimizer.state().find(c10::guts::to_string(p.unsafeGetTensorImpl()));
      if (it == optimizer.state().end()) continue;  // no step taken yet
      const auto* adam = dynamic_cast<const torch::optim::AdamParamState*>(it->second.get());
      const auto fits = [&](const torch::Tensor& t) {
        return t.defined() && t.sizes() == p.sizes() && t.scalar_type() == p.scalar_type() &&
               torch::isfinite(t).all().item<bool>();
      };
      if (adam == nullptr || adam->step() < 0 || !fits(adam->exp_avg()) || !fits(adam->exp_avg_sq()) ||
          !(adam->exp_avg_sq() >= 0).all().item<bool>()) {
        throw InputError(fmt::format("{}: the optimiser state is damaged or not faascale's (Adam moments of another "
                                     "shape, non-finite or negative second moments, or a negative step); train "
                                     "again without --resume.", path));
      }
    }
  }
}

}  // namespace

CheckpointMeta read_checkpoint_meta(const std::string& path) {
  auto archive = open_archive(path);
  CheckpointMeta m;
  m.record = read_meta(archive, path);
  nlohmann::json resolved;
  try {
    JsonReader r(m.record, path, "$", resolved);
    m.agent = read_agent_config(r.object("agent"));
    m.env = read_env_config(r.object("env"));
    m.min_replicas = r.integer("min_replicas", 0, 100000);
    m.max_replicas = r.integer("max_replicas", std::max<std::int64_t>(m.min_replicas, 1), 100000);
    m.control_interval_s = r.number("control_interval_s", 1e-3, 1e6);
    const auto expected = static_cast<std::int64_t>(Preset(m.env, m.min_replicas, m.max_replicas).low().size());
    m.observation_size = r.integer("observation_size", expected, expected);
    r.text("format");  // checked by read_meta()
    for (const char* key : {"scenario", "training"}) {  // read by a resume
      if (!r.raw(key).is_object()) r.fail(key, "expected an object.");
    }
    r.finish();
  } catch (const InputError& e) {
    throw InputError(fmt::format("{} (in the checkpoint's metadata: the file is damaged or from another faascale "
                                 "version; use a checkpoint this version wrote, or train again)", e.what()));
  }
  return m;
}

Checkpoint load_checkpoint(const std::string& path, ActorCritic& net, torch::optim::Optimizer* optimizer,
                           const std::vector<std::string>& tensor_names) {
  auto archive = open_archive(path);
  Checkpoint c;
  c.meta = read_meta(archive, path);
  try {
    torch::serialize::InputArchive model;
    archive.read("model", model);
    // load() would take a stored tensor of any shape, and reinterpret one of another type,
    // so each is read on its own first and compared with the network's.
    for (const auto& p : net->named_parameters()) {
      const torch::Tensor stored = read_stored_tensor(model, p.key());
      if (stored.sizes() != p.value().sizes() || stored.scalar_type() != p.value().scalar_type()) {
        throw InputError(fmt::format("{}: the weights {} are [{}] of {} where its metadata's network has [{}] of "
                                     "{}: the file is damaged or not faascale's; use another checkpoint or train "
                                     "again.", path, p.key(), fmt::join(stored.sizes().vec(), ", "),
                                     c10::toString(stored.scalar_type()), fmt::join(p.value().sizes().vec(), ", "),
                                     c10::toString(p.value().scalar_type())));
      }
    }
    net->load(model);
    if (optimizer != nullptr) {
      torch::serialize::InputArchive optimizer_archive;
      archive.read("optimizer", optimizer_archive);
      optimizer->load(optimizer_archive);
    }
    for (const auto& name : tensor_names) {
      torch::Tensor t;
      archive.read("tensor." + name, t);
      c.tensors[name] = t;
    }
  } catch (const InputError&) {
    throw;
  } catch (const std::exception& e) {  // c10::Error, or TorchScript's parser on damaged records
    const auto* torch_error = dynamic_cast<const c10::Error*>(&e);
    const std::string reason = torch_error != nullptr ? torch_error->what_without_backtrace() : e.what();
    throw InputError(fmt::format("{}: the checkpoint is damaged, does not match its network or lacks training state "
                                 "({}).", path, reason.substr(0, reason.find('\n')).substr(0, 200)));
  }
  if (optimizer != nullptr) check_adam_state(path, *optimizer);
  for (const auto& p : net->named_parameters()) {
    if (!torch::isfinite(p.value()).all().item<bool>()) {
      throw InputError(fmt::format("{}: the weights ({}) hold NaN or infinite values; use an earlier checkpoint "
                                   "(best.pt) or train again.", path, p.key()));
    }
  }
  return c;
}

// ---- the "agent" autoscaler kind ----------------------------------------------------

namespace {

// A trained agent deciding every control interval, as it acted in its environment: it
// observes the window that just closed, its episode (and recurrent state) restarts after
// every 10 valid steps or 10 invalid choices, and an invalid choice changes nothing.
class AgentPolicy final : public Policy {
 public:
  AgentPolicy(ActorCritic net, const Preset& preset, bool mask, const PolicyContext& context)
      : actor_(std::move(net), preset, mask), preset_(preset), context_(context) {}

  std::string_view kind() const override { return "agent"; }
  double period_s() const override { return context_.control_interval_s; }

  std::int64_t decide(const PlatformView& view) override {
    const std::int64_t hold = std::clamp(view.desired, context_.min_replicas, context_.max_replicas);
    if (view.last_window == nullptr) return hold;  // nothing observed yet
    const ActionMask valid = valid_actions(view.ready, context_.min_replicas, context_.max_replicas);
    const bool episode_start = valid_steps_ == 0 && invalid_choices_ == 0;
    const int action = actor_.act(preset_.observe(*view.last_window), valid, episode_start);
    const bool ok = valid[static_cast<std::size_t>(action)];
    ok ? ++valid_steps_ : ++invalid_choices_;
    if (valid_steps_ >= kEpisodeValidSteps || invalid_choices_ >= kEpisodeInvalidActions) {
      valid_steps_ = invalid_choices_ = 0;
    }
    return ok ? view.ready + (action - 2) : hold;
  }

 private:
  GreedyActor actor_;
  Preset preset_;
  PolicyContext context_;
  int valid_steps_ = 0, invalid_choices_ = 0;
};

// A checkpoint's network, ready for inference, with the preset it was trained on.
struct DeployedAgent {
  CheckpointMeta meta;
  ActorCritic net{nullptr};
  std::unique_ptr<Preset> preset;
};

DeployedAgent load_deployed(const std::string& path) {
  DeployedAgent d;
  d.meta = read_checkpoint_meta(path);
  d.net = ActorCritic(d.meta.agent, d.meta.observation_size);
  load_checkpoint(path, d.net, nullptr, {});
  d.net->eval();
  d.preset = std::make_unique<Preset>(d.meta.env, d.meta.min_replicas, d.meta.max_replicas);
  return d;
}

std::unique_ptr<Policy> make_agent_policy(JsonReader& r, const PolicyContext& context) {
  // Found as a trace is: from the working directory, else from the scenario's folder up.
  const std::string path =
      resolve_input_path(r.text("checkpoint"), std::filesystem::path(r.file()).parent_path().string());
  const bool mask = r.boolean("mask_invalid_actions", true);
  r.finish();  // unknown keys first, before the file is read
  const auto fail = [&](const std::string& problem) { r.fail("checkpoint", problem); };
  DeployedAgent agent;
  try {
    agent = load_deployed(path);
  } catch (const InputError& e) {
    fail(e.what());
  }
  const auto min = agent.meta.min_replicas, max = agent.meta.max_replicas;
  if (min != context.min_replicas || max != context.max_replicas) {
    fail(fmt::format("{}: the agent was trained with replicas in [{}, {}] but this scenario has [{}, {}]; its "
                     "observations and actions are defined by those bounds, so set the platform's "
                     "min_replicas/max_replicas to match or train for these.",
                     path, min, max, context.min_replicas, context.max_replicas));
  }
  const double interval = agent.meta.control_interval_s;
  if (interval != context.control_interval_s) {
    fail(fmt::format("{}: the agent was trained with a {} s control interval, this scenario has {} s; set "
                     "control_interval_s to {}.", path, interval, context.control_interval_s, interval));
  }
  return std::make_unique<AgentPolicy>(agent.net, *agent.preset, mask, context);
}

}  // namespace

void register_agent_policy() { register_policy_kind("agent", make_agent_policy); }

Actor load_greedy_actor(const std::string& checkpoint) {
  DeployedAgent agent = load_deployed(checkpoint);
  auto actor = std::make_shared<GreedyActor>(agent.net, *agent.preset, true);
  return [actor](const Observation& o, const ActionMask& valid, bool episode_start) {
    return actor->act(o, valid, episode_start);
  };
}

std::string configure_threads(std::int64_t torch_threads) {
  // OpenBLAS's own pool would fight torch's for the 2 cores (reference facts section 9).
  using SetThreads = void (*)(int);
  auto* openblas_set_num_threads = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
  if (openblas_set_num_threads != nullptr) openblas_set_num_threads(1);
  torch::set_num_threads(static_cast<int>(torch_threads));
  return fmt::format("torch {} thread(s), BLAS {}", torch_threads,
                     openblas_set_num_threads != nullptr ? "OpenBLAS 1 thread"
                                                         : "not OpenBLAS (install libopenblas0-pthread: the reference "
                                                           "BLAS is far slower)");
}

}  // namespace faascale::rl
