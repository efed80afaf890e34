// PPO for the three agents (rl/agent.hpp's train()), recurrent or not, on libtorch.
//
// One update:
//   collect  every env steps rollout_steps / num_envs times; one batched forward per step
//            from each env's recurrent state, zeroed where an episode starts; actions
//            sampled with our own seeded stream; V(final observation) for truncations
//   GAE      rl/rollout.hpp (per env, truncation bootstraps, termination does not)
//   update   epochs x minibatches of whole sequences (rl/rollout.hpp); the LSTM is re-run
//            over each sequence from the state stored when its first step was collected
//            (zero at an episode start; a stored state is from before this update's
//            earlier minibatches, the usual and documented staleness); losses and advantage
//            statistics ignore padding
// Checkpoints hold the network, Adam's state, the sampling stream, the counters, each
// env's recurrent state and the action log: resuming replays the logged actions through
// fresh environments (the simulator is deterministic) and goes on exactly as an
// uninterrupted run would.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

#include "rl/actor_critic.hpp"
#include "rl/rollout.hpp"
#include "rl/vec_env.hpp"
#include "sim/input_error.hpp"
#include "sim/json_reader.hpp"
#include "sim/random.hpp"
#include "sim/report.hpp"

namespace faascale::rl {
namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

const char* const kCurveHeader =
    "update,env_steps,wall_s,steps_per_s,episodes,mean_episode_reward,policy_loss,value_loss,entropy,approx_kl,"
    "clip_fraction,eval_mean_reward,eval_latency_p95_s,eval_mean_replicas\n";

nlohmann::json env_config_to_json(const EnvConfig& e) {
  return {{"preset", e.preset}, {"seed_compat", e.seed_compat}, {"latency_slo_s", e.latency_slo_s},
          {"reset_mode", e.reset_mode}, {"warmup_s", e.warmup_s}, {"random_start", e.random_start}};
}

std::string csv_number(double v) { return std::isfinite(v) ? fmt::format("{:.6g}", v) : ""; }

struct UpdateStats {
  double policy_loss = 0, value_loss = 0, entropy = 0, approx_kl = 0, clip_fraction = 0;
  double first_ratio_deviation = 0;  // max |ratio - 1| in the update's first minibatch
  int minibatches = 0;
};

// Scales rewards by the running standard deviation of each env's discounted return
// (Welford's algorithm over every step's return), as reward normalisation usually does.
struct ReturnScale {
  static constexpr double kRewardClip = 10;  // scaled rewards are clipped to +-10
  double count = 0, mean = 0, m2 = 0;
  std::vector<double> returns;  // per env, reset at episode ends

  double apply(std::size_t env, double reward, bool episode_ended, double gamma) {
    returns[env] = returns[env] * gamma + reward;
    count += 1;
    const double delta = returns[env] - mean;
    mean += delta / count;
    m2 += delta * (returns[env] - mean);
    if (episode_ended) returns[env] = 0;
    const double variance = count > 1 ? m2 / count : 1.0;
    return std::clamp(reward / std::sqrt(variance + 1e-8), -kRewardClip, kRewardClip);
  }
  nlohmann::json to_json() const { return {{"count", count}, {"mean", mean}, {"m2", m2}, {"returns", returns}}; }
  // False (and nothing changed) for a state that cannot be `envs` envs' running statistics.
  bool from_json(const nlohmann::json& j, std::size_t envs) {
    const auto stored = j.at("returns").get<std::vector<double>>();
    const double c = j.at("count").get<double>(), mu = j.at("mean").get<double>(), s2 = j.at("m2").get<double>();
    const bool finite = std::all_of(stored.begin(), stored.end(), [](double v) { return std::isfinite(v); });
    if (stored.size() != envs || !finite || !(c >= 0) || !std::isfinite(mu) || !(s2 >= 0) || !std::isfinite(s2)) {
      return false;
    }
    count = c, mean = mu, m2 = s2, returns = stored;
    return true;
  }
};

// An exclusive lock on a folder, held while the object lives: two trainings never write
// into one checkpoint folder at once.
class FolderLock {
 public:
  explicit FolderLock(const std::string& dir) : fd_(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) {
    if (fd_ < 0) {
      throw InputError(fmt::format("{}: cannot open the folder to lock it ({}); choose another --out or "
                                   "train.checkpoint_dir.", dir, std::strerror(errno)));
    }
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      ::close(fd_);
      throw InputError(fmt::format("{}: another training is writing into this folder; wait for it to end, or choose "
                                   "another --out or train.checkpoint_dir.", dir));
    }
  }
  ~FolderLock() { ::close(fd_); }
  FolderLock(const FolderLock&) = delete;
  FolderLock& operator=(const FolderLock&) = delete;

