// SIGTERM and SIGUSR1 (Slurm's warning before the time limit, or a user's kill) only set
// a flag here; the trainer's group agrees on it at the next step boundary, checkpoints,
// and exits with kExitRequeue so the batch script can requeue the job.
#pragma once

namespace dpst::train {

// Call first thing in main, before MPI or any other thread starts (idempotent).
void install_stop_handlers();
bool stop_requested();
int stop_signal();             // the signal number received, 0 if none
void clear_stop_for_test();

}  // namespace dpst::train
