#!/usr/bin/env bash
# ctest -L slurm: launch/slurm/train.sbatch and sweep.sbatch, unchanged, under a real
# single-node Slurm (Debian's slurm-wlm and munge) that this script starts and stops.
#
#   tests/launch/test_slurm.sh SOURCE_DIR BIN_DIR [REQUEUE_SCRIPT]
#
# The cluster lives in a temporary folder: its own munge key and socket, slurm.conf (one
# node, CPUs from nproc, ports picked free), state, spool and logs. Both jobs get only
# command-line overrides: --gpus-per-task=0 (this node has no GPU), 2 tasks of 1 CPU, a
# 2-minute limit and --signal=B:USR1@70, so Slurm signals each job about a minute in;
# every rank checkpoints, dpst-dist exits 75 and run-with-requeue.sh requeues the job.
# Slurm holds a requeued job for 2 minutes; the test then raises its time limit so that
# the resumed run finishes instead of being signalled again (a real job would simply
# requeue as often as it needs), and checks:
#   train: requeued exactly once, COMPLETED, and the run folder holds exactly the steps
#          and the losses of a straight 2-rank run of the same config;
#   sweep: 3 trials, requeued exactly once, every trial FINISHED once, summary.csv 3 rows.
# REQUEUE_SCRIPT (default launch/slurm/run-with-requeue.sh) lets a check of this test run
# the scripts against a changed copy (e.g. one that drops the requeue: then this fails).
# Everything it started is ended by its own pid on exit, pass or fail.
# Exit: 0 pass, 1 fail, 77 skipped (not root, or Slurm/munge not installed).
set -uo pipefail
src="${1:?usage: test_slurm.sh SOURCE_DIR BIN_DIR [REQUEUE_SCRIPT]}"
bin="${2:?usage: test_slurm.sh SOURCE_DIR BIN_DIR [REQUEUE_SCRIPT]}"
requeue_script="${3:-}"
src="$(cd "$src" && pwd)" bin="$(cd "$bin" && pwd)"

say() { echo "slurm-test: $(date +%T) $*"; }
fail() { echo "slurm-test: FAILED: $*" >&2; exit 1; }
for tool in munged slurmctld slurmd sbatch scontrol squeue; do
  command -v "$tool" >/dev/null || { echo "slurm-test: skipped: $tool not installed (launch/install-deps.sh installs slurm-wlm and munge)"; exit 77; }
done
[[ $(id -u) -eq 0 ]] || { echo "slurm-test: skipped: starting slurmd needs root"; exit 77; }

work="$(mktemp -d /tmp/dpst-slurm.XXXXXX)"
chmod 755 "$work"
export SLURM_CONF="$work/slurm.conf"
pids_to_end=()  # pid files of the daemons, in the order they are stopped