 private:
  int fd_;
};

// The rollout buffers, time-major ([t][n] at t * N + n).
struct Rollout {
  RolloutShape shape;
  torch::Tensor observations;  // [T*N, O]
  torch::Tensor states;        // [T*N, S]
  torch::Tensor actions;       // [T*N] int64
  torch::Tensor log_probs;     // [T*N]
  torch::Tensor valid;         // [T*N, A] bool
  GaeInput gae;
  std::vector<bool> episode_start;
};

class Trainer {
 public:
  Trainer(const Scenario& scenario, const TrainConfig& config, bool resume, const TrainHooks& hooks);
  nlohmann::json run();

 private:
  std::unique_ptr<VecEnv> make_vec_env() const;
  torch::Tensor observation_batch(const std::vector<Observation>& observations) const;
  void reset_states_at_episode_starts();
  void collect(Rollout& r);
  UpdateStats update(Rollout& r);
  void check_finite(double value, const std::string& what) const;
  // Throws TrainingStopped when the hooks say so: polled every step, minibatch and
  // evaluation step.
  void poll_stop() const;
  Evaluation evaluate_agent();
  nlohmann::json meta() const;
  // What a resumed run must share with the checkpoint's: the platform, the training and
  // held-out traces, and the content of every file they read (not the name). Computed
  // once, at the start.
  nlohmann::json scenario_fingerprint() const {
    nlohmann::json s = scenario_.resolved;
    s.erase("name");
    std::error_code ec;  // the same file however its path was written
    std::vector<std::string> files = input_files(scenario_.file, scenario_.resolved);
    files.erase(files.begin());  // the scenario file itself: its content is `s`
    if (config_.eval_trace) {
      const TraceSpec& t = *config_.eval_trace;
      s["held_out_trace"] = {{"format", t.format},     {"window_s", t.window_s}, {"arrivals", t.arrivals},
                             {"scale", t.scale},       {"start_s", t.start_s},   {"length_s", t.length_s},
                             {"repeat", t.repeat},     {"rate_per_s", t.rate_per_s}};
      if (!t.path.empty()) files.push_back(t.path);
    }
    if (s["trace"].contains("path")) s["trace"].erase("path");
    for (const auto& file : files) {
      s["input_files"][fs::weakly_canonical(file, ec).string()] = content_digest(read_file_bytes(file));
    }
    return s;
  }
  void save(const std::string& path);
  void restore();
  void write_curve() const;
  std::string path(const char* name) const { return (fs::path(config_.checkpoint_dir) / name).string(); }

  Scenario scenario_, eval_scenario_;
  TrainConfig config_;
  std::unique_ptr<FolderLock> lock_;  // on the checkpoint folder
  nlohmann::json fingerprint_;        // scenario_fingerprint(), at the start
  AgentConfig agent_;
  TrainHooks hooks_;
  std::string threads_;
  std::unique_ptr<VecEnv> vec_;
  std::int64_t observation_size_ = 0, envs_ = 0, steps_per_env_ = 0;
  ActorCritic net_{nullptr};
  std::unique_ptr<torch::optim::Adam> optimizer_;
  Rng rng_;  // action sampling and minibatch shuffling
  // Each env's position: its current observation, recurrent state, and whether its next
  // step starts an episode; the episode's reward so far.
  std::vector<Observation> observations_;
  torch::Tensor state_;
  std::vector<bool> starts_;
  std::vector<double> episode_rewards_;
  std::vector<double> finished_rewards_;  // episodes ended during the current update
  ReturnScale return_scale_;
  std::vector<std::uint8_t> action_log_;  // every action taken, time-major
  // Counters.
  std::int64_t env_steps_ = 0, updates_ = 0, episodes_ = 0, next_eval_ = 0, resumed_at_ = 0;
  double best_eval_reward_ = -INFINITY;
  std::int64_t best_eval_steps_ = -1, last_checkpoint_steps_ = -1;
  std::vector<std::string> curve_;
  double previous_wall_s_ = 0;  // wall time of the runs before a resume
  Clock::time_point start_ = Clock::now();
};

