#!/usr/bin/env bash
# Everything dpst does in one call on a GPU machine that has torch 2.11 (python3) but no
# MPI, apt or internet: the bundle made by bundle.sh runs the GPU issue's steps in order,
# each under its own time limit, and writes every log and table under OUTDIR.
#
#   launch/device/run.sh [--bundle DIR] [--python PY] OUTDIR   on the GPU machine
#   launch/device/run.sh --rehearse --bundle DIR OUTDIR        here, on the CPU (ctest -L device)
#
#   0 machine   which GPU, which torch; stops (exit 3) unless the torch is the manifest's
#   1 start     how the binaries start: 1. as bundled; 2. with the bundle's libstdc++/libgcc_s;
#               3. built there from this repository (build-there.sh); says what failed
#   2 data      the demo photos packed by the bundle's pack_coco
#   3 tests     test_gpu: NCCL on one rank, training on cuda, bf16, two ranks on one GPU
#   4 bf16      200 steps in bf16 and 200 in fp32 from the same start (bench_gpu.py precision)
#   5 speed     images/s per trial, fp32/bf16, packs K = 1, 2, 4, 8 against PyTorch eager
#   6 phases    where one step goes (CUDA events) and its host synchronisations
# A failed step is reported and the next one runs. The summary table ends the output
# (OUTDIR/summary.txt). Exit 0 when every step passed or reported its skip, 1 otherwise.
# OUTDIR gets at most 8 files, as a device call returns no more: run.log (everything),
# summary.txt, tests.log, bf16.txt, speed.txt, phases.txt, throughput.json and, when the
# third way ran, build-there.log; scratch (data, a build) goes to a temporary folder.
#
# --rehearse runs every step on this CPU at tiny sizes, from a copy of the bundle in a
# temporary folder outside the build tree, with the project's .venv torch standing in for
# the GPU machine's; it also fails when a bundled binary resolves a library outside the
# bundle, the torch folder and the base system. GPU-only test cases report their skip.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
source "$here/device-common.sh"

rehearse=0
bundle="$repo/.device-bundle"
python=python3
outdir=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rehearse) rehearse=1; shift ;;
    --bundle) bundle="$2"; shift 2 ;;
    --python) python="$2"; shift 2 ;;
    -h|--help) sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) outdir="$1"; shift ;;
  esac
done
[[ -n "$outdir" ]] || { echo "run.sh: usage: run.sh [--rehearse] [--bundle DIR] [--python PY] OUTDIR" >&2; exit 2; }
[[ -f "$bundle/manifest.env" ]] || { echo "run.sh: $bundle/manifest.env not found: make the bundle with launch/device/bundle.sh" >&2; exit 2; }
if (( rehearse )) && [[ "$python" == python3 ]]; then python="${DPST_PYTHON:-$repo/.venv/bin/python}"; fi
mkdir -p "$outdir" && outdir="$(cd "$outdir" && pwd)"
exec > >(tee "$outdir/run.log") 2>&1
work="$(mktemp -d "${TMPDIR:-/tmp}/dpst-run.XXXXXX")"
copy=""
trap 'rm -rf "$work" ${copy:+"$copy"}' EXIT

# Sizes: the GPU issue's on the device; tiny on the CPU rehearsal.
if (( rehearse )); then
  device=cpu size=32 batch=1 steps=6 warmup=2 precision_steps=12 packs=1,2 net=(--width 8 --blocks 1 --threads 2)
  limit_tests=600 limit_bf16=300 limit_speed=600 limit_phases=300
else
  device=cuda size=256 batch=3 steps=30 warmup=5 precision_steps=200 packs=1,2,4,8 net=()
  limit_tests=150 limit_bf16=120 limit_speed=200 limit_phases=60
fi

