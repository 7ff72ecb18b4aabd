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

#include "common/atomic_file.h"
#include "common/errors.h"
#include "common/logging.h"
#include "data/dataset.h"
#include "data/image_tensor.h"
#include "data/loader.h"
#include "data/sampler.h"
#include "dist/grad_reducer.h"
#include "losses/term_names.h"
#include "losses/trial_loss.h"
#include "models/loss_nets.h"
#include "models/provenance_text.h"
#include "train/checkpoint_store.h"
#include "train/mixed_precision.h"
#include "train/phase_timer.h"
#include "train/run_files.h"
#include "train/step_timer.h"
#include "train/stop_signal.h"
#include "train/trial_state.h"

namespace dpst::train {

namespace fs = std::filesystem;
using losses::kNumTerms;
using losses::kTermNames;

namespace {

// A value per loss term, by name (losses::kTermNames).
using TermValues = std::map<std::string, double>;

TermValues zero_terms() {
  TermValues v;
  for (const char* name : kTermNames) v[name] = 0.0;
  return v;
}

// One trial of the pack while it trains.
struct TrialRun {
  const TrialSpec* spec = nullptr;
  models::TransformNet net{nullptr};
  std::unique_ptr<torch::optim::Adam> adam;
  std::unique_ptr<losses::TrialLoss> loss;
  std::unique_ptr<dist::GradientReducer> reducer;
  std::unique_ptr<CheckpointStore> store;
  std::unique_ptr<MetricsLog> metrics;
  bool failed = false;
  std::string failure;
  TermValues last = zero_terms();  // group-mean terms at the last log step
  std::string label() const { return spec->id; }
};

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const auto s = static_cast<long long>(seconds);
  std::ostringstream os;
  if (s >= 3600) os << s / 3600 << "h";
  if (s >= 60) os << (s % 3600) / 60 << "m";
  os << s % 60 << "s";
  return os.str();
}

std::string sci(double v) {
  if (!std::isfinite(v)) return "nan";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4e", v);
  return buf;
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
    out += std::string(name) + " " + sci(values.at(name));
  }
  return out;
}