Trainer::Trainer(const Scenario& scenario, const TrainConfig& config, bool resume, const TrainHooks& hooks)
    : scenario_(scenario), eval_scenario_(scenario), config_(config), agent_(config.agent), hooks_(hooks),
      rng_(scenario.seed, Stream::policy) {
  threads_ = configure_threads(config_.threads);
  if (config_.eval_trace) {
    eval_scenario_.trace = *config_.eval_trace;
    eval_scenario_.duration_s = config_.eval_trace->span_s();
  }
  check_training_trace(scenario_, config_);
  fingerprint_ = scenario_fingerprint();
  envs_ = config_.num_envs;
  steps_per_env_ = agent_.rollout_steps / envs_;
  vec_ = make_vec_env();
  observation_size_ = static_cast<std::int64_t>(vec_->env(0).observation_size());
  torch::manual_seed(scenario_.seed);  // the network's initial weights
  net_ = ActorCritic(agent_, observation_size_);
  optimizer_ = std::make_unique<torch::optim::Adam>(
      net_->parameters(), torch::optim::AdamOptions(agent_.learning_rate).eps(1e-5));
  state_ = net_->initial_state(envs_);
  episode_rewards_.assign(static_cast<std::size_t>(envs_), 0.0);
  return_scale_.returns.assign(static_cast<std::size_t>(envs_), 0.0);
  starts_.assign(static_cast<std::size_t>(envs_), true);
  observations_ = vec_->reset(scenario_.seed);
  next_eval_ = config_.eval_every_steps;
  std::error_code ec;
  fs::create_directories(config_.checkpoint_dir, ec);
  if (ec) throw InputError(fmt::format("{}: cannot create the checkpoint folder ({}).", config_.checkpoint_dir, ec.message()));
  lock_ = std::make_unique<FolderLock>(config_.checkpoint_dir);
  if (resume) {
    restore();
  } else if (fs::exists(path("last.pt"), ec)) {
    throw InputError(fmt::format("{} exists from an earlier training run; pass --resume to continue it, or choose "
                                 "another --out or train.checkpoint_dir.", path("last.pt")));
  }
}

std::unique_ptr<VecEnv> Trainer::make_vec_env() const {
  std::vector<std::unique_ptr<Env>> envs;
  for (std::int64_t i = 0; i < envs_; ++i) envs.push_back(std::make_unique<SimEnv>(scenario_, config_.env));
  return std::make_unique<VecEnv>(std::move(envs));
}

torch::Tensor Trainer::observation_batch(const std::vector<Observation>& observations) const {
  torch::Tensor out = torch::empty({static_cast<std::int64_t>(observations.size()), observation_size_});
  float* p = out.data_ptr<float>();
  for (std::size_t n = 0; n < observations.size(); ++n) {
    for (const double v : vec_->env(n).normalise(observations[n])) *p++ = static_cast<float>(v);
  }
  return out;
}

void Trainer::reset_states_at_episode_starts() {
  for (std::int64_t n = 0; n < envs_; ++n) {
    if (starts_[static_cast<std::size_t>(n)] && state_.size(1) > 0) state_[n].zero_();
  }
}

void Trainer::poll_stop() const {
  if (!hooks_.stop_requested || !hooks_.stop_requested()) return;
  throw TrainingStopped(last_checkpoint_steps_ >= 0
                            ? fmt::format("stopped; {} holds env step {}: continue with --resume.", path("last.pt"),
                                          last_checkpoint_steps_)
                            : std::string("stopped before the first checkpoint; nothing to resume."));
}

void Trainer::check_finite(double value, const std::string& what) const {
  if (std::isfinite(value)) return;
  const std::string kept = last_checkpoint_steps_ >= 0
                               ? fmt::format("the last good checkpoint is {} (env step {})", path("last.pt"),
                                             last_checkpoint_steps_)
                               : "no checkpoint was written yet";
  throw TrainingDiverged(fmt::format("training stopped at update {} (env step {}): {} is {}; {}. Lower "
                                     "hyperparameters.learning_rate or max_grad_norm and train again.",
                                     updates_ + 1, env_steps_, what, value, kept));
}

