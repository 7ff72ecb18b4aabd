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

// Trains what the configuration describes and returns the process exit code
// (kExitOk, kExitRequeue after a stop signal, kExitDiverged when a single run diverged).
// A sweep goes on past failed trials, records them in its summary (status failed, with
// the reason) and exits kExitOk: its groups finish at different times, and none waits
// for the others to learn whether every trial failed.
// Errors that only this rank sees end the whole job (MPI_Abort) so no rank is left
// waiting in a collective.
int run_job(const config::Config& config, const dist::MpiSession& mpi, const JobOptions& options);

// The expanded trials of the configuration's sweep as a table (for --list-trials); every
// trial is validated first.
std::string list_trials(const config::Config& config, int world_size);

}  // namespace dpst::train