cleanup() {
  local rc=$?
  set +e
  if [[ -f "$work/slurmctld.pid" ]]; then
    for job in $(squeue -h -o %i 2>/dev/null); do scancel "$job" 2>/dev/null; done
    # Give the jobs' steps a moment to be killed by slurmd before it stops.
    for _ in $(seq 1 20); do [[ -z "$(squeue -h -o %i 2>/dev/null)" ]] && break; sleep 0.5; done
  fi
  for pidfile in "${pids_to_end[@]}"; do
    [[ -f "$pidfile" ]] || continue
    local pid
    pid="$(cat "$pidfile")"
    kill "$pid" 2>/dev/null
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$pid" 2>/dev/null
  done
  # Job processes that outlived slurmd (none expected): ended by pid.
  for pid in $(pgrep -f "$work" 2>/dev/null); do [[ $pid -ne $$ ]] && kill -9 "$pid" 2>/dev/null; done
  if [[ $rc -ne 0 && $rc -ne 77 ]]; then
    echo "---- slurmctld log (tail)"; tail -n 30 "$work/log/slurmctld.log" 2>/dev/null
    echo "---- slurmd log (tail)"; tail -n 30 "$work/log/slurmd.log" 2>/dev/null
    for out in "$work"/*.out; do [[ -f "$out" ]] && { echo "---- $out (tail)"; tail -n 25 "$out"; }; done
  fi
  rm -rf "$work"
  exit $rc
}
trap cleanup EXIT
trap 'exit 1' INT TERM

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
pick_port() {
  local p
  for _ in $(seq 1 200); do
    p=$((20000 + RANDOM % 20000))
    port_free "$p" && port_free $((p + 1)) && { echo "$p"; return; }
  done
  fail "no free port pair found"
}

# --- the cluster ------------------------------------------------------------------
mkdir -p "$work/munge" "$work/state" "$work/spool" "$work/log"
chmod 755 "$work/munge"  # munged: the socket folder must be searchable by all
head -c 1024 /dev/urandom >"$work/munge/munge.key"
chmod 600 "$work/munge/munge.key"
munged --key-file="$work/munge/munge.key" --socket="$work/munge/socket" --pid-file="$work/munge/munged.pid" \
  --log-file="$work/log/munged.log" --seed-file="$work/munge/seed" || fail "munged did not start (see $work/log/munged.log)"
pids_to_end=("$work/munge/munged.pid")

port="$(pick_port)"
node="$(hostname -s)"
cpus="$(nproc)"
cat >"$SLURM_CONF" <<EOF
ClusterName=dpsttest
SlurmctldHost=$node(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$work/munge/socket
CredType=cred/munge
SlurmctldPort=$port
SlurmdPort=$((port + 1))
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MinJobAge=3600
KillWait=10
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
slurmctld -f "$SLURM_CONF" || fail "slurmctld did not start"
pids_to_end=("$work/slurmd.pid" "$work/slurmctld.pid" "$work/munge/munged.pid")
slurmd -f "$SLURM_CONF" || fail "slurmd did not start"
for _ in $(seq 1 60); do
  state="$(sinfo -h -o %T 2>/dev/null)"
  [[ "$state" == idle* ]] && break
  sleep 0.5
done
[[ "$state" == idle* ]] || fail "the node did not come up idle (state '$state')"
say "Slurm up: node $node, $cpus CPUs, ports $port/$((port + 1)), in $work"

# --- what the jobs run ------------------------------------------------------------
# The scripts run from a copy of the repository's launch/ folder so that REQUEUE_SCRIPT
# can stand in for run-with-requeue.sh; the sbatch files themselves are the repository's.
mkdir -p "$work/repo/launch/slurm"
cp "$src"/launch/slurm/*.sbatch "$src"/launch/slurm/run-with-requeue.sh "$work/repo/launch/slurm/"
[[ -n "$requeue_script" ]] && cp "$requeue_script" "$work/repo/launch/slurm/run-with-requeue.sh"
cmp -s "$src/launch/slurm/train.sbatch" "$work/repo/launch/slurm/train.sbatch" || fail "train.sbatch copy differs"
"$bin/pack_coco" --coco-dir "$src/tests/fixtures/demo/coco" --out "$work/demo-32.h5" --size 32 --threads 2 >/dev/null 2>&1 ||
  fail "pack_coco failed"
common="data:
  path: $work/demo-32.h5
  image_size: 32
  loader_threads: 1
  prefetch: 2
model:
  width: 8
  residual_blocks: 1
loss_nets:
  allow_random_init: true
loss:
  style_image: $src/tests/fixtures/demo/styles/candy.jpg
  style_size: 32
  depth_weight: 1.0e5
train:
  batch_size: 2
  threads: 1
  log_every: 10
  checkpoint_every: 40
  collective_timeout_s: 60
  device: cpu
eval:
  after_training: false"
cat >"$work/train.yaml" <<EOF
run:
  name: t
  seed: 3
  output_dir: $work/runs
$(echo "$common" | sed "s/^  batch_size: 2$/  batch_size: 2\n  iterations: ${DPST_SLURM_TEST_STEPS:-300}/")
EOF
cat >"$work/sweep.yaml" <<EOF
run:
  name: s
  seed: 3
  output_dir: $work/runs
$(echo "$common" | sed "s/^  batch_size: 2$/  batch_size: 2\n  iterations: ${DPST_SLURM_TEST_SWEEP_STEPS:-120}/")
sweep:
  method: grid
  trials_per_pack: 1
  axes:
    loss.depth_weight: [0, 1.0e5, 2.0e5]
EOF

submit() {  # submit NAME SBATCH CONFIG -> job id
  (cd "$work/repo" && CONFIG="$3" DPST="$bin/dpst-dist" \
    sbatch --parsable --gpus-per-task=0 --ntasks-per-node=2 --cpus-per-task=1 --time=00:02:00 \
      --signal=B:USR1@70 --output="$work/$1-%j.out" "launch/slurm/$2")
}
job_field() { scontrol show job "$1" 2>/dev/null | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n 1; }

train_job="$(submit train train.sbatch "$work/train.yaml")" || fail "sbatch train.sbatch failed"
sweep_job="$(submit sweep sweep.sbatch "$work/sweep.yaml")" || fail "sbatch sweep.sbatch failed"
say "submitted train.sbatch as job $train_job and sweep.sbatch as job $sweep_job"

# The reference, meanwhile: the same training config straight through, 2 ranks, outside Slurm.
OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 mpirun -np 2 --oversubscribe --bind-to none \
  "$bin/dpst-dist" --config "$work/train.yaml" --set run.output_dir="$work/straight" >"$work/straight.log" 2>&1 &
straight_pid=$!

# Wait for both jobs; raise a job's time limit once it has been requeued.
declare -A raised=()
deadline=$((SECONDS + ${DPST_SLURM_TEST_TIMEOUT:-900}))
while :; do
  done_jobs=0
  for job in "$train_job" "$sweep_job"; do
    state="$(job_field "$job" JobState)"
    restarts="$(job_field "$job" Restarts)"
    if [[ "${restarts:-0}" -ge 1 && -z "${raised[$job]:-}" ]]; then
      scontrol update JobId="$job" TimeLimit=00:15:00 || fail "scontrol update of job $job failed"
      raised[$job]=1
      say "job $job requeued (Restarts=$restarts); time limit raised so the resumed run can finish"
    fi
    case "$state" in
      COMPLETED | FAILED | CANCELLED | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY) done_jobs=$((done_jobs + 1)) ;;
    esac
  done
  [[ $done_jobs -eq 2 ]] && break
  [[ $SECONDS -lt $deadline ]] || fail "the jobs did not end within ${DPST_SLURM_TEST_TIMEOUT:-900} s"
  sleep 2
done

wait "$straight_pid" || fail "the straight reference run failed: $(tail -n 3 "$work/straight.log")"
say "straight reference run done"

# --- checks -----------------------------------------------------------------------
for job in "$train_job" "$sweep_job"; do
  state="$(job_field "$job" JobState)" restarts="$(job_field "$job" Restarts)" code="$(job_field "$job" ExitCode)"
  say "job $job: $state, Restarts=$restarts, ExitCode=$code"
  [[ "$state" == COMPLETED ]] || fail "job $job ended $state (ExitCode $code), expected COMPLETED"
  [[ "$restarts" == 1 ]] || fail "job $job was requeued $restarts time(s), expected exactly once"
done
grep -q "time limit near, asking every rank to checkpoint" "$work"/train-*.out || fail "train job: no USR1 in its output"
grep -q "requeueing job $train_job" "$work"/train-*.out || fail "train job: run-with-requeue.sh did not requeue"

# train: the steps and losses of the straight run, exactly (timings differ, of course).
steps_and_losses() { sed -E 's/^(\{"step":[0-9]+,.*"total":[^,]*,"lr":[^,]*),.*/\1/' "$1"; }
[[ -f "$work/runs/t/FINISHED" ]] || fail "train: no FINISHED marker"
grep -q '"total":' "$work/runs/t/metrics.jsonl" || fail "train: metrics.jsonl has no total loss"
if ! diff <(steps_and_losses "$work/straight/t/metrics.jsonl") <(steps_and_losses "$work/runs/t/metrics.jsonl") >"$work/diff.txt"; then
  fail "train: the requeued run's steps/losses differ from the straight run's: $(head -n 6 "$work/diff.txt")"
fi
# Every weight of model.h5, bit for bit (-A 0: without the attributes, which name the run).
cmp -s <(h5dump -A 0 "$work/straight/t/model.h5" | tail -n +2) <(h5dump -A 0 "$work/runs/t/model.h5" | tail -n +2) ||
  fail "train: model.h5 differs from the straight run's"
say "train: requeued once, resumed, $(wc -l <"$work/runs/t/metrics.jsonl") metrics lines identical to a straight run"

# sweep: 3 trials, each finished once, summary.csv with 3 rows.
finished=0
for trial in "$work"/runs/s/*/; do
  [[ -f "$trial/FINISHED" ]] && finished=$((finished + 1))
done
[[ $finished -eq 3 ]] || fail "sweep: $finished of 3 trials FINISHED"
rows=$(($(wc -l <"$work/runs/s/summary.csv") - 1))
[[ $rows -eq 3 ]] || fail "sweep: summary.csv has $rows rows, expected 3: $(cat "$work/runs/s/summary.csv")"
[[ $(cut -d, -f1 "$work/runs/s/summary.csv" | tail -n +2 | sort | uniq -d | wc -l) -eq 0 ]] ||
  fail "sweep: a trial appears twice in summary.csv"
say "sweep: requeued once, 3 trials FINISHED, summary.csv 3 rows"
echo "slurm-test: OK"