void Trainer::collect(Rollout& r) {
  torch::NoGradGuard no_grad;
  const auto n_envs = static_cast<std::size_t>(envs_);
  r.shape = {static_cast<std::size_t>(steps_per_env_), n_envs};
  const auto total = static_cast<std::int64_t>(r.shape.size());
  r.observations = torch::empty({total, observation_size_});
  r.states = torch::empty({total, state_.size(1)});
  r.actions = torch::empty({total}, torch::kInt64);
  r.log_probs = torch::empty({total});
  r.valid = torch::empty({total, kActions}, torch::kBool);
  r.gae = GaeInput{};
  r.gae.shape = r.shape;
  r.gae.gamma = agent_.gamma;
  r.gae.lambda = agent_.gae_lambda;
  r.gae.final_values.assign(r.shape.size(), 0.0);
  r.episode_start.assign(r.shape.size(), false);
  std::vector<int> actions(n_envs);
  for (std::int64_t t = 0; t < steps_per_env_; ++t) {
    poll_stop();
    reset_states_at_episode_starts();
    const torch::Tensor obs = observation_batch(observations_);
    const std::int64_t row = t * envs_;
    r.observations.narrow(0, row, envs_).copy_(obs);
    r.states.narrow(0, row, envs_).copy_(state_);
    torch::Tensor valid = torch::empty({envs_, kActions}, torch::kBool);
    for (std::size_t n = 0; n < n_envs; ++n) {
      r.episode_start[r.shape.at(static_cast<std::size_t>(t), n)] = starts_[n];
      const ActionMask mask = vec_->env(n).valid_actions();
      for (int a = 0; a < kActions; ++a) valid[static_cast<std::int64_t>(n)][a] = mask[static_cast<std::size_t>(a)];
    }
    r.valid.narrow(0, row, envs_).copy_(valid);
    if (hooks_.on_inference) hooks_.on_inference(envs_);
    ActorCriticOutput out = net_->forward(obs.unsqueeze(0), state_);
    torch::Tensor logits = out.logits[0];
    if (agent_.mask_invalid_actions) logits = mask_logits(logits, valid);
    const torch::Tensor log_probs = torch::log_softmax(logits, -1).contiguous();
    const float* lp = log_probs.data_ptr<float>();
    const torch::Tensor values = out.values[0].contiguous();
    const float* v = values.data_ptr<float>();
    for (std::size_t n = 0; n < n_envs; ++n) {
      // Inverse CDF on one uniform from our stream.
      const double u = rng_.uniform();
      double cumulative = 0;
      int chosen = kActions - 1;
      for (int a = 0; a < kActions; ++a) {
        const double logp = lp[n * kActions + static_cast<std::size_t>(a)];
        check_finite(logp, "an action log-probability");
        cumulative += std::exp(logp);
        if (u < cumulative) {
          chosen = a;
          break;
        }
      }
      actions[n] = chosen;
      const std::size_t i = r.shape.at(static_cast<std::size_t>(t), n);
      r.actions[static_cast<std::int64_t>(i)] = chosen;
      r.log_probs[static_cast<std::int64_t>(i)] = lp[n * kActions + static_cast<std::size_t>(chosen)];
      r.gae.values.push_back(v[n]);
      check_finite(v[n], "a value estimate");
    }
    VecStep step = vec_->step(actions);
    for (const int a : actions) action_log_.push_back(static_cast<std::uint8_t>(a));
    state_ = out.state;
    std::vector<std::int64_t> truncated_envs;
    for (std::size_t n = 0; n < n_envs; ++n) {
      starts_[n] = step.terminated[n] || step.truncated[n];
      r.gae.rewards.push_back(agent_.normalize_rewards
                                  ? return_scale_.apply(n, step.rewards[n], starts_[n], agent_.gamma)
                                  : step.rewards[n]);
      r.gae.terminated.push_back(step.terminated[n]);
      r.gae.truncated.push_back(step.truncated[n]);
      episode_rewards_[n] += step.rewards[n];
      if (starts_[n]) {
        finished_rewards_.push_back(episode_rewards_[n]);
        episode_rewards_[n] = 0;
        ++episodes_;
      }
      if (step.truncated[n]) truncated_envs.push_back(static_cast<std::int64_t>(n));
    }
    if (!truncated_envs.empty()) {
      // V(final observation), from the state after the episode's last step.
      std::vector<Observation> finals;
      for (const auto n : truncated_envs) finals.push_back(step.final_observations[static_cast<std::size_t>(n)]);
      const torch::Tensor index = torch::tensor(truncated_envs);
      if (hooks_.on_inference) hooks_.on_inference(static_cast<std::int64_t>(truncated_envs.size()));
      const torch::Tensor final_values =
          net_->forward(observation_batch(finals).unsqueeze(0), state_.index_select(0, index)).values[0].contiguous();
      for (std::size_t k = 0; k < truncated_envs.size(); ++k) {
        r.gae.final_values[r.shape.at(static_cast<std::size_t>(t), static_cast<std::size_t>(truncated_envs[k]))] =
            final_values.data_ptr<float>()[k];
      }
    }
    observations_ = std::move(step.observations);
  }
  reset_states_at_episode_starts();
  if (hooks_.on_inference) hooks_.on_inference(envs_);
  const torch::Tensor last = net_->forward(observation_batch(observations_).unsqueeze(0), state_).values[0].contiguous();
  r.gae.last_values.assign(last.data_ptr<float>(), last.data_ptr<float>() + envs_);
}

