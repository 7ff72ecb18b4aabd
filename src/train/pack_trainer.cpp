#include "train/pack_trainer.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <torch/optim/adam.h>

#include "common/errors.h"
#include "common/text.h"
#include "common/logging.h"
#include "data/dataset.h"
#include "data/image_tensor.h"
#include "data/loader.h"
#include "data/sampler.h"
#include "losses/term_names.h"
#include "losses/trial_loss.h"
#include "models/loss_nets.h"
#include "train/checkpoint_store.h"
#include "train/pack_step.h"
#include "train/phase_timer.h"
#include "train/settings_table.h"
#include "train/step_timer.h"
#include "train/trial_net.h"
#include "train/trial_state.h"

namespace dpst::train {

namespace fs = std::filesystem;
using losses::kNumTerms;
using losses::kTermNames;

namespace {

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const auto s = static_cast<long long>(seconds);
  std::ostringstream os;
  if (s >= 3600) os << s / 3600 << "h";
  if (s >= 60) os << (s % 3600) / 60 << "m";
  os << s % 60 << "s";
  return os.str();
}

std::vector<torch::Tensor> state_tensors(torch::nn::Module& net) {
  std::vector<torch::Tensor> out;
  for (const auto& p : net.parameters()) out.push_back(p);
  for (const auto& b : net.buffers()) out.push_back(b);
  return out;
}

// True on every rank iff all ranks of the group hold bit-identical weights.
bool weights_identical(dist::Comm& comm, torch::nn::Module& net, uint64_t* checksum_out) {
  return dist::identical_on_all_ranks(comm, state_tensors(net), checksum_out, "weights");
}

// "content 1.2e+00 style … tv … | total …": the terms of a progress line, in kTermNames' order.
std::string terms_text(const TermValues& values) {
  std::string out;
  for (const char* name : kTermNames) {
    if (!out.empty()) out += std::string(name) == "total" ? " | " : " ";
    out += std::string(name) + " " + loss_text(values.at(name));
  }
  return out;
}

// " | styles candy 1.2e-03 wave 3.4e-03": a multi-style trial's style term per style.
std::string per_style_text(const TrialRun& r) {
  if (!r.multi_style()) return "";
  std::string out = " | styles";
  for (size_t s = static_cast<size_t>(r.first_trained_style); s < r.style_names.size(); ++s)
    out += " " + r.style_names[s] + " " + loss_text(r.last.at(losses::per_style_term(r.style_names[s])));
  return out;
}

// The newest checkpoint step that every trial of the pack has complete.
std::optional<int64_t> common_checkpoint_step(const std::vector<TrialRun>& runs) {
  std::optional<std::set<int64_t>> common;
  bool any = false;
  for (const auto& r : runs) {
    std::set<int64_t> steps;
    for (const auto& c : r.store->complete()) steps.insert(CheckpointStore::step_of(c));
    any = any || !steps.empty();
    if (!common) {
      common = steps;
    } else {
      std::set<int64_t> both;
      for (int64_t s : steps) {
        if (common->count(s)) both.insert(s);
      }
      common = both;
    }
  }
  if (!any) return std::nullopt;
  DPST_CHECK(common && !common->empty(), InputError,
             "the trials of this pack have no checkpoint step in common (" << runs.front().spec->dir.parent_path().string()
                                                                          << "); delete their checkpoints folders to "
                                                                             "restart the pack");
  return *common->rbegin();
}

class PackTrainer {
 public:
  PackTrainer(const std::vector<TrialSpec>& trials, const GroupContext& ctx)
      : trials_(trials), ctx_(ctx), comm_(*ctx.comm), base_(trials.front().config),
        iterations_(base_.train().iterations), log_every_(base_.train().log_every),
        checkpoint_every_(base_.train().checkpoint_every), global_batch_(base_.train().batch_size * comm_.size()),
        phases_(base_.train().phase_timing, ctx.device) {}

  PackResult run() {
    set_up_networks();
    set_up_trials();
    resume_or_start();
    set_up_data();
    print_settings({&base_, &ctx_, &comm_, &runs_, &nets_, step_settings_.joint, step_settings_.bf16, resumed_from_,
                    loader_->dataset().size()});
    return train();
  }

 private:
  const std::vector<TrialSpec>& trials_;
  GroupContext ctx_;
  dist::Comm& comm_;
  const config::Config& base_;  // the pack-wide keys (sweep::expand keeps them equal across the pack)
  const int64_t iterations_, log_every_, checkpoint_every_, global_batch_;
  PhaseTimer phases_;  // train.phase_timing (disabled: every call returns at once)
  models::LossNets nets_;
  std::vector<TrialRun> runs_;
  PackStepSettings step_settings_;
  std::unique_ptr<data::Loader> loader_;