declare -a summary=()
failures=0
record() {  # step status seconds note
  summary+=("$(printf '%-8s %-14s %8s  %s' "$1" "$2" "$3" "$4")")
  case "$2" in ok|skipped|target-missed) ;; *) failures=$((failures + 1)) ;; esac
}
# run_step NAME LIMIT_S LOG COMMAND...: the command under `timeout`; exit 0 ok, 1 a missed
# benchmark target (it ran), 124/137 timeout, anything else failed.
run_step() {
  local name="$1" limit="$2" log="$3"; shift 3
  echo "== step $name (limit ${limit} s): $*"
  local start=$SECONDS
  timeout --kill-after=10 "$limit" "$@" > >(tee "$log") 2>&1
  local rc=$? seconds=$((SECONDS - start))
  local verdict_line; verdict_line="$(grep -E '^# .* : .*(OK|FAILED)$' "$log" | tail -1 | sed 's/^# //')"
  case $rc in
    0) record "$name" ok "$seconds" "${verdict_line:-passed}" ;;
    1) record "$name" "$( [[ -n "$verdict_line" ]] && echo target-missed || echo failed)" "$seconds" "${verdict_line:-exit 1, see $log}" ;;
    124|137) record "$name" timeout "$seconds" "killed after ${limit} s, see $log" ;;
    *) record "$name" failed "$seconds" "exit $rc, see $log" ;;
  esac
  return $rc
}

# --- 0 machine ----------------------------------------------------------------------
source "$bundle/manifest.env"
echo "== step machine"
gpu="$(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null | head -1)"
echo "gpu: ${gpu:-none}"
echo "bundle: torch $DPST_BUNDLE_TORCH (CUDA $DPST_BUNDLE_TORCH_CUDA), nvcc $DPST_BUNDLE_NVCC, $DPST_BUNDLE_COMPILER," \
     "glibc $DPST_BUNDLE_GLIBC (needs GLIBC ${DPST_BUNDLE_NEEDS_GLIBC#GLIBC_}, GLIBCXX ${DPST_BUNDLE_NEEDS_GLIBCXX#GLIBCXX_}), git $DPST_BUNDLE_GIT"
machine="$("$python" -c 'import os, torch; print(torch.__version__, torch.version.cuda, os.path.dirname(os.path.dirname(torch.__file__)), torch.cuda.is_available())' 2>&1)" || {
  echo "run.sh: stop: '$python' cannot import torch ($machine)"; exit 3; }
read -r m_torch m_cuda site has_cuda <<< "$machine"
echo "machine: $("$python" --version 2>&1), torch $m_torch (CUDA $m_cuda) in $site, CUDA device: $has_cuda, glibc $(ldd --version | head -1 | awk '{print $NF}')"
if [[ "$m_torch" != "$DPST_BUNDLE_TORCH" ]]; then
  echo "run.sh: stop: this machine's torch is $m_torch but the bundle was built against $DPST_BUNDLE_TORCH: rebuild the bundle with that torch (launch/requirements.txt)"
  exit 3
fi
record machine ok 0 "${gpu:-no GPU}; torch $m_torch matches the bundle"

# --- 1 start ------------------------------------------------------------------------
if (( rehearse )); then  # from a copy outside the build tree, as it travels
  copy="$(mktemp -d "${TMPDIR:-/tmp}/dpst-bundle.XXXXXX")"
  cp -a "$bundle/." "$copy/"
  bundle="$copy"
  echo "rehearsal: the bundle copied to $bundle; torch from $site stands in for the GPU machine's"
fi
dpst_unpack_libs "$bundle" "$python" || { echo "run.sh: stop: cannot unpack $bundle/libs.tar.xz"; exit 3; }
torch_path="$(dpst_torch_library_path "$site")"
bin="$bundle/bin"

