// dpst-dist: trains depth-preserving style-transfer networks, one style or a sweep,
// on one process or under mpirun/srun. This main only wires the command line to the
// library; see src/config for the configuration and README.md for exit codes.

#include <CLI/CLI.hpp>

#include <optional>
#include <string>
#include <vector>

#include <iostream>

#include "common/common.h"
#include "config/config.h"
#include "dist/dist.h"
#include "train/stop_signal.h"
#include "train/train.h"

int main(int argc, char** argv) {
  // 100+ MB activations at 256x256, every step: 3x fewer page faults, ~10% faster steps.
  dpst::keep_freed_memory_for_reuse();
  // Before any thread exists, so that SIGTERM/SIGUSR1 reach only the waiting thread.
  dpst::train::install_stop_handlers();
  // The MPI build joins the job here; the solo build (no MPI) refuses a multi-rank launch.
  std::optional<dpst::dist::MpiSession> session;
  if (const int code = dpst::guarded_main([&] {
        session.emplace(&argc, &argv);
        return dpst::kExitOk;
      }))
    return code;
  const dpst::dist::MpiSession& mpi = *session;
  const bool root = mpi.world_rank() == 0;

  CLI::App app{"dpst-dist: train depth-preserving style-transfer networks (one style or a whole "
               "sweep) on one process or under mpirun/srun."};
  app.set_version_flag("--version", dpst::version_string());
  std::vector<std::string> config_files, overrides;
  std::string log_level, resume = "auto";
  bool overwrite = false;
  bool dump_config = false, help_config = false, show_build_info = false, check_only = false, list_trials = false;
  app.add_option("-c,--config", config_files, "YAML config file; repeat to layer files (later wins)");
  app.add_option("--set", overrides, "Override one key: --set section.key=value (repeatable, wins over files)");
  app.add_flag("--dump-config", dump_config, "Print the resolved configuration as YAML and exit");
  app.add_flag("--help-config", help_config, "Print every configuration key with type, default and help");
  app.add_flag("--build-info", show_build_info, "Print versions of dpst and the libraries it was built with");
  app.add_flag("--list-trials", list_trials, "Print the sweep's expanded trials (id, pack, group, swept values) and exit");
  app.add_flag("--check", check_only, "Validate the configuration, including that the files it names exist, and exit");
  app.add_option("--resume", resume, "auto: continue from the newest complete checkpoint (default); none: start fresh")
      ->check(CLI::IsMember({"auto", "none"}));
  app.add_flag("--overwrite", overwrite, "With --resume none: delete an existing run folder first");
  app.add_option("--log-level", log_level, "trace|debug|info|warn|error|critical|off (default: info on rank 0, warn elsewhere)");

  if (const auto code = dpst::parse_command_line(app, argc, argv, /*print=*/root)) return *code;

  return dpst::guarded_main([&]() -> int {
    dpst::logging::init(mpi.world_rank(), mpi.world_size(), log_level);
    if (show_build_info) {
      if (root) std::cout << dpst::build_info_text(dpst::dist::MpiSession::library_version());
      return dpst::kExitOk;
    }
    if (help_config) {
      if (root) std::cout << dpst::config::help_text();
      return dpst::kExitOk;
    }
    dpst::config::LoadOptions options;
    options.files = config_files;
    options.overrides = overrides;
    options.world_size = mpi.world_size();
    options.check_files = !dump_config && !list_trials;
    const dpst::config::Config config = dpst::config::load(options);
    if (dump_config) {
      if (root) std::cout << config.dump();
      return dpst::kExitOk;
    }
    if (list_trials) {
      const std::string table = dpst::train::list_trials(config, mpi.world_size());
      if (root) std::cout << table;
      return dpst::kExitOk;
    }
    if (check_only) {
      spdlog::info("configuration is valid ({} file(s), {} override(s), {} rank(s))", config_files.size(),
                   overrides.size(), mpi.world_size());
      return dpst::kExitOk;
    }
    dpst::train::JobOptions job;
    job.resume = resume == "auto";
    job.overwrite = overwrite;
    for (int i = 0; i < argc; ++i) job.command_line += (i ? " " : "") + std::string(argv[i]);
    try {
      return dpst::train::run_job(config, mpi, job);
    } catch (const dpst::ConfigError&) {
      throw;  // the same on every rank: reported once, normal exit
    } catch (const std::exception& e) {
      if (mpi.world_size() == 1) throw;
      // Other ranks may be inside a collective this rank will never reach: end them all.
      spdlog::critical("{}", e.what());
      spdlog::critical("ending all {} ranks (exit code {})", mpi.world_size(), dpst::exit_code_for(e));
      spdlog::default_logger()->flush();
      dpst::dist::MpiSession::abort_job(dpst::exit_code_for(e));
    }
  });
}
