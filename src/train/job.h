// One dpst-dist job: from a loaded configuration to an exit code.
#pragma once

#include <string>

#include "config/config.h"
#include "dist/mpi_session.h"

namespace dpst::train {

struct JobOptions {
  bool resume = true;        // --resume auto
  bool overwrite = false;    // --overwrite (with --resume none)
  std::string command_line;  // recorded in the sweep summary's header
};

// Trains what the configuration describes and returns the process exit code, the same
// on every rank: kExitRequeue when a stop signal reached any group (after a checkpoint);
// kExitDiverged when every trial of the run or sweep failed (NaN/Inf loss); else kExitOk.
// A sweep goes on past failed trials and records them in its summary (status failed,
// with the reason); at the end every rank waits for the last group, as it would in
// MPI_Finalize, to learn the counts. A ConfigError is the same on every rank (checks
// whose outcome can differ between nodes are agreed first: dist::check_on_every_rank).
// Any other error is thrown to the caller, which must end the whole job (see
// dpst-dist.cpp: MpiSession::abort_job) since other ranks may wait in a collective.
int run_job(const config::Config& config, const dist::MpiSession& mpi, const JobOptions& options);

// The expanded trials of the configuration's sweep as a table (for --list-trials); every
// trial is validated first.
std::string list_trials(const config::Config& config, int world_size);

}  // namespace dpst::train
