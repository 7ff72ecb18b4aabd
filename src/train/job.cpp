#include "train/job.h"

#include <mpi.h>
#include <torch/utils.h>

#include "common/errors.h"
#include "common/logging.h"
#include "dist/comm.h"
#include "dist/device.h"
#include "train/pack_trainer.h"
#include "train/stop_signal.h"
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

int train_trials(const config::Config& config, const dist::MpiSession& mpi, const JobOptions& options) {
  const std::vector<TrialSpec> trials = {single_trial(config)};
  const TrialSpec& trial = trials.front();
  const bool leader = mpi.world_rank() == 0;

  prepare_run_folder(trial.dir, options, leader);
  MPI_Barrier(MPI_COMM_WORLD);
  if (options.resume && trial_status(trial.dir, config.get_int("train.iterations")) == TrialStatus::kFinished) {
    spdlog::info("{}: already finished (FINISHED marker); nothing to do", trial.dir.string());
    return kExitOk;
  }
  logging::attach_run_log(trial.dir);

  // Rank groups: consecutive world ranks; group 0 trains the (single) trial.
  const int64_t per_trial = config.get_int("sweep.ranks_per_trial");
  const int group_size = per_trial > 0 ? static_cast<int>(per_trial) : mpi.world_size();
  const int group_index = mpi.world_rank() / group_size;
  MPI_Comm group;
  MPI_Comm_split(MPI_COMM_WORLD, group_index, mpi.world_rank(), &group);

  GroupContext ctx;
  ctx.device = dist::select_device(config.get_string("train.device"), mpi.local_rank(), mpi.local_size());
  const auto threads = config.get_int_or_auto("train.threads");
  ctx.threads = dist::threads_per_rank(threads ? static_cast<int>(*threads) : 0, mpi.local_size());
  torch::set_num_threads(ctx.threads);
  dist::CommOptions comm_options;
  comm_options.timeout_s = config.get_float("train.collective_timeout_s");
  auto comm = dist::make_comm(group, ctx.device, comm_options);
  ctx.comm = comm.get();
  ctx.world_size = mpi.world_size();
  ctx.num_groups = mpi.world_size() / group_size;
  ctx.group_index = group_index;
  ctx.resume = options.resume;
  install_stop_handlers();

  int code = kExitOk;
  if (group_index == 0) {
    const PackResult result = train_pack(trials, ctx);
    if (result.outcome == PackOutcome::kStopped) {
      spdlog::warn("stopped by signal {} after a checkpoint; rerun the same command to resume (exit code {})",
                   stop_signal(), static_cast<int>(kExitRequeue));
      code = kExitRequeue;
    } else if (result.status.front() == TrialStatus::kFailed) {
      spdlog::error("training failed: {}", result.failure.front());
      code = kExitDiverged;
    } else if (leader) {
      spdlog::info("done. model: {}", (trial.dir / "model.h5").string());
      spdlog::info("      metrics: {}", (trial.dir / "metrics.jsonl").string());
      spdlog::info("      checkpoints: {}", (trial.dir / "checkpoints").string());
      spdlog::info("      log: {}", (trial.dir / "dpst.log").string());
    }
  } else if (leader) {
    spdlog::info("group {} has no trial to train", group_index);
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

}  // namespace dpst::train
