#include "train/job.h"

#include <ATen/Context.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include <torch/utils.h>

#include "common/atomic_file.h"
#include "common/errors.h"
#include "common/logging.h"
#include "dist/comm.h"
#include "dist/device.h"
#include "eval/curves.h"
#include "eval/evaluate.h"
#include "sweep/sweep.h"
#include "train/checkpoint_store.h"
#include "train/pack_trainer.h"
#include "train/stop_signal.h"
#include "train/trial.h"
#include "trial_folder/trial_folder.h"

namespace dpst::train {

namespace fs = std::filesystem;

namespace {

// The run folder may only be reused when resuming; --overwrite clears it first.
void prepare_run_folder(const fs::path& dir, const JobOptions& options, bool leader) {
  std::error_code ec;
  const bool exists = fs::exists(dir) && !fs::is_empty(dir, ec);
  if (!options.resume && exists) {
    DPST_CHECK(options.overwrite, ConfigError,
               dir.string() << ": run folder exists; continue it with --resume auto, or start over with "
                               "--resume none --overwrite (deletes it)");
    if (leader) {
      fs::remove_all(dir, ec);
      DPST_CHECK(!ec, OutputError, dir.string() << ": cannot delete: " << ec.message());
    }
  }
}

// Metrics on the val split right after a trial finishes (eval.after_training), written
// to <trial>/eval.json; dpst-eval collects them into the ablation tables.
void evaluate_finished_trial(const fs::path& dir, const torch::Device& device, eval::EvalResources* resources) {
  eval::TrialEvalOptions options;
  options.device = device;
  for (const eval::TrialEval& e : eval::evaluate_trial(dir, options, resources)) {
    spdlog::info("trial {}{}: val ordinal depth agreement {:.4f}, depth Pearson {:.4f}, gray SSIM {:.4f} ({})", e.id,
                 e.style_row >= 0 ? ", style " + e.style : std::string(), e.metrics.ordinal_agreement,
                 e.metrics.depth_pearson, e.metrics.ssim_gray, trial_folder::TrialFolder(dir).eval_file().string());
  }
}

struct Groups {
  int size = 1, count = 1, index = 0;
};

Groups rank_groups(const config::Config& config, int world_rank, int world_size) {
  const int64_t per_trial = config.sweep().ranks_per_trial;
  Groups g;
  g.size = per_trial > 0 ? static_cast<int>(per_trial) : world_size;
  g.count = world_size / g.size;
  g.index = world_rank / g.size;
  return g;
}

// This rank's place in the job: its group, device, intra-op threads and communicator.
struct RankSetup {
  Groups groups;
  GroupContext context;  // what train_pack needs; context.comm points into `comm`
  std::unique_ptr<dist::Comm> comm;
};

RankSetup set_up_rank(const config::Config& config, const dist::MpiSession& mpi, const JobOptions& options) {
  RankSetup rank;
  // Rank groups of consecutive world ranks; packs go to groups round robin.
  rank.groups = rank_groups(config, mpi.world_rank(), mpi.world_size());
  GroupContext& ctx = rank.context;
  const std::string& device_setting = config.train().device;
  // Whether this node has a GPU for every rank on it can differ between nodes.
  dist::check_on_every_rank(mpi, "choosing each rank's device", config.train().collective_timeout_s, [&] {
    ctx.device = dist::select_device(device_setting, "train.device", mpi.local_rank(), mpi.local_size());
    ctx.device_text = dist::describe_device(device_setting, "train.device", ctx.device);
  });
  // cuDNN picks the fastest convolution algorithms for the (fixed) batch shapes once.
  if (ctx.device.is_cuda()) at::globalContext().setBenchmarkCuDNN(true);
  const auto threads = config.train().threads;
  ctx.threads = dist::threads_per_rank(threads ? static_cast<int>(*threads) : 0, mpi.local_size());
  torch::set_num_threads(ctx.threads);
  dist::CommOptions comm_options;
  comm_options.timeout_s = config.train().collective_timeout_s;
  rank.comm = dist::make_group_comm(rank.groups.index, ctx.device, comm_options);
  ctx.comm = rank.comm.get();
  logging::set_group(rank.groups.index, rank.comm->rank(), rank.groups.count);
  ctx.world_size = mpi.world_size();
  ctx.num_groups = rank.groups.count;
  ctx.group_index = rank.groups.index;
  ctx.resume = options.resume;
  return rank;
}

// Everything one job's packs share while they run.
struct JobState {
  const config::Config& config;
  const std::vector<sweep::Trial>& trials;
  fs::path run_dir;
  bool is_sweep = false;
  int64_t iterations = 0;
  std::string made_by;  // the sweep summary's header
  const RankSetup& rank;
  eval::EvalResources eval_resources;  // loss nets and val split, loaded once per group
  int64_t finished = 0, failed = 0;    // this group's trials, those of earlier runs included
  bool group_leader() const { return rank.comm->rank() == 0; }
};

// The trials of one pack that still need training. A finished trial is done; in a sweep
// a failed one is too (its FAILED file says why; delete it to retry). A single run is
// retried when started again.
std::vector<TrialSpec> pending_trials(JobState& job, const std::vector<size_t>& pack,
                                      std::vector<const sweep::Trial*>* pending) {
  std::vector<TrialSpec> specs;
  for (size_t t : pack) {
    const sweep::Trial& trial = job.trials[t];
    const fs::path dir = sweep::trial_dir(job.config, trial);
    const TrialStatus status = trial_status(dir, job.iterations);
    if (status == TrialStatus::kFinished || (job.is_sweep && status == TrialStatus::kFailed)) {
      spdlog::info("trial {}: {} earlier, skipped", trial.id, to_string(status));
      ++(status == TrialStatus::kFailed ? job.failed : job.finished);
      // Its summary row may be missing if the job ended right after the trial did.
      if (job.is_sweep && job.group_leader())
        sweep::record_result(job.run_dir, trial, sweep::result_from_folder(dir, status == TrialStatus::kFailed), job.made_by);
      continue;
    }
    specs.push_back(TrialSpec{trial.id, trial.config, dir});
    pending->push_back(&trial);
  }
  return specs;
}

// After a pack: the summary rows, and for each finished trial its loss curves and (with
// eval.after_training) its val metrics.
void report_pack(JobState& job, const std::vector<TrialSpec>& specs, const std::vector<const sweep::Trial*>& trials,
                 const PackResult& result) {
  for (size_t i = 0; i < specs.size(); ++i) {
    const bool failed = result.status[i] == TrialStatus::kFailed;
    ++(failed ? job.failed : job.finished);
    if (!job.group_leader()) continue;
    if (job.is_sweep) {
      sweep::TrialResult r{failed ? "failed" : "finished", result.steps, result.losses[i], result.failure[i]};
      sweep::record_result(job.run_dir, *trials[i], r, job.made_by);
    }
    if (failed) {
      spdlog::error("trial {} failed: {}", specs[i].id, result.failure[i]);
      continue;
    }
    const trial_folder::TrialFolder folder(specs[i].dir);
    spdlog::info("trial {} done: model {}", specs[i].id, folder.model_file().string());
    if (const auto why = eval::write_trial_curves(specs[i].dir)) {
      spdlog::warn("trial {}: loss curves not drawn: {}", specs[i].id, *why);
    } else {
      spdlog::info("trial {}: loss curves {}", specs[i].id, folder.curves_file().string());
    }
    if (job.config.eval().after_training)
      evaluate_finished_trial(specs[i].dir, job.rank.context.device, &job.eval_resources);
  }
}

void print_where_results_are(const JobState& job) {
  spdlog::info("done. {}: {}", job.is_sweep ? "sweep" : "run", job.run_dir.string());
  if (job.is_sweep) {
    spdlog::info("      summary: {}", (job.run_dir / "summary.md").string());
  } else {
    const trial_folder::TrialFolder run(job.run_dir);
    spdlog::info("      model: {}", run.model_file().string());
    spdlog::info("      metrics: {}", run.metrics_file().string());
    spdlog::info("      checkpoints: {}", run.checkpoints().string());
  }
  spdlog::info("      log: {}", (job.run_dir / "dpst.log").string());
}

int train_trials(const config::Config& config, const dist::MpiSession& mpi, const JobOptions& options) {
  const bool leader = mpi.world_rank() == 0;
  const bool is_sweep = config.sweep().method != "none";
  // Every trial is expanded and validated before anything runs.
  const std::vector<sweep::Trial> trials = sweep::expand(config, mpi.world_size(), /*for_run=*/true);
  const fs::path run_dir = config.run().output_dir / config.run().name;

  prepare_run_folder(run_dir, options, leader);
  mpi.barrier("waiting for rank 0 to prepare the run folder", config.train().collective_timeout_s);
  logging::attach_run_log(run_dir);
  if (leader && is_sweep) write_file_atomically(run_dir / "sweep.yaml", config.dump());

  const RankSetup rank = set_up_rank(config, mpi, options);
  const auto packs = sweep::make_packs(trials.size(), static_cast<int>(config.sweep().trials_per_pack));
  spdlog::info("{} trial(s) in {} pack(s) over {} group(s) of {} rank(s)", trials.size(), packs.size(),
               rank.groups.count, rank.groups.size);

  JobState job{config, trials, run_dir, is_sweep, config.train().iterations,
               is_sweep ? sweep::summary_header(config, options.command_line) : std::string(), rank, {}};
  bool stopped = false;
  for (size_t p : sweep::packs_of_group(packs.size(), rank.groups.count, rank.groups.index)) {
    std::vector<const sweep::Trial*> pending;
    const std::vector<TrialSpec> specs = pending_trials(job, packs[p], &pending);
    if (specs.empty()) continue;
    const PackResult result = train_pack(specs, rank.context);
    if (result.outcome == PackOutcome::kStopped) {
      spdlog::warn("stopped by signal {} after a checkpoint; rerun the same command to resume (exit code {})",
                   stop_signal(), static_cast<int>(kExitRequeue));
      stopped = true;
      break;
    }
    report_pack(job, specs, pending, result);
  }
  // The exit code is the whole job's: every rank waits here for the last group (as it
  // would in MPI_Finalize), counting each group's trials once (its rank 0's counts).
  const bool counts = rank.comm->rank() == 0;
  const auto total = mpi.sum({stopped ? 1 : 0, counts ? job.finished : 0, counts ? job.failed : 0},
                             "counting the trials every group finished", std::numeric_limits<double>::infinity());
  if (total[0] > 0) return kExitRequeue;
  if (total[1] == 0 && total[2] > 0) {
    spdlog::error("{}: every trial failed ({} of {}); see {}", is_sweep ? "sweep" : "run", total[2], trials.size(),
                  (is_sweep ? run_dir / "summary.md" : run_dir).string());
    return kExitDiverged;
  }
  if (leader) print_where_results_are(job);
  return kExitOk;
}

}  // namespace

int run_job(const config::Config& config, const dist::MpiSession& mpi, const JobOptions& options) {
  return train_trials(config, mpi, options);
}

std::string list_trials(const config::Config& config, int world_size) {
  const auto trials = sweep::expand(config, world_size, /*for_run=*/false);
  const Groups groups = rank_groups(config, 0, world_size);
  return sweep::trials_table(trials, static_cast<int>(config.sweep().trials_per_pack), groups.count);
}

}  // namespace dpst::train
