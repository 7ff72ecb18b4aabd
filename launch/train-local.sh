#!/usr/bin/env bash
# Train on this machine under mpirun. After a stop signal (exit 75, checkpointed) it says
# so; running the same command again resumes from that checkpoint.
#   NP=2 ./launch/train-local.sh configs/train.yaml [dpst-dist options...]
# NP (default 1) ranks; extra arguments go to dpst-dist. Ctrl-C or `kill -USR1` on
# mpirun checkpoints and stops; run the same command again to continue.
set -uo pipefail
cd "$(dirname "$0")/.."
CONFIG=${1:?usage: launch/train-local.sh CONFIG.yaml [dpst-dist options]}
shift
NP=${NP:-1}
DPST=${DPST:-build/bin/dpst-dist}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpirun -np "$NP" --oversubscribe --bind-to none "$DPST" --config "$CONFIG" "$@"
rc=$?
if [[ $rc -eq 75 ]]; then
  echo "train-local: stopped after a checkpoint; run the same command again to resume"
fi
exit "$rc"