# Prints one line per problem starting binary B of folder BIN with LD_LIBRARY_PATH as set:
# an unresolved library or symbol version, a library from outside the allowed folders,
# or a failure to start at all.
start_problems() {
  local b path
  for b in "${DPST_BUNDLE_BINARIES[@]}"; do
    ldd "$1/$b" 2>&1 | grep -E 'not found|version .* not found' | sed "s|^|$b: |"
    ldd "$1/$b" 2>/dev/null | awk '/=>/ {print $1, $3}' | while read -r lib path; do
      [[ "$path" == "$bundle"/* || "$path" == "$site"/* ]] && continue
      dpst_is_base_library "$lib" && continue
      [[ -n "${2:-}" && "$path" == "$2"/* ]] && continue
      echo "$b: $lib resolves outside the bundle, the torch folder and the base system: $path"
    done
  done
  "$1/dpst-dist" --build-info > /dev/null 2>"$work/start.err" || echo "dpst-dist: $(head -1 "$work/start.err")"
  "$1/test_gpu" --gtest_list_tests > /dev/null 2>"$work/start.err" || echo "test_gpu: $(head -1 "$work/start.err")"
}
echo "== step start"
way="bundled"
export LD_LIBRARY_PATH="$bundle/lib:$torch_path"
problems="$(start_problems "$bin")"
if [[ -n "$problems" ]]; then
  echo "run.sh: the bundled binaries cannot start as bundled:"; echo "$problems" | head -5
  way="bundled + its libstdc++"
  export LD_LIBRARY_PATH="$bundle/fallback/lib:$bundle/lib:$torch_path"
  problems="$(start_problems "$bin" "$bundle/fallback/lib")"
fi
if [[ -n "$problems" ]] && (( ! rehearse )); then
  echo "run.sh: nor with the bundle's libstdc++/libgcc_s:"; echo "$problems" | head -5
  way="built here"
  if "$here/build-there.sh" --bundle "$bundle" --python "$python" "$work/build" > "$outdir/build-there.log" 2>&1; then
    bin="$work/build/device/bin"
    export LD_LIBRARY_PATH="$bundle/lib:$torch_path"
    problems="$(start_problems "$bin")"
  else
    problems="build-there.sh failed: $(tail -1 "$outdir/build-there.log") (log: $outdir/build-there.log)"
  fi
fi
if [[ -n "$problems" ]]; then
  echo "$problems"
  record start failed 0 "$(echo "$problems" | head -1)"
else
  "$bin/dpst-dist" --build-info | sed 's/^/  /'
  record start ok 0 "binaries: $way ($bin)"
fi
export DPST_BIN_DIR="$bin" DPST_SOURCE_DIR="$repo"

# --- 2 data -------------------------------------------------------------------------
data="$work/demo-$size.h5"
run_step data 120 "$work/data.log" \
  "$bin/pack_coco" --coco-dir "$repo/tests/fixtures/demo/coco" --out "$data" --size "$size" --threads 4

# --- 3..6 the GPU issue's steps -----------------------------------------------------
bench=("$python" "$repo/tests/bench/bench_gpu.py")
common=(--bin "$bin" --data "$data" --device "$device" --size "$size" --batch "$batch" "${net[@]}")
run_step tests "$limit_tests" "$outdir/tests.log" "$bin/test_gpu"
skipped="$(grep -cE '^\[  SKIPPED \] .* \([0-9]+ ms\)$' "$outdir/tests.log" 2>/dev/null)"; skipped="${skipped:-0}"
if (( skipped > 0 )) && [[ "${summary[-1]}" == *" ok "* ]]; then
  summary[-1]="$(printf '%-8s %-14s %8s  %s' tests skipped - "$skipped case(s) skipped: $(grep -m1 -o 'no CUDA device[^"]*' "$outdir/tests.log" | head -1)")"
fi
run_step bf16 "$limit_bf16" "$outdir/bf16.txt" "${bench[@]}" precision "${common[@]}" --steps "$precision_steps"
run_step speed "$limit_speed" "$outdir/speed.txt" "${bench[@]}" throughput "${common[@]}" --steps "$steps" \
  --warmup "$warmup" --packs "$packs" --out-dir "$outdir"
run_step phases "$limit_phases" "$outdir/phases.txt" "${bench[@]}" phases "${common[@]}" --steps "$steps" --warmup "$warmup"

# --- summary ------------------------------------------------------------------------
{
  echo "# dpst on $( [[ -n "$gpu" ]] && echo "$gpu" || echo "the CPU (rehearsal)" ): launch/device/run.sh$( ((rehearse)) && echo " --rehearse")"
  printf '# %-6s %-14s %8s  %s\n' step status seconds note
  printf '%s\n' "${summary[@]}"
  echo "# steps failed : $failures $( ((failures)) && echo FAILED || echo OK)"
} | tee "$outdir/summary.txt"
(( failures == 0 ))
