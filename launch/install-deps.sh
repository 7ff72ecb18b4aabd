#!/usr/bin/env bash
# Installs everything dpst needs to build and test on Debian 12. Run as root (or with sudo).
#  1. Debian packages (apt-get): the toolchain (with patchelf, for launch/device/bundle.sh),
#     Python's venv module and the C/C++ libraries of launch/packages.sh (MPI, HDF5,
#     yaml-cpp, spdlog, OpenCV, GTest, CLI11, nlohmann-json, TurboJPEG, libpng).
#  2. LibTorch: the PyTorch wheel (torch 2.11.0, CUDA 13 build), torchvision and the Python
#     helpers pinned in launch/requirements.txt, from PyPI into the project's virtual
#     environment: .venv in the repository (git ignores it), or $DPST_VENV. CMake finds
#     LibTorch through that environment's torch.utils.cmake_prefix_path.
# The CUDA toolkit (nvcc) is not installed here: where it exists the build uses it
# (CUDA + NCCL), elsewhere it builds for CPU against the same wheel.
# Idempotent: apt-get runs only when a package is missing, pip only when the
# requirements changed since the environment was made.
#   launch/install-deps.sh          to build and run dpst
#   launch/install-deps.sh --test   also the test suite's extras (slurm-wlm, munge)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
source "$here/packages.sh"
venv="${DPST_VENV:-$repo/.venv}"
requirements="$here/requirements.txt"
packages=(
  build-essential cmake ninja-build pkg-config git patchelf
  python3 python3-venv
  "${DPST_LIBRARY_PACKAGES[@]}"
)
# --test: also what only the test suite needs: a real Slurm for `ctest -L slurm` (the
# daemons are started by that test, in a folder of its own, and stopped after it).
if [[ "${1:-}" == "--test" ]]; then
  packages+=(slurm-wlm munge)
fi

# --- 1. Debian packages ----------------------------------------------------------
missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all ${#packages[@]} Debian packages already installed"
else
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  echo "install-deps: installing ${#missing[@]} Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# --- 2. The Python environment with the torch wheel -------------------------------
# Debian's own interpreter, so the environment is the same on every Debian 12 machine.
base_python=/usr/bin/python3
[[ -x "$base_python" ]] || base_python="$(command -v python3)"
stamp="$venv/.dpst-requirements"
if [[ -x "$venv/bin/python" && -f "$stamp" ]] && cmp -s "$stamp" "$requirements"; then
  echo "install-deps: Python environment $venv is up to date"
else
  if [[ ! -x "$venv/bin/python" ]]; then
    echo "install-deps: creating the Python environment $venv"
    "$base_python" -m venv "$venv" || {
      echo "install-deps: error: '$base_python -m venv $venv' failed (is python3-venv installed, is the folder writable?)" >&2
      exit 1
    }
  fi
  echo "install-deps: installing launch/requirements.txt into $venv (the torch wheel is ~1 GB with its CUDA libraries ~3 GB)"
  "$venv/bin/python" -m pip install --quiet --upgrade pip
  if ! "$venv/bin/python" -m pip install --quiet --progress-bar off -r "$requirements"; then
    echo "install-deps: error: pip could not install $requirements into $venv" >&2
    exit 1
  fi
  cp "$requirements" "$stamp"
fi
"$venv/bin/python" - <<'PY'
import torch, torchvision
print(f"install-deps: torch {torch.__version__} (CUDA {torch.version.cuda}), torchvision {torchvision.__version__}; "
      f"LibTorch at {torch.utils.cmake_prefix_path}")
PY
echo "install-deps: done"