UpdateStats Trainer::update(Rollout& r) {
  const GaeOutput gae = compute_gae(r.gae);
  const torch::Tensor advantages = torch::tensor(std::vector<float>(gae.advantages.begin(), gae.advantages.end()));
  const torch::Tensor returns = torch::tensor(std::vector<float>(gae.returns.begin(), gae.returns.end()));
  const std::vector<Sequence> sequences = split_sequences(
      r.shape, r.episode_start, agent_.recurrent() ? static_cast<std::size_t>(agent_.sequence_length) : 1);
  UpdateStats stats;
  for (std::int64_t epoch = 0; epoch < agent_.epochs; ++epoch) {
    for (const Minibatch& mb : make_minibatches(r.shape, sequences, static_cast<std::size_t>(agent_.minibatch_steps),
                                                rng_)) {
      const auto b = static_cast<std::int64_t>(mb.sequences.size());
      const auto l = static_cast<std::int64_t>(mb.max_length);
      if (hooks_.on_minibatch) hooks_.on_minibatch(l, b);
      poll_stop();
      std::vector<std::int64_t> index(mb.index);
      for (auto& i : index) i = std::max<std::int64_t>(i, 0);  // padding reads element 0, masked out below
      const torch::Tensor idx = torch::tensor(index);
      const torch::Tensor mask = torch::tensor(mb.mask).view({l, b});
      const torch::Tensor mask_sum = mask.sum();
      const auto masked_mean = [&](const torch::Tensor& x) { return (x * mask).sum() / mask_sum; };
      // Each sequence starts from zero at an episode start, else from its stored state.
      std::vector<std::int64_t> first;
      std::vector<float> keep;
      for (const Sequence& s : mb.sequences) {
        first.push_back(static_cast<std::int64_t>(r.shape.at(s.start, s.env)));
        keep.push_back(s.episode_start ? 0.0f : 1.0f);
      }
      const torch::Tensor state0 =
          r.states.index_select(0, torch::tensor(first)) * torch::tensor(keep).unsqueeze(1);
      ActorCriticOutput out = net_->forward(r.observations.index_select(0, idx).view({l, b, -1}), state0);
      torch::Tensor logits = out.logits;
      if (agent_.mask_invalid_actions) logits = mask_logits(logits, r.valid.index_select(0, idx).view({l, b, kActions}));
      const torch::Tensor log_probs = torch::log_softmax(logits, -1);
      const torch::Tensor taken = r.actions.index_select(0, idx).view({l, b, 1});
      const torch::Tensor new_log_prob = log_probs.gather(-1, taken).squeeze(-1);
      const torch::Tensor entropy = -(log_probs.exp() * log_probs).sum(-1);
      torch::Tensor adv = advantages.index_select(0, idx).view({l, b});
      if (agent_.normalize_advantages && mb.steps() > 1) {
        const torch::Tensor mean = masked_mean(adv);
        const torch::Tensor std = torch::sqrt(((adv - mean).pow(2) * mask).sum() / (mask_sum - 1));
        adv = (adv - mean) / (std + 1e-8);
      }
      const torch::Tensor log_ratio = new_log_prob - r.log_probs.index_select(0, idx).view({l, b});
      const torch::Tensor ratio = torch::exp(log_ratio);
      const torch::Tensor surrogate =
          torch::min(ratio * adv, torch::clamp(ratio, 1 - agent_.clip_range, 1 + agent_.clip_range) * adv);
      const torch::Tensor policy_loss = -masked_mean(surrogate);
      const torch::Tensor value_loss = masked_mean((returns.index_select(0, idx).view({l, b}) - out.values).pow(2));
      const torch::Tensor entropy_mean = masked_mean(entropy);
      const torch::Tensor loss = policy_loss + agent_.vf_coef * value_loss - agent_.ent_coef * entropy_mean;
      check_finite(loss.item<double>(), fmt::format("the loss (policy {}, value {}, entropy {})",
                                                    policy_loss.item<double>(), value_loss.item<double>(),
                                                    entropy_mean.item<double>()));
      optimizer_->zero_grad();
      loss.backward();
      const double grad_norm = torch::nn::utils::clip_grad_norm_(net_->parameters(), agent_.max_grad_norm);
      check_finite(grad_norm, "the gradient norm");
      optimizer_->step();
      torch::NoGradGuard no_grad;
      stats.policy_loss += policy_loss.item<double>();
      stats.value_loss += value_loss.item<double>();
      stats.entropy += entropy_mean.item<double>();
      stats.approx_kl += masked_mean((ratio - 1) - log_ratio).item<double>();
      stats.clip_fraction += masked_mean(((ratio - 1).abs() > agent_.clip_range).to(torch::kFloat)).item<double>();
      if (stats.minibatches == 0) stats.first_ratio_deviation = ((ratio - 1).abs() * mask).max().item<double>();
      ++stats.minibatches;
    }
  }
  return stats;
}

