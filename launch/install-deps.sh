#!/usr/bin/env bash
# Installs everything dpst needs to build and test on Debian 12, with apt-get.
# Idempotent: packages already present are left alone; apt-get update runs only
# when something is missing. Run as root (or with sudo available).
#
#   launch/install-deps.sh            build + test dependencies
#   launch/install-deps.sh --python   also the Python packages used to regenerate
#                                     golden files and run the Python baselines
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/packages.sh"
packages=(
  build-essential cmake ninja-build pkg-config git
  libtorch-dev
  # LibTorch's GEMMs go through libblas.so.3: OpenBLAS instead of the reference BLAS
  # (a CPU training step 1.7-1.9x faster; README "Measured").
  libopenblas0-openmp
  "${DPST_LIBRARY_PACKAGES[@]}"
)
python_packages=(python3-torch python3-torchvision python3-h5py python3-pil python3-numpy python3-skimage)

if [[ "${1:-}" == "--python" ]]; then
  packages+=("${python_packages[@]}")
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all ${#packages[@]} packages already installed"
  exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
echo "install-deps: installing ${#missing[@]} packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "install-deps: done"