  // Where training stands: what a checkpoint saves and a resume restores.
  int64_t step_ = 0, images_seen_ = 0;
  data::Cursor cursor_;  // the sampler position of the next batch
  std::string resumed_from_ = "fresh start";

  bool leader() const { return comm_.rank() == 0; }
  // Progress lines and metrics records at every log_every-th step and the last one.
  bool at_log_step() const { return step_ % log_every_ == 0 || step_ == iterations_; }
  bool at_checkpoint_step() const { return step_ % checkpoint_every_ == 0 || step_ == iterations_; }

  void set_up_networks() {
    bool need_depth = false;
    for (const auto& t : trials_) need_depth = need_depth || t.config.loss().depth_weight > 0;
    nets_ = models::load_loss_nets(base_.loss_nets(), need_depth);
    nets_.vgg.net->to(ctx_.device);
    if (nets_.depth.net) nets_.depth.net->to(ctx_.device);
  }

  void set_up_trials() {
    for (const auto& spec : trials_) {
      TrialRun r;
      r.spec = &spec;
      const auto& c = spec.config;
      // Seeded on every rank, then rank 0's weights are broadcast: identical starts even if
      // a platform's RNG differed.
      torch::manual_seed(static_cast<uint64_t>(c.run().seed));
      TrialNet built = make_trial_net(c);
      built.net->to(ctx_.device);
      for (auto& t : state_tensors(*built.net)) {
        torch::NoGradGuard no_grad;
        comm_.broadcast(t, 0);
      }
      const std::vector<torch::Tensor> trained = freeze_untrained(built, !c.model().extend_from.empty());
      r.net = built.net;
      r.style_names = built.style_names;
      r.first_trained_style = built.first_trained_style;
      r.adam = std::make_unique<torch::optim::Adam>(trained, torch::optim::AdamOptions(c.optim().lr));
      std::vector<torch::Tensor> styles;
      for (const auto& image : c.loss().style_images)
        styles.push_back(data::load_style_image(image, c.loss().style_size).to(ctx_.device));
      r.loss = std::make_unique<losses::TrialLoss>(losses::TrialLoss::from_config(c.loss(), nets_.vgg.net, styles));
      if (r.multi_style()) {
        const auto sums = torch::TensorOptions().dtype(torch::kDouble).device(ctx_.device);
        r.style_sum = torch::zeros({r.loss->styles()}, sums);
        r.style_images = torch::zeros({r.loss->styles()}, sums);
      }
      r.reducer = std::make_unique<dist::GradientReducer>(trained, comm_, c.train().bucket_mb, "trial " + spec.id);
      r.store = std::make_unique<CheckpointStore>(r.folder().checkpoints(), static_cast<int>(c.train().keep_checkpoints));
      for (const auto& name : reported_terms(r)) r.last[name] = 0.0;
      runs_.push_back(std::move(r));
    }
    const std::string& pass = base_.sweep().pack_frozen_pass;
    step_settings_.device = ctx_.device;
    // One trial has nothing to batch; auto batches on GPUs, where a bigger batch fills the
    // device, and not on CPUs, where it measured slower (results/sweep_pack.md).
    step_settings_.joint = runs_.size() > 1 && (pass == "joint" || (pass == "auto" && ctx_.device.is_cuda()));
    step_settings_.bf16 = base_.train().precision == "bf16";
    step_settings_.leader = leader();
    step_settings_.global_batch = global_batch_;
    step_settings_.first_image = comm_.rank() * base_.train().batch_size;
  }

  void resume_or_start() {
    const auto step = ctx_.resume ? common_checkpoint_step(runs_) : std::nullopt;
    if (step) {
      for (auto& r : runs_) {
        const fs::path folder = r.store->dir() / CheckpointStore::folder_name(*step);
        const TrialState s = read_trial_state(folder, *r.net, *r.adam);
        step_ = s.step;
        cursor_ = s.cursor;
        images_seen_ = s.images_seen;
      }
      resumed_from_ = "step " + std::to_string(*step) + " (" + (runs_.size() == 1 ? runs_.front().store->dir().string()
                                                                                  : std::string("each trial's checkpoints")) + ")";
    }
    for (auto& r : runs_) {
      uint64_t sum = 0;
      DPST_CHECK(weights_identical(comm_, *r.net, &sum), DistributedError,
                 "trial " << r.label() << ": ranks of the group hold different f_W weights after "
                          << (step ? "loading the checkpoint" : "initialisation"));
      if (leader()) {
        r.folder().begin(r.spec->config.dump());
        r.metrics = std::make_unique<trial_folder::MetricsLog>(r.folder(), step_);
      }
    }
  }