Evaluation Trainer::evaluate_agent() {
  torch::NoGradGuard no_grad;
  GreedyActor actor(net_, Preset(config_.env, scenario_.platform.min_replicas, scenario_.platform.max_replicas), true);
  try {
    return evaluate(eval_scenario_, config_.env, [&](const Observation& o, const ActionMask& valid, bool start) {
      poll_stop();
      return actor.act(o, valid, start);
    });
  } catch (const NonFiniteOutput&) {
    check_finite(std::nan(""), "the network's output in evaluation");
    throw;
  }
}

nlohmann::json Trainer::meta() const {
  return {{"agent", agent_config_to_json(agent_)},
          {"env", env_config_to_json(config_.env)},
          {"observation_size", observation_size_},
          {"min_replicas", scenario_.platform.min_replicas},
          {"max_replicas", scenario_.platform.max_replicas},
          {"control_interval_s", scenario_.control_interval_s},
          {"scenario", fingerprint_},
          {"training",
           {{"scenario", scenario_.name},
            {"seed", scenario_.seed},
            {"num_envs", envs_},
            {"env_steps", env_steps_},
            {"updates", updates_},
            {"episodes", episodes_},
            {"next_eval", next_eval_},
            {"best_eval_reward", std::isfinite(best_eval_reward_) ? nlohmann::json(best_eval_reward_) : nlohmann::json()},
            {"best_eval_steps", best_eval_steps_},
            {"rng", rng_.state()},
            {"return_scale", return_scale_.to_json()},
            {"wall_s", previous_wall_s_ + std::chrono::duration<double>(Clock::now() - start_).count()},
            {"curve", curve_}}}};
}

void Trainer::save(const std::string& file) {
  const torch::Tensor log = torch::from_blob(action_log_.data(), {static_cast<std::int64_t>(action_log_.size())},
                                             torch::kUInt8).clone();
  save_checkpoint(file, meta(), net_, optimizer_.get(), {{"state", state_}, {"action_log", log}});
}

