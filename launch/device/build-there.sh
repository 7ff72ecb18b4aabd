#!/usr/bin/env bash
# run.sh's third way to start: builds the bundle's binaries on the GPU machine itself from
# this repository, against that machine's torch wheel and CUDA toolkit and the bundle's
# sysroot.tar.xz (headers and CMake files of the Debian libraries, linked against the
# bundle's lib/). CMake's DPST_DEVICE_ONLY mode leaves out MPI and OpenCV imgcodecs.
#
#   launch/device/build-there.sh --bundle DIR [--python PY] [--jobs N] [--configure-only] BUILD_DIR
#
# On 16 cores: about 2 minutes of compiling (results/device.md has the estimate).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
source "$here/device-common.sh"
bundle="" python=python3 jobs="$(nproc)" build="" configure_only=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --bundle) bundle="$(cd "$2" && pwd)"; shift 2 ;;
    --python) python="$2"; shift 2 ;;
    --jobs) jobs="$2"; shift 2 ;;
    --configure-only) configure_only=1; shift ;;
    -*) echo "build-there.sh: unknown option $1" >&2; exit 2 ;;
    *) build="$1"; shift ;;
  esac
done
[[ -n "$bundle" && -n "$build" ]] || { echo "build-there.sh: usage: build-there.sh --bundle DIR [--python PY] BUILD_DIR" >&2; exit 2; }
for tool in cmake ninja nvcc; do
  command -v "$tool" > /dev/null || { echo "build-there.sh: $tool is not on PATH" >&2; exit 1; }
done
python="$(command -v "$python")" && python="$(cd "$(dirname "$python")" && pwd)/$(basename "$python")"  # absolute, links kept
mkdir -p "$build"
build="$(cd "$build" && pwd)"
dpst_unpack_libs "$bundle" "$python"
dpst_untar "$bundle/sysroot.tar.xz" "$build" "$python"
prefix="$build/sysroot/usr"
# The links in the sysroot point at the bundle's lib/ relative to where bundle.sh made
# them: make them absolute to this bundle.
find "$prefix" -name '*.so*' -type l | while read -r link; do
  ln -sf "$bundle/lib/$(basename "$(readlink "$link")")" "$link"
done
arch=x86_64-linux-gnu
# HDF5: no h5cc wrapper (where one exists its link line names that machine's /usr), the
# sysroot's header and library instead.
cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DDPST_DEVICE_ONLY=ON -DDPST_WITH_CUDA=ON \
  -DDPST_PYTHON="$python" -DCMAKE_PREFIX_PATH="$prefix;$prefix/lib/$arch/cmake" \
  -DCMAKE_LIBRARY_PATH="$prefix/lib/$arch" -DCMAKE_INCLUDE_PATH="$prefix/include" \
  -DHDF5_C_COMPILER_EXECUTABLE=OFF -DHDF5_C_INCLUDE_DIR="$prefix/include/hdf5/serial" -DHDF5_C_LIBRARY_hdf5="$prefix/lib/$arch/hdf5/serial/libhdf5.so" \
  -DOPENCV_INCLUDE_DIR="$prefix/include/opencv4"
if (( configure_only )); then echo "build-there.sh: configured $build"; exit 0; fi
# The linker follows the bundled libraries' own dependencies (libhdf5 -> libcurl, ...).
site="$(dpst_torch_site "$python")"
export LD_LIBRARY_PATH="$bundle/lib:$(dpst_torch_library_path "$site")"
targets=()
for b in "${DPST_BUNDLE_BINARIES[@]}"; do targets+=("device_$b"); done
ninja -C "$build" -j "$jobs" "${targets[@]}"
echo "build-there.sh: built ${DPST_BUNDLE_BINARIES[*]} in $build/device/bin"
