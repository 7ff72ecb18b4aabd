#include "train/job.h"

#include <ATen/Context.h>

#include <mpi.h>
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <fstream>
#include <torch/utils.h>

#include "common/errors.h"
#include "common/logging.h"
#include "dist/comm.h"
#include "dist/device.h"
#include "train/pack_trainer.h"
#include "train/stop_signal.h"
#include "eval/curves.h"
#include "eval/evaluate.h"
#include "sweep/sweep.h"
#include "train/checkpoint_store.h"
#include "train/trial.h"

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

// A trial's summary row from what its folder holds (FINISHED repeats the final progress:
// step and each loss term; FAILED holds the error), for trials finished by an earlier run.
sweep::TrialResult result_from_folder(const fs::path& dir, TrialStatus status) {
  sweep::TrialResult r;
  r.status = status == TrialStatus::kFailed ? "failed" : "finished";
  try {
    const YAML::Node progress = YAML::LoadFile((dir / (status == TrialStatus::kFailed ? "progress.yml" : kFinishedMarker)).string());
    if (progress["step"]) r.steps = progress["step"].as<int64_t>();
    for (const auto& name : sweep::summary_loss_columns()) {
      if (progress[name]) r.losses[name] = progress[name].Scalar() == "nan" ? std::nan("") : progress[name].as<double>();
    }
  } catch (const YAML::Exception&) {
    // A hand-written marker or no progress file yet: the row still says the status.
  }
  if (status == TrialStatus::kFailed) {
    std::ifstream in(dir / kFailedMarker);
    std::getline(in, r.note);
  }
  return r;
}

// Metrics on the val split right after a trial finishes (eval.after_training), written
// to <trial>/eval.json; dpst-eval collects them into the ablation tables.
void evaluate_finished_trial(const fs::path& dir, const torch::Device& device, eval::EvalResources* resources) {
  eval::TrialEvalOptions options;
  options.device = device;
  const eval::TrialEval e = eval::evaluate_trial(dir, options, resources);
  spdlog::info("trial {}: val ordinal depth agreement {:.4f}, depth Pearson {:.4f}, gray SSIM {:.4f} ({})",
               e.id, e.metrics.ordinal_agreement, e.metrics.depth_pearson, e.metrics.ssim_gray,
               (dir / "eval.json").string());
}

struct Groups {
  int size = 1, count = 1, index = 0;
};

Groups rank_groups(const config::Config& config, int world_rank, int world_size) {
  const int64_t per_trial = config.get_int("sweep.ranks_per_trial");
  Groups g;
  g.size = per_trial > 0 ? static_cast<int>(per_trial) : world_size;
  g.count = world_size / g.size;
  g.index = world_rank / g.size;
  return g;
}

