#!/bin/bash
# Runs one dpst-dist job step under srun and requeues the Slurm job when dpst-dist exits
# with the requeue code (75: a checkpoint was written after SIGUSR1/SIGTERM). The step runs
# in the background so that this shell receives Slurm's --signal=B:USR1 and passes it on;
# srun delivers it to every rank. Called by train.sbatch and sweep.sbatch with `exec`, so
# this script is the batch shell that Slurm signals.
#   run-with-requeue.sh DPST_DIST_BINARY [dpst-dist arguments...]
set -uo pipefail
REQUEUE_CODE=75

srun --mpi=pmix --kill-on-bad-exit=1 "$@" &
step=$!
trap 'echo "dpst: $(date): time limit near, asking every rank to checkpoint"; kill -USR1 "$step"' USR1 TERM

rc=0
wait "$step" || rc=$?
# A trapped signal interrupts `wait`; wait again for the step's own exit code.
while kill -0 "$step" 2>/dev/null; do
  rc=0
  wait "$step" || rc=$?
done

if [[ $rc -eq $REQUEUE_CODE ]]; then
  echo "dpst: checkpointed; requeueing job ${SLURM_JOB_ID:-?}"
  scontrol requeue "${SLURM_JOB_ID:?not inside a Slurm job}"
fi
exit "$rc"