void Trainer::restore() {
  const std::string file = path("last.pt");
  std::error_code ec;
  if (!fs::exists(file, ec)) {
    throw InputError(fmt::format("{}: nothing to resume (no such file); run without --resume to start training.",
                                 file));
  }
  const CheckpointMeta meta = read_checkpoint_meta(file);
  struct Mismatch : InputError {  // a checkpoint of another run, said as such
    using InputError::InputError;
  };
  const auto mismatch = [&](const std::string& what) {
    throw Mismatch(fmt::format("{}: cannot resume: {} differs from this scenario's; resume with the scenario, seed "
                                 "and train settings it was started with.", file, what));
  };
  const auto damaged = [&](const std::string& what) {
    throw InputError(fmt::format("{}: cannot resume: its {} is damaged or from another faascale version; train again "
                                 "without --resume (in another folder), or resume with the version that wrote it.",
                                 file, what));
  };
  // The network must be the same; PPO's settings may change (fine-tuning with another
  // learning rate, say), and then the run differs from an uninterrupted one.
  const AgentConfig& stored = meta.agent;
  if (stored.kind != agent_.kind || stored.torso != agent_.torso || stored.lstm_hidden != agent_.lstm_hidden ||
      stored.critic_lstm != agent_.critic_lstm || stored.heads != agent_.heads || stored.activation != agent_.activation) {
    mismatch("the agent's network");
  }
  if (env_config_to_json(meta.env) != env_config_to_json(config_.env)) mismatch("the env configuration");
  const Checkpoint c = load_checkpoint(file, net_, optimizer_.get(), {"state", "action_log"});
  nlohmann::json resolved;
  try {
    JsonReader t = JsonReader(meta.record, file, "$", resolved).object("training");
    constexpr std::int64_t kMaxCount = std::int64_t{1} << 53;
    if (static_cast<std::uint64_t>(t.integer("seed", 0, kMaxCount)) != scenario_.seed) mismatch("the seed");
    if (meta.record.at("scenario") != fingerprint_) {
      mismatch("the simulated platform (trace, function or platform) or the held-out trace");
    }
    if (t.integer("num_envs", 1, kMaxCount) != envs_) mismatch("num_envs");
    t.text("scenario");  // the name, which may change
    env_steps_ = t.integer("env_steps", 0, kMaxCount);
    updates_ = t.integer("updates", 0, kMaxCount);
    episodes_ = t.integer("episodes", 0, kMaxCount);
    next_eval_ = t.integer("next_eval", 0, kMaxCount);
    best_eval_steps_ = t.integer("best_eval_steps", -1, env_steps_);
    const nlohmann::json& best = t.raw("best_eval_reward");
    if (!best.is_null() && !(best.is_number() && std::isfinite(best.get<double>()))) {
      t.fail("best_eval_reward", "expected a finite number or null.");
    }
    best_eval_reward_ = best.is_null() ? -INFINITY : best.get<double>();
    if ((best_eval_steps_ >= 0) != best.is_number()) t.fail("best_eval_steps", "disagrees with best_eval_reward.");
    previous_wall_s_ = t.number("wall_s", 0, 1e12);
    const nlohmann::json& curve = t.raw("curve");
    const auto columns = std::count(kCurveHeader, kCurveHeader + std::strlen(kCurveHeader), ',');
    if (!curve.is_array()) t.fail("curve", "expected a list of CSV rows.");
    curve_.clear();
    for (const auto& row : curve) {
      const std::string text = row.is_string() ? row.get<std::string>() : "\n";
      if (text.find('\n') != std::string::npos || std::count(text.begin(), text.end(), ',') != columns) {
        t.fail("curve", fmt::format("a row is not one line of {} CSV fields.", columns + 1));
      }
      curve_.push_back(text);
    }
    if (curve_.size() != static_cast<std::size_t>(updates_)) {
      t.fail("curve", fmt::format("has {} rows for {} updates (one a row).", curve_.size(), updates_));
    }
    if (!rng_.restore(t.text("rng"))) t.fail("rng", "not a random stream state.");
    if (!return_scale_.from_json(t.raw("return_scale"), static_cast<std::size_t>(envs_))) {
      t.fail("return_scale", "not the reward normaliser of this run's envs.");
    }
    t.finish();
    if (env_steps_ % envs_ != 0) t.fail("env_steps", fmt::format("not a multiple of num_envs {}.", envs_));
  } catch (const nlohmann::json::exception& e) {
    damaged(fmt::format("training state ({})", e.what()));
  } catch (const Mismatch&) {
    throw;
  } catch (const InputError& e) {
    damaged(fmt::format("training state ({})", e.what()));
  }
  if (env_steps_ > config_.total_steps) {
    throw InputError(fmt::format("{}: holds env step {}, past train.total_steps {}; set total_steps to at least {} "
                                 "to resume it.", file, env_steps_, config_.total_steps, env_steps_));
  }
  const torch::Tensor& state = c.tensors.at("state");
  if (state.sizes() != state_.sizes() || state.scalar_type() != state_.scalar_type() ||
      !torch::isfinite(state).all().item<bool>()) {
    damaged("recurrent state");
  }
  // Replay every logged action through the fresh environments.
  const torch::Tensor& log_tensor = c.tensors.at("action_log");
  if (log_tensor.dim() != 1 || log_tensor.scalar_type() != torch::kUInt8) damaged("action log");
  const torch::Tensor log = log_tensor.contiguous();
  const auto* a = log.data_ptr<std::uint8_t>();
  const auto count = static_cast<std::size_t>(log.numel());
  if (count != static_cast<std::size_t>(env_steps_)) damaged("action log (its length is not the step count)");
  if (std::any_of(a, a + count, [](std::uint8_t action) { return action >= kActions; })) damaged("action log");
  std::vector<int> actions(static_cast<std::size_t>(envs_));
  for (std::size_t k = 0; k < count; k += actions.size()) {
    for (std::size_t n = 0; n < actions.size(); ++n) actions[n] = a[k + n];
    VecStep step = vec_->step(actions);
    for (std::size_t n = 0; n < actions.size(); ++n) {
      episode_rewards_[n] += step.rewards[n];
      starts_[n] = step.terminated[n] || step.truncated[n];
      if (starts_[n]) episode_rewards_[n] = 0;
    }
    observations_ = std::move(step.observations);
  }
  action_log_.assign(a, a + count);
  state_ = state.clone();
  last_checkpoint_steps_ = resumed_at_ = env_steps_;
  for (auto& group : optimizer_->param_groups()) {
    static_cast<torch::optim::AdamOptions&>(group.options()).lr(agent_.learning_rate);
  }
}

void Trainer::write_curve() const {
  std::string text = kCurveHeader;
  for (const auto& row : curve_) text += row + "\n";
  write_file_atomically(path("learning_curve.csv"), text);
}