int train_trials(const config::Config& config, const dist::MpiSession& mpi, const JobOptions& options) {
  const bool leader = mpi.world_rank() == 0;
  const bool is_sweep = config.get_string("sweep.method") != "none";
  // Every trial is expanded and validated before anything runs.
  const std::vector<sweep::Trial> trials = sweep::expand(config, mpi.world_size(), /*for_run=*/true);
  const fs::path run_dir = config.get_path("run.output_dir") / config.get_string("run.name");

  prepare_run_folder(run_dir, options, leader);
  MPI_Barrier(MPI_COMM_WORLD);
  logging::attach_run_log(run_dir);
  if (leader && is_sweep) write_file_atomically(run_dir / "sweep.yaml", config.dump());

  // Rank groups of consecutive world ranks; packs go to groups round robin.
  const Groups groups = rank_groups(config, mpi.world_rank(), mpi.world_size());
  MPI_Comm group;
  MPI_Comm_split(MPI_COMM_WORLD, groups.index, mpi.world_rank(), &group);
  const auto packs = sweep::make_packs(trials.size(), static_cast<int>(config.get_int("sweep.trials_per_pack")));
  const auto my_packs = sweep::packs_of_group(packs.size(), groups.count, groups.index);
  spdlog::info("{} trial(s) in {} pack(s) over {} group(s) of {} rank(s)", trials.size(), packs.size(), groups.count,
               groups.size);

  GroupContext ctx;
  const std::string device_setting = config.get_string("train.device");
  ctx.device = dist::select_device(device_setting, "train.device", mpi.local_rank(), mpi.local_size());
  ctx.device_text = dist::describe_device(device_setting, "train.device", ctx.device);
  // cuDNN picks the fastest convolution algorithms for the (fixed) batch shapes once.
  if (ctx.device.is_cuda()) at::globalContext().setBenchmarkCuDNN(true);
  const auto threads = config.get_int_or_auto("train.threads");
  ctx.threads = dist::threads_per_rank(threads ? static_cast<int>(*threads) : 0, mpi.local_size());
  torch::set_num_threads(ctx.threads);
  dist::CommOptions comm_options;
  comm_options.timeout_s = config.get_float("train.collective_timeout_s");
  auto comm = dist::make_comm(group, ctx.device, comm_options);
  ctx.comm = comm.get();
  ctx.world_size = mpi.world_size();
  ctx.num_groups = groups.count;
  ctx.group_index = groups.index;
  ctx.resume = options.resume;
  install_stop_handlers();

  const int64_t iterations = config.get_int("train.iterations");
  const std::string made_by = is_sweep ? sweep::summary_header(config, options.command_line) : std::string();
  const bool groups_rank0 = comm->rank() == 0;
  const bool eval_after = config.get_bool("eval.after_training");
  eval::EvalResources eval_resources;  // loss nets and val split, loaded once per group
  int code = kExitOk;
  for (size_t p : my_packs) {
    std::vector<TrialSpec> specs;
    std::vector<const sweep::Trial*> pack_trials;
    for (size_t t : packs[p]) {
      const fs::path dir = sweep::trial_dir(config, trials[t]);
      const TrialStatus status = trial_status(dir, iterations);
      // A finished trial is done; in a sweep a failed one is too (its FAILED file says
      // why; delete it to retry). A single run is retried when started again.
      if (status == TrialStatus::kFinished || (is_sweep && status == TrialStatus::kFailed)) {
        spdlog::info("trial {}: {} earlier, skipped", trials[t].id, to_string(status));
        // Its summary row may be missing if the job ended right after the trial did.
        if (is_sweep && groups_rank0) sweep::record_result(run_dir, trials[t], result_from_folder(dir, status), made_by);
        continue;
      }
      specs.push_back(TrialSpec{trials[t].id, trials[t].config, dir});
      pack_trials.push_back(&trials[t]);
    }
    if (specs.empty()) continue;
    const PackResult result = train_pack(specs, ctx);
    if (result.outcome == PackOutcome::kStopped) {
      spdlog::warn("stopped by signal {} after a checkpoint; rerun the same command to resume (exit code {})",
                   stop_signal(), static_cast<int>(kExitRequeue));
      code = kExitRequeue;
      break;
    }
    for (size_t i = 0; i < specs.size(); ++i) {
      const bool failed = result.status[i] == TrialStatus::kFailed;
      if (failed) code = is_sweep ? code : kExitDiverged;
      if (comm->rank() == 0) {
        if (is_sweep) {
          sweep::TrialResult r{failed ? "failed" : "finished", result.steps, result.losses[i], result.failure[i]};
          sweep::record_result(run_dir, *pack_trials[i], r, made_by);
        }
        if (failed) {
          spdlog::error("trial {} failed: {}", specs[i].id, result.failure[i]);
        } else {
          spdlog::info("trial {} done: model {}", specs[i].id, (specs[i].dir / "model.h5").string());
          if (const auto why = eval::write_trial_curves(specs[i].dir)) {
            spdlog::warn("trial {}: loss curves not drawn: {}", specs[i].id, *why);
          } else {
            spdlog::info("trial {}: loss curves {}", specs[i].id, (specs[i].dir / "curves.png").string());
          }
          if (eval_after) evaluate_finished_trial(specs[i].dir, ctx.device, &eval_resources);
        }
      }
    }
  }
  if (code == kExitOk && leader) {
    spdlog::info("done. {}: {}", is_sweep ? "sweep" : "run", run_dir.string());
    if (is_sweep) spdlog::info("      summary: {}", (run_dir / "summary.md").string());
    if (!is_sweep) {
      spdlog::info("      model: {}", (run_dir / "model.h5").string());
      spdlog::info("      metrics: {}", (run_dir / "metrics.jsonl").string());
      spdlog::info("      checkpoints: {}", (run_dir / "checkpoints").string());
    }
    spdlog::info("      log: {}", (run_dir / "dpst.log").string());
  }
  comm.reset();
  MPI_Comm_free(&group);
  return code;
}

}  // namespace

int run_job(const config::Config& config, const dist::MpiSession& mpi, const JobOptions& options) {
  try {
    return train_trials(config, mpi, options);
  } catch (const ConfigError&) {
    throw;  // the same on every rank: reported once, normal exit
  } catch (const std::exception& e) {
    if (mpi.world_size() == 1) throw;
    // Other ranks may be inside a collective this rank will never reach: end them all.
    spdlog::critical("{}", e.what());
    spdlog::critical("ending all {} ranks (exit code {})", mpi.world_size(), exit_code_for(e));
    spdlog::default_logger()->flush();
    dist::MpiSession::abort_job(exit_code_for(e));
  }
}

std::string list_trials(const config::Config& config, int world_size) {
  const auto trials = sweep::expand(config, world_size, /*for_run=*/false);
  const Groups groups = rank_groups(config, 0, world_size);
  return sweep::trials_table(trials, static_cast<int>(config.get_int("sweep.trials_per_pack")), groups.count);
}

}  // namespace dpst::train