  void set_up_data() {
    const config::DataConfig& d = base_.data();
    const data::Dataset dataset = data::Dataset::open(d.path, d.train_split);
    const int64_t n = dataset.size();
    DPST_CHECK(dataset.image_size() == d.image_size, ConfigError,
               d.path.string() << " holds " << dataset.image_size() << "x" << dataset.image_size()
                               << " images but data.image_size is " << d.image_size << "; set data.image_size: "
                               << dataset.image_size() << " or re-run pack_coco --size " << d.image_size);
    data::Sampler sampler(n, base_.train().batch_size, comm_.size(), comm_.rank(), static_cast<uint64_t>(base_.run().seed));
    sampler.restore(cursor_);
    if (sampler.dropped_per_epoch() > 0) {
      spdlog::info("{} of {} images per epoch are left out so every rank takes {} full batches", sampler.dropped_per_epoch(),
                   n, sampler.batches_per_epoch());
    }
    data::LoaderOptions options;
    options.path = d.path;
    options.split = d.train_split;
    options.threads = static_cast<int>(d.loader_threads);
    options.prefetch = static_cast<int>(d.prefetch);
    // Page-locked batches make the host-to-device copy asynchronous (it overlaps the step).
    options.pin_memory = ctx_.device.is_cuda();
    loader_ = std::make_unique<data::Loader>(options, std::move(sampler));
  }

  // The training loop: a batch, one step of the pack (pack_step.h), then progress,
  // metrics and checkpoints at their cadence, until train.iterations or a stop signal.
  PackResult train() {
    PackStep pack_step(runs_, nets_, comm_, phases_, step_settings_);
    StepTimer timer(step_);
    bool stop = false;
    while (step_ < iterations_) {
      timer.start_step();
      phases_.begin_step();
      // The batch, prefetched by the loader's threads.
      const double waited_before = loader_->wait_ms();
      data::Batch b = loader_->next();
      timer.add_loader_wait_ms(loader_->wait_ms() - waited_before);
      const torch::Tensor x = b.images.to(ctx_.device, /*non_blocking=*/true);
      phases_.mark("batch");

      const StepOutcome outcome = pack_step.run(x, step_ + 1);
      timer.add_comm_ms(outcome.comm_exposed_ms);
      stop = outcome.stop;
      if (outcome.stepped.empty()) break;  // every trial of the pack has failed
      phases_.end_step();
      ++step_;
      images_seen_ += global_batch_;
      cursor_ = b.next_cursor;
      timer.end_step();

      if (at_log_step() || stop) {
        log_progress(outcome, timer.window(step_, iterations_));
        timer.start_window();
      }
      if (at_checkpoint_step() || stop) checkpoint(stop ? "stop signal" : (step_ == iterations_ ? "final" : "periodic"));
      if (stop) break;
    }
    return pack_result(stop);
  }

  trial_folder::Progress progress_of(const TrialRun& r, const std::string& status) const {
    trial_folder::Progress p{r.label(), status, step_, iterations_, cursor_.epoch, cursor_.batch, images_seen_, {}};
    for (const auto& name : reported_terms(r)) p.terms.emplace_back(name, r.last.at(name));
    return p;
  }

  // The trained styles of a multi-style trial, in row order.
  static std::vector<std::string> trained_styles(const TrialRun& r) {
    if (!r.multi_style()) return {};
    return {r.style_names.begin() + r.first_trained_style, r.style_names.end()};
  }
  // kTermNames, then a multi-style trial's style term per trained style.
  static std::vector<std::string> reported_terms(const TrialRun& r) {
    std::vector<std::string> names(kTermNames.begin(), kTermNames.end());
    for (const auto& style : trained_styles(r)) names.push_back(losses::per_style_term(style));
    return names;
  }

  // A multi-style trial's style term per trained style over the images of the log window
  // (group means), then the window starts again. NaN for a style no image of the window had.
  void take_per_style_terms(TrialRun& r, bool reset) {
    if (!r.multi_style()) return;
    auto both = torch::cat({r.style_sum, r.style_images});
    if (comm_.size() > 1) comm_.allreduce_mean(both);  // the ratio of two means is the ratio of the sums
    const torch::Tensor host = both.cpu();
    const int64_t n = r.loss->styles();
    const auto v = host.accessor<double, 1>();
    const auto styles = trained_styles(r);
    for (int64_t s = 0; s < n; ++s)
      r.last[losses::per_style_term(styles[static_cast<size_t>(s)])] = v[n + s] > 0 ? v[s] / v[n + s] : std::nan("");
    if (reset) {
      r.style_sum.zero_();
      r.style_images.zero_();
    }
  }