// What the ranks of a group agree on after each step's forward passes (one all-reduce):
// whether any rank got a stop signal, and per trial which terms were NaN or Inf on any
// rank. A trial with such a term does not step.
struct StepAgreement {
  bool stop = false;
  std::vector<std::vector<std::string>> non_finite_terms;  // per trial of the pack, by term name
};

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
      : trials_(trials), ctx_(ctx), comm_(*ctx.comm), base_(trials.front().config) {}

  PackResult run() {
    set_up_networks();
    set_up_trials();
    resume_or_start();
    set_up_data();
    print_settings();
    return train();
  }

 private:
  const std::vector<TrialSpec>& trials_;
  GroupContext ctx_;
  dist::Comm& comm_;
  const config::Config& base_;
  models::LossNets nets_;
  std::vector<TrialRun> runs_;
  models::TapNames vgg_taps_, depth_taps_;
  std::unique_ptr<data::Loader> loader_;

  // Settings of the pack, read once (set_up_trials).
  int64_t iterations_ = 0, log_every_ = 1, checkpoint_every_ = 1, global_batch_ = 1;
  bool joint_ = false;  // sweep.pack_frozen_pass resolved for this device
  bool bf16_ = false;   // train.precision: forward passes under bf16 autocast
  std::unique_ptr<PhaseTimer> phases_;  // train.phase_timing (disabled: every call returns at once)

  // Where training stands: what a checkpoint saves and a resume restores.
  int64_t step_ = 0, images_seen_ = 0;
  data::Cursor cursor_;  // the sampler position of the next batch
  std::string resumed_from_ = "fresh start";

  bool leader() const { return comm_.rank() == 0; }

  void set_up_networks() {
    bool need_depth = false;
    for (const auto& t : trials_) need_depth = need_depth || t.config.get_float("loss.depth_weight") > 0;
    nets_ = models::load_loss_nets(base_, need_depth);
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
      torch::manual_seed(static_cast<uint64_t>(c.get_int("run.seed")));
      r.net = models::TransformNet(models::TransformNetOptions{c.get_int("model.width"), c.get_int("model.residual_blocks")});
      r.net->to(ctx_.device);
      for (auto& t : state_tensors(*r.net)) {
        torch::NoGradGuard no_grad;
        comm_.broadcast(t, 0);
      }
      // Parameters that cannot change the output are left alone (transform_net.h says why).
      const auto skip = r.net->normalised_away_parameters();
      for (const auto& item : r.net->named_parameters()) {
        if (std::find(skip.begin(), skip.end(), item.key()) != skip.end()) item.value().set_requires_grad(false);
      }
      const std::vector<torch::Tensor> trained = r.net->trained_parameters();
      r.adam = std::make_unique<torch::optim::Adam>(trained, torch::optim::AdamOptions(c.get_float("optim.lr")));
      const auto style = data::load_style_image(c.get_path("loss.style_image"), c.get_int("loss.style_size")).to(ctx_.device);
      r.loss = std::make_unique<losses::TrialLoss>(losses::TrialLoss::from_config(c, nets_.vgg.net, style));
      r.reducer = std::make_unique<dist::GradientReducer>(trained, comm_, c.get_float("train.bucket_mb"),
                                                          "trial " + spec.id);
      r.store = std::make_unique<CheckpointStore>(spec.dir / "checkpoints", static_cast<int>(c.get_int("train.keep_checkpoints")));
      runs_.push_back(std::move(r));
    }
    std::vector<models::TapNames> vgg, depth;
    for (const auto& r : runs_) {
      vgg.push_back(r.loss->vgg_taps());
      depth.push_back(r.loss->depth_taps());
    }
    vgg_taps_ = losses::union_of(vgg);
    depth_taps_ = losses::union_of(depth);
    iterations_ = base_.get_int("train.iterations");
    log_every_ = base_.get_int("train.log_every");
    checkpoint_every_ = base_.get_int("train.checkpoint_every");
    global_batch_ = base_.get_int("train.batch_size") * comm_.size();
    const std::string pass = base_.get_string("sweep.pack_frozen_pass");
    // One trial has nothing to batch; auto batches on GPUs, where a bigger batch fills the
    // device, and not on CPUs, where it measured slower (results/sweep_pack.md).
    joint_ = runs_.size() > 1 && (pass == "joint" || (pass == "auto" && ctx_.device.is_cuda()));
    bf16_ = base_.get_string("train.precision") == "bf16";
    phases_ = std::make_unique<PhaseTimer>(base_.get_bool("train.phase_timing"), ctx_.device);
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
        remove_if_present(r.spec->dir / kFinishedMarker);  // training further than a finished run
        remove_if_present(r.spec->dir / kFailedMarker);    // a retry (e.g. with a lower learning rate)
        create_folder(r.spec->dir);
        write_file_atomically(r.spec->dir / "config.yaml", r.spec->config.dump());
        r.metrics = std::make_unique<MetricsLog>(r.spec->dir, step_);
      }
    }
  }

  void set_up_data() {
    const fs::path path = base_.get_path("data.path");
    const std::string split = base_.get_string("data.train_split");
    const data::Dataset dataset = data::Dataset::open(path, split);
    const int64_t n = dataset.size();
    DPST_CHECK(dataset.image_size() == base_.get_int("data.image_size"), ConfigError,
               path.string() << " holds " << dataset.image_size() << "x" << dataset.image_size()
                             << " images but data.image_size is " << base_.get_int("data.image_size")
                             << "; set data.image_size: " << dataset.image_size() << " or re-run pack_coco --size "
                             << base_.get_int("data.image_size"));
    data::Sampler sampler(n, base_.get_int("train.batch_size"), comm_.size(), comm_.rank(),
                          static_cast<uint64_t>(base_.get_int("run.seed")));
    sampler.restore(cursor_);
    if (sampler.dropped_per_epoch() > 0) {
      spdlog::info("{} of {} images per epoch are left out so every rank takes {} full batches", sampler.dropped_per_epoch(),
                   n, sampler.batches_per_epoch());
    }
    data::LoaderOptions options;
    options.path = path;
    options.split = split;
    options.threads = static_cast<int>(base_.get_int("data.loader_threads"));
    options.prefetch = static_cast<int>(base_.get_int("data.prefetch"));
    // Page-locked batches make the host-to-device copy asynchronous (it overlaps the step).
    options.pin_memory = ctx_.device.is_cuda();
    loader_ = std::make_unique<data::Loader>(options, std::move(sampler));
  }

  static std::string provenance_text(const models::Provenance& p) {
    return p.random_init ? models::random_init_entry(p.variant) : p.describe();
  }

  void print_settings() {
    const int64_t batch = base_.get_int("train.batch_size");
    const auto provenance = provenance_text;
    std::vector<std::pair<std::string, std::string>> rows = {
        {"world size", std::to_string(ctx_.world_size)},
        {"rank groups", std::to_string(ctx_.num_groups) + " x " + std::to_string(comm_.size()) + " ranks"},
        {"this group", std::to_string(ctx_.group_index)},
        {"batch per rank", std::to_string(batch)},
        {"global batch", std::to_string(batch * comm_.size())},
        {"threads per rank", std::to_string(ctx_.threads)},
        {"device", ctx_.device_text},
        {"backend", comm_.backend()},
        {"trials in pack", std::to_string(runs_.size())},
        {"pack frozen pass", runs_.size() > 1 ? (joint_ ? "joint (one batch)" : "per trial") : "-"},
        {"precision", bf16_ ? "bf16 autocast (fp32 weights, Adam and loss terms)" : "fp32"},
        {"iterations", std::to_string(iterations_)},
        {"start", resumed_from_},
        {"dataset", base_.get_path("data.path").string() + " [" + base_.get_string("data.train_split") + "], " +
                        std::to_string(loader_->dataset().size()) + " images"},
        {"VGG16 weights", provenance(nets_.vgg.provenance)},
        {"depth network", nets_.depth.net ? nets_.depth.provenance.variant + " (loss_nets.depth_net)"
                                          : std::string("not used (lambda3 = 0)")},
        {"depth weights", nets_.depth.net ? provenance(nets_.depth.provenance) : std::string("not used (lambda3 = 0)")},
        {"random-init loss nets", nets_.random_init() ? "YES: results are not comparable with pretrained ones" : "no"},
    };
    for (const auto& r : runs_) rows.emplace_back("trial " + r.label(), r.spec->dir.string());
    size_t width = 0;
    for (const auto& [k, v] : rows) width = std::max(width, k.size());
    spdlog::info("effective settings:");
    for (const auto& [k, v] : rows) spdlog::info("  {}{}  {}", k, std::string(width - k.size(), ' '), v);
    if (nets_.random_init()) spdlog::warn("a loss network runs on random weights: this run is a smoke test, not a result");
  }

  // Marks trial i failed on every rank (the flags were agreed), writes FAILED.
  void fail_trial(TrialRun& r, const std::string& message) {
    r.failed = true;
    r.failure = message;
    spdlog::error("{}", message);
    if (leader()) write_file_atomically(r.spec->dir / kFailedMarker, message + "\n");
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
        const std::string progress = progress_text(r, "checkpointed");
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

  std::string progress_text(const TrialRun& r, const std::string& status) const {
    std::ostringstream os;
    os << "trial: " << r.label() << "\nstatus: " << status << "\nstep: " << step_ << "\niterations: " << iterations_
       << "\nepoch: " << cursor_.epoch << "\nbatch_in_epoch: " << cursor_.batch
       << "\nimages_seen: " << images_seen_;
    for (const char* name : kTermNames) os << "\n" << name << ": " << sci(r.last.at(name));
    os << "\n";
    return os.str();
  }

  // The frozen networks' taps of y (call under the step's autocast scope).
  void frozen_taps(const torch::Tensor& y, models::Taps* vgg_out, models::Taps* depth_out) {
    *vgg_out = nets_.vgg.net->forward_taps(y, vgg_taps_);
    if (!depth_taps_.empty()) *depth_out = nets_.depth.net->forward_taps(y, depth_taps_);
  }

  // Targets of x for the whole pack, once per step, without grad.
  losses::Targets targets_of(const torch::Tensor& x) {
    AutocastScope autocast(ctx_.device, bf16_);
    return losses::compute_targets(nets_.vgg.net, nets_.depth.net ? &nets_.depth.net : nullptr, x, vgg_taps_,
                                   depth_taps_);
  }

  std::vector<int> active_trials() const {
    std::vector<int> active;
    for (int m = 0; m < static_cast<int>(runs_.size()); ++m)
      if (!runs_[m].failed) active.push_back(m);
    return active;
  }

  // Per-trial forward: f_W and the frozen nets on this trial's output alone.
  losses::LossTerms trial_forward(TrialRun& r, const torch::Tensor& x, const losses::Targets& targets) {
    torch::Tensor y;
    models::Taps vgg_out, depth_out;
    {
      AutocastScope autocast(ctx_.device, bf16_);
      y = r.net->forward(x);
      phases_->mark("f_w_forward");
      frozen_taps(y, &vgg_out, &depth_out);
    }
    losses::LossTerms terms = (*r.loss)(y, vgg_out, depth_out, targets);
    phases_->mark("loss_forward");
    return terms;
  }

  // Joint forward: the active trials' outputs through the frozen nets as one batch; each
  // trial's terms on its slice.
  void joint_forward(const torch::Tensor& x, const losses::Targets& targets, const std::vector<int>& active,
                     std::vector<losses::LossTerms>& terms) {
    const int64_t batch = x.size(0);
    std::vector<torch::Tensor> outputs;
    models::Taps vgg_out, depth_out;
    {
      AutocastScope autocast(ctx_.device, bf16_);
      for (int m : active) outputs.push_back(runs_[m].net->forward(x));
      phases_->mark("f_w_forward");
      frozen_taps(torch::cat(outputs, 0), &vgg_out, &depth_out);
    }
    for (size_t i = 0; i < active.size(); ++i) {
      const int64_t begin = static_cast<int64_t>(i) * batch;
      terms[active[i]] = (*runs_[active[i]].loss)(outputs[i], models::slice_taps(vgg_out, begin, batch),
                                                  models::slice_taps(depth_out, begin, batch), targets);
    }
    phases_->mark("loss_forward");
  }

  // The one backward of the trainer: over the summed totals of `trials`, each trial's
  // gradients averaged over the group bucket by bucket while backward runs. Per-trial
  // packs call it for each trial right after its forward (one graph alive at a time; a
  // non-finite loss still runs it, so every rank runs the same collectives, and the
  // agreement keeps that trial from stepping); joint packs call it once, after the
  // agreement, for the trials that step. Returns the exposed communication in ms.
  double backward(const std::vector<int>& trials, const std::vector<losses::LossTerms>& terms) {
    torch::Tensor total;
    for (int m : trials) total = total.defined() ? total + terms[m].total : terms[m].total;
    for (int m : trials) runs_[m].reducer->begin_backward();
    total.backward();
    double comm_ms = 0;
    for (int m : trials) {
      runs_[m].reducer->finish_backward();
      comm_ms += runs_[m].reducer->exposed_ms();
    }
    phases_->mark("backward");
    return comm_ms;
  }

  StepAgreement agree_on_step(const std::vector<losses::LossTerms>& terms, const std::vector<int>& active) {
    // A row of flags per trial (a column per term, kTermNames' order), and a last row
    // whose first column is the stop flag; the group mean is > 0 where any rank set one.
    const int k = static_cast<int>(runs_.size());
    auto flags = torch::zeros({k + 1, kNumTerms}, torch::TensorOptions().dtype(torch::kFloat).device(ctx_.device));
    if (stop_requested()) flags[k][0] = 1.0f;
    for (int m : active) {
      for (int j = 0; j < kNumTerms; ++j) {
        const torch::Tensor& term = terms[m][kTermNames[j]];
        if (term.defined()) flags[m][j] = torch::logical_not(torch::isfinite(term)).to(torch::kFloat);
      }
    }
    comm_.allreduce_mean(flags);
    const torch::Tensor host = flags.cpu();
    const auto f = host.accessor<float, 2>();
    StepAgreement agreed;
    agreed.stop = f[k][0] > 0;
    agreed.non_finite_terms.resize(k);
    for (int m : active)
      for (int j = 0; j < kNumTerms; ++j)
        if (f[m][j] > 0) agreed.non_finite_terms[m].push_back(kTermNames[j]);
    return agreed;
  }

  // Fails the trials with a non-finite term (their last checkpoint is kept) and returns
  // the ones that step.
  std::vector<int> fail_non_finite(const std::vector<int>& active, const StepAgreement& agreed) {
    std::vector<int> stepping;
    for (int m : active) {
      const auto& bad = agreed.non_finite_terms[m];
      if (bad.empty()) {
        stepping.push_back(m);
        continue;
      }
      std::string names;
      for (const auto& name : bad) names += (names.empty() ? "" : ", ") + name;
      fail_trial(runs_[m], "trial " + runs_[m].label() + ": loss is NaN or Inf at step " + std::to_string(step_ + 1) +
                               " in term(s): " + names + "; the trial is stopped (its last checkpoint is kept). "
                               "Lower optim.lr or the loss weights.");
    }
    return stepping;
  }

  PackResult train() {
    StepTimer timer(step_);
    bool stop = false;
    while (step_ < iterations_) {
      timer.start_step();
      phases_->begin_step();
      // 1. The batch (prefetched by the loader's threads).
      const double waited_before = loader_->wait_ms();
      data::Batch b = loader_->next();
      timer.add_loader_wait_ms(loader_->wait_ms() - waited_before);
      const torch::Tensor x = b.images.to(ctx_.device, /*non_blocking=*/true);
      phases_->mark("batch");

      // 2. Targets from x, once for the whole pack, without grad.
      const losses::Targets targets = targets_of(x);
      phases_->mark("targets");

      // 3. Every active trial's loss terms. Joint: the pack's outputs go through the frozen
      //    nets as one batch. Per trial: each trial's forward, then its backward (with its
      //    gradient all-reduce), so only one trial's graph is alive at a time.
      const std::vector<int> active = active_trials();
      std::vector<losses::LossTerms> terms(runs_.size());
      if (joint_) {
        joint_forward(x, targets, active, terms);
      } else {
        for (int m : active) {
          terms[m] = trial_forward(runs_[m], x, targets);
          timer.add_comm_ms(backward({m}, terms));
        }
      }

      // 4. One agreement per step: stop signal and non-finite terms, from any rank.
      const auto agreement_start = StepTimer::Clock::now();
      const StepAgreement agreed = agree_on_step(terms, active);
      timer.add_comm_ms(StepTimer::ms_since(agreement_start));
      phases_->mark("agreement");
      stop = agreed.stop;

      // 5. Trials with a non-finite term fail; the rest of the pack goes on.
      const std::vector<int> stepping = fail_non_finite(active, agreed);
      if (stepping.empty()) break;

      // 6. Joint: one backward over the stepping trials' summed losses. Then each
      //    stepping trial's Adam step.
      if (joint_) timer.add_comm_ms(backward(stepping, terms));
      for (int m : stepping) {
        runs_[m].adam->step();
        runs_[m].adam->zero_grad();
      }
      phases_->mark("optimizer");
      phases_->end_step();
      ++step_;
      images_seen_ += global_batch_;
      cursor_ = b.next_cursor;
      timer.end_step();

      // 7. Progress, metrics, checkpoints.
      if (step_ % log_every_ == 0 || step_ == iterations_ || stop) {
        log_progress(terms, stepping, timer.window(step_, iterations_));
        timer.start_window();
      }
      if (step_ % checkpoint_every_ == 0 || step_ == iterations_ || stop) {
        checkpoint(stop ? "stop signal" : (step_ == iterations_ ? "final" : "periodic"));
      }
      if (stop) break;
    }
    return pack_result(stop);
  }

  PackResult pack_result(bool stopped) {
    PackResult result;
    result.outcome = stopped && step_ < iterations_ ? PackOutcome::kStopped : PackOutcome::kFinished;
    result.steps = step_;
    for (auto& r : runs_) {
      result.losses.push_back(r.last);
      if (!r.failed && result.outcome == PackOutcome::kFinished) finish_trial(r);
      result.status.push_back(r.failed ? TrialStatus::kFailed
                                       : (result.outcome == PackOutcome::kFinished ? TrialStatus::kFinished
                                                                                  : TrialStatus::kInProgress));
      result.failure.push_back(r.failure);
    }
    return result;
  }

  void log_progress(const std::vector<losses::LossTerms>& terms, const std::vector<int>& stepping,
                    const StepTimer::Window& window) {
    const int k = static_cast<int>(runs_.size());
    // Group means of every term, for the log and the metrics: a row per trial.
    auto values = torch::full({k, kNumTerms}, std::nan(""), torch::kDouble);
    for (int m : stepping) {
      const auto v = terms[m].values();
      for (int j = 0; j < kNumTerms; ++j) values[m][j] = v.at(kTermNames[j]);
    }
    if (comm_.size() > 1) {
      auto on_device = values.to(ctx_.device);
      comm_.allreduce_mean(on_device);
      values = on_device.cpu();
    }
    const auto mean = values.accessor<double, 2>();
    const double images_per_s = static_cast<double>(window.steps * global_batch_) / std::max(window.seconds, 1e-9);
    const auto phase_fields = phases_->window_fields();
    for (int m : stepping) {
      TrialRun& r = runs_[m];
      for (int j = 0; j < kNumTerms; ++j) r.last[kTermNames[j]] = mean[m][j];
      spdlog::info("{}step {}/{} | {} | {:.1f} img/s | ETA {}", k > 1 ? "[" + r.label() + "] " : std::string(), step_,
                   iterations_, terms_text(r.last), images_per_s, format_duration(window.eta_seconds));
      if (!leader()) continue;
      write_file_atomically(r.spec->dir / "progress.yml", progress_text(r, "training"));
      // A stop signal between two log_every steps prints the line above but adds no
      // record: a requeued run's metrics.jsonl then holds exactly a straight run's steps.
      if (step_ % log_every_ != 0 && step_ != iterations_) continue;
      std::vector<std::pair<std::string, double>> fields;
      for (const char* name : kTermNames) fields.emplace_back(name, r.last.at(name));
      // optim.lr is per trial (each trial's Adam has its own); the pack-wide keys are not.
      fields.insert(fields.end(), {{"lr", r.spec->config.get_float("optim.lr")},
                                   {"images_per_s", images_per_s},
                                   {"images_per_s_per_rank", images_per_s / comm_.size()},
                                   {"step_ms", window.step_ms},
                                   {"loader_wait_ms", window.loader_wait_ms},
                                   {"comm_exposed_ms", window.comm_exposed_ms}});
      fields.insert(fields.end(), phase_fields.begin(), phase_fields.end());
      r.metrics->append(step_, fields);
    }
  }

  void finish_trial(TrialRun& r) {
    if (!leader()) return;
    models::export_transform_net(*r.net, r.spec->dir / "model.h5", "dpst-dist trial " + r.label());
    write_file_atomically(r.spec->dir / "progress.yml", progress_text(r, "finished"));
    write_file_atomically(r.spec->dir / kFinishedMarker, progress_text(r, "finished"));
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
