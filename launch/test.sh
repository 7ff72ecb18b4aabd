#!/usr/bin/env bash
# The whole test suite on a fresh Debian 12 machine: installs dependencies (Debian
# packages, and the torch wheel into .venv), configures and builds (Release, warnings as
# errors, CUDA + NCCL where nvcc exists), then runs ctest with output on failure.
#   ./launch/test.sh                 everything
#   ./launch/test.sh -L unit         only tests labelled unit (extra args go to ctest)
# BUILD_DIR (default: build) and JOBS (default: all cores) can be set in the environment.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
JOBS=${JOBS:-$(nproc)}

./launch/install-deps.sh --test
# Where nvcc exists the CUDA/NCCL path must build (ON makes a failed detection an error).
cuda=AUTO
if command -v nvcc >/dev/null || [[ -x /usr/local/cuda/bin/nvcc ]]; then cuda=ON; fi
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DDPST_WERROR=ON -DDPST_WITH_CUDA=$cuda
cmake --build "$BUILD_DIR" -j "$JOBS"
cd "$BUILD_DIR"
ctest --output-on-failure -j "$JOBS" "$@"