nlohmann::json Trainer::run() {
  Rollout rollout;
  double steps_per_s = 0;
  while (env_steps_ < config_.total_steps) {
    finished_rewards_.clear();
    collect(rollout);
    const UpdateStats stats = update(rollout);
    env_steps_ += agent_.rollout_steps;
    ++updates_;
    const double wall = std::chrono::duration<double>(Clock::now() - start_).count();
    steps_per_s = static_cast<double>(env_steps_ - resumed_at_) / wall;
    TrainProgress progress{env_steps_, config_.total_steps, updates_, steps_per_s, std::nan(""),
                           previous_wall_s_ + wall, stats.first_ratio_deviation, std::nullopt};
    if (!finished_rewards_.empty()) {
      double sum = 0;
      for (const double r : finished_rewards_) sum += r;
      progress.mean_episode_reward = sum / static_cast<double>(finished_rewards_.size());
    }
    const bool last = env_steps_ >= config_.total_steps;
    if (env_steps_ >= next_eval_ || last) {
      while (next_eval_ <= env_steps_) next_eval_ += config_.eval_every_steps;
      progress.evaluation = evaluate_agent();
    }
    const double m = std::max(1, stats.minibatches);
    const auto& e = progress.evaluation;
    curve_.push_back(fmt::format(
        "{},{},{:.3f},{:.1f},{},{},{},{},{},{},{},{},{},{}", updates_, env_steps_, progress.wall_s, steps_per_s,
        episodes_, csv_number(progress.mean_episode_reward), csv_number(stats.policy_loss / m),
        csv_number(stats.value_loss / m), csv_number(stats.entropy / m), csv_number(stats.approx_kl / m),
        csv_number(stats.clip_fraction / m), e ? csv_number(e->mean_reward) : "", e ? csv_number(e->latency_p95_s) : "",
        e ? csv_number(e->mean_replicas) : ""));
    if (e) {
      if (e->mean_reward > best_eval_reward_) {
        best_eval_reward_ = e->mean_reward;
        best_eval_steps_ = env_steps_;
        save(path("best.pt"));
      }
      save(path("last.pt"));
      write_curve();
      last_checkpoint_steps_ = env_steps_;
    }
    if (hooks_.on_update) hooks_.on_update(progress);
  }
  // The final evaluation against two baselines on the same held-out requests, each from
  // the same start as the agent: a random policy (uniform over the valid actions) and
  // static counts just below and just above the agent's mean replicas, which bracket
  // "equal replica-seconds" (a static count cannot be fractional).
  const Evaluation final_eval = evaluate_agent();
  const auto baseline = [&](const Actor& actor) {
    return evaluate(eval_scenario_, config_.env, [&](const Observation& o, const ActionMask& valid, bool start) {
      poll_stop();
      return actor(o, valid, start);
    });
  };
  const auto static_run = [&](double replicas) {
    const auto count = std::clamp<std::int64_t>(static_cast<std::int64_t>(replicas), scenario_.platform.min_replicas,
                                                scenario_.platform.max_replicas);
    nlohmann::json j = baseline(static_actor(count)).to_json();
    j["replicas"] = count;
    return j;
  };
  const Evaluation random = baseline(random_actor(scenario_.seed));
  const double wall = std::chrono::duration<double>(Clock::now() - start_).count();
  const std::int64_t trained = env_steps_ - resumed_at_;
  return {{"agent", agent_.kind},
          {"env_steps", env_steps_},
          {"env_steps_this_run", trained},
          {"updates", updates_},
          {"episodes", episodes_},
          {"wall_s", wall},
          {"wall_s_all_runs", previous_wall_s_ + wall},
          {"env_steps_per_s", trained > 0 ? nlohmann::json(static_cast<double>(trained) / wall) : nlohmann::json()},
          {"threads", threads_},
          {"checkpoints",
           {{"last", path("last.pt")},
            {"best", best_eval_steps_ >= 0 ? nlohmann::json(path("best.pt")) : nlohmann::json()},
            {"best_env_steps", best_eval_steps_ >= 0 ? nlohmann::json(best_eval_steps_) : nlohmann::json()}}},
          {"learning_curve", path("learning_curve.csv")},
          {"final_evaluation", final_eval.to_json()},
          {"baselines",
           {{"random", random.to_json()},
            {"static_below", static_run(std::floor(final_eval.mean_replicas))},
            {"static_above", static_run(std::ceil(final_eval.mean_replicas))}}}};
}

}  // namespace

nlohmann::json train(const Scenario& scenario, const TrainConfig& config, bool resume, const TrainHooks& hooks) {
  try {
    Trainer trainer(scenario, config, resume, hooks);
    return trainer.run();
  } catch (const c10::Error& e) {  // out of memory, say: the message without libtorch's stack trace
    throw std::runtime_error(fmt::format("libtorch: {}", e.what_without_backtrace()));
  }
}

}  // namespace faascale::rl