  void log_progress(const StepOutcome& outcome, const StepTimer::Window& window) {
    const int k = static_cast<int>(runs_.size());
    // Group means of every term, for the log and the metrics: a row per trial.
    auto values = torch::full({k, kNumTerms}, std::nan(""), torch::kDouble);
    for (int m : outcome.stepped) {
      const auto v = outcome.terms[m].values();
      for (int j = 0; j < kNumTerms; ++j) values[m][j] = v.at(kTermNames[j]);
    }
    if (comm_.size() > 1) {
      auto on_device = values.to(ctx_.device);
      comm_.allreduce_mean(on_device);
      values = on_device.cpu();
    }
    const auto mean = values.accessor<double, 2>();
    const double images_per_s = static_cast<double>(window.steps * global_batch_) / std::max(window.seconds, 1e-9);
    const auto phase_fields = phases_.window_fields();
    for (int m : outcome.stepped) {
      TrialRun& r = runs_[m];
      for (int j = 0; j < kNumTerms; ++j) r.last[kTermNames[j]] = mean[m][j];
      // A stop between log steps prints a line but keeps the window, as it adds no record.
      take_per_style_terms(r, /*reset=*/at_log_step());
      spdlog::info("{}step {}/{} | {}{} | {:.1f} img/s | ETA {}", k > 1 ? "[" + r.label() + "] " : std::string(), step_,
                   iterations_, terms_text(r.last), per_style_text(r), images_per_s, format_duration(window.eta_seconds));
      if (!leader()) continue;
      r.folder().write_progress(progress_of(r, "training"));
      // A stop signal between two log steps prints the line above but adds no record: a
      // requeued run's metrics.jsonl then holds exactly a straight run's steps.
      if (!at_log_step()) continue;
      std::vector<std::pair<std::string, double>> fields;
      for (const auto& name : reported_terms(r)) fields.emplace_back(name, r.last.at(name));
      // optim.lr is per trial (each trial's Adam has its own); the pack-wide keys are not.
      fields.insert(fields.end(), {{"lr", r.spec->config.optim().lr},
                                   {"images_per_s", images_per_s},
                                   {"images_per_s_per_rank", images_per_s / comm_.size()},
                                   {"step_ms", window.step_ms},
                                   {"loader_wait_ms", window.loader_wait_ms},
                                   {"comm_exposed_ms", window.comm_exposed_ms}});
      fields.insert(fields.end(), phase_fields.begin(), phase_fields.end());
      r.metrics->append(step_, fields);
    }
  }

  void checkpoint(const std::string& why) {
    int64_t failed_write = 0;
    std::string error;
    for (auto& r : runs_) {
      if (r.failed) continue;
      uint64_t sum = 0;
      DPST_CHECK(weights_identical(comm_, *r.net, &sum), DistributedError,
                 "trial " << r.label() << ": ranks of the group hold different f_W weights at step " << step_);
      if (!leader()) continue;
      try {
        const std::string progress = progress_of(r, "checkpointed").to_yaml();
        const TrialState state{step_, cursor_, images_seen_};
        const auto folder = r.store->save(step_, [&](const fs::path& tmp) {
          write_trial_state(tmp, *r.net, *r.adam, state, r.spec->config.dump(), progress);
        });
        spdlog::info("trial {}: checkpoint {} ({}; weights identical on {} rank(s), checksum {:016x})", r.label(),
                     folder.string(), why, comm_.size(), sum);
      } catch (const OutputError& e) {
        failed_write = 1;
        error = e.what();
      }
    }
    // Every rank learns whether rank 0's write failed, so none waits in a collective alone.
    if (comm_.allreduce_max(failed_write, "checkpoint outcome") != 0) {
      DPST_THROW(OutputError, (leader() ? error : std::string("group rank 0 could not write a checkpoint")));
    }
  }

  PackResult pack_result(bool stopped) {
    PackResult result;
    result.outcome = stopped && step_ < iterations_ ? PackOutcome::kStopped : PackOutcome::kFinished;
    result.steps = step_;
    for (auto& r : runs_) {
      result.losses.push_back(r.last);
      if (!r.failed && result.outcome == PackOutcome::kFinished && leader()) {
        models::export_transform_net(*r.net, r.folder().model_file(), "dpst-dist trial " + r.label(), r.style_names);
        r.folder().mark_finished(progress_of(r, "finished"));
      }
      result.status.push_back(r.failed ? TrialStatus::kFailed
                                       : (result.outcome == PackOutcome::kFinished ? TrialStatus::kFinished
                                                                                  : TrialStatus::kInProgress));
      result.failure.push_back(r.failure);
    }
    return result;
  }
};

}  // namespace

PackResult train_pack(const std::vector<TrialSpec>& trials, const GroupContext& context) {
  DPST_CHECK(!trials.empty(), InternalError, "train_pack: no trials");
  DPST_CHECK(context.comm != nullptr, InternalError, "train_pack: no communicator");
  PackTrainer trainer(trials, context);
  return trainer.run();
}

}  // namespace dpst::train
