#!/usr/bin/env bash
# Step 2 of an offline (air-gapped) build, on the target: unpacks the .deb files that
# fetch-debs.sh downloaded into a prefix (no root, no apt, no dpkg database), then
# configures and builds dpst against that prefix plus the LibTorch of the installed
# PyTorch wheel. CUDA comes from the wheel's LibTorch and the CUDA toolkit on PATH (nvcc);
# NCCL from the wheel's nvidia/nccl package or NCCL_ROOT.
#
#   launch/offline/build-offline.sh --debs DIR --prefix DIR [options] [-- CMAKE_ARGS...]
#
#   --debs DIR          folder written by fetch-debs.sh (with its MANIFEST)
#   --prefix DIR        where the packages are unpacked (created; reused if unpacked before)
#   --build DIR         build folder (default: build-offline)
#   --python EXE        the Python that holds torch (default: the repository's .venv/bin/python
#                       when launch/install-deps.sh made it, else python3)
#   --torch-prefix DIR  a LibTorch CMake prefix instead of torch.utils.cmake_prefix_path
#   --cuda auto|on|off  DPST_WITH_CUDA (default: auto; on fails when CUDA is not found)
#   --no-build          configure only
#
# Afterwards: `source PREFIX/dpst-env.sh` (Open MPI's tools and plugins from the prefix),
# then `ctest --test-dir BUILD`. The binaries carry an RPATH into the prefix.
# Exit codes: 0 done, 1 a step failed (the message names the file), 2 bad arguments.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
source "$here/offline-common.sh"

usage() { sed -n '2,21p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
usage_error() { usage >&2; echo "error: $*" >&2; exit 2; }
debs="" prefix="" build="build-offline" python="python3" torch_prefix="" cuda="auto" do_build=1
if [[ -x "$repo/.venv/bin/python" ]]; then python="$repo/.venv/bin/python"; fi
cmake_extra=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --debs) debs="${2:?--debs needs a folder}"; shift 2 ;;
    --prefix) prefix="${2:?--prefix needs a folder}"; shift 2 ;;
    --build) build="${2:?--build needs a folder}"; shift 2 ;;
    --python) python="${2:?--python needs an executable}"; shift 2 ;;
    --torch-prefix) torch_prefix="${2:?--torch-prefix needs a folder}"; shift 2 ;;
    --cuda) cuda="${2:?--cuda needs auto, on or off}"; shift 2 ;;
    --no-build) do_build=0; shift ;;
    -h|--help) usage; exit 0 ;;
    --) shift; cmake_extra=("$@"); break ;;
    *) usage_error "unknown argument '$1'" ;;
  esac
done
[[ -n "$debs" && -n "$prefix" ]] || usage_error "--debs and --prefix are required"
case "$cuda" in auto) cuda=AUTO ;; on) cuda=ON ;; off) cuda=OFF ;; *) usage_error "--cuda: '$cuda' is not auto, on or off" ;; esac
[[ -f "$debs/MANIFEST" ]] || offline_die "$debs/MANIFEST not found: --debs must be a folder written by fetch-debs.sh"
for tool in cmake ninja; do command -v "$tool" >/dev/null || offline_die "$tool not found on PATH"; done

# --- 1. unpack ----------------------------------------------------------------
mkdir -p "$prefix" || offline_die "cannot create $prefix"
prefix="$(cd "$prefix" && pwd)"
extract() {  # dpkg-deb where there is one; else the .deb's ar members by hand
  if command -v dpkg-deb >/dev/null; then dpkg-deb -x "$1" "$prefix"; return; fi
  local member
  member="$(ar t "$1" | grep '^data\.tar')" || return 1
  case "$member" in
    *.xz) ar p "$1" "$member" | tar -xJ -C "$prefix" ;;
    *.zst) ar p "$1" "$member" | zstd -dc | tar -x -C "$prefix" ;;
    *.gz) ar p "$1" "$member" | tar -xz -C "$prefix" ;;
    *) ar p "$1" "$member" | tar -x -C "$prefix" ;;
  esac
}
stamp="$prefix/.dpst-unpacked"
if [[ -f "$stamp" ]] && cmp -s "$stamp" "$debs/MANIFEST"; then
  echo "build-offline: $prefix already holds the packages of $debs/MANIFEST"
else
  rm -f "$stamp"  # a failure half-way leaves no stamp: the next run unpacks again
  total=$(wc -l <"$debs/MANIFEST") n=0
  while read -r deb; do
    n=$((n + 1))
    [[ -f "$debs/$deb" ]] || offline_die "$debs/$deb is listed in MANIFEST but missing"
    # Never unpack what must come from the target (a glibc from the prefix would not match its loader).
    pkg="${deb%%_*}"
    if [[ "$pkg" =~ $OFFLINE_SKIP_REGEX ]]; then echo "build-offline: skipping $deb (the target's own)"; continue; fi
    extract "$debs/$deb" || offline_die "cannot unpack $debs/$deb (corrupt or truncated download?)"
    (( n % 25 == 0 || n == total )) && echo "build-offline: unpacked $n/$total packages"
  done <"$debs/MANIFEST"
  # Absolute symlinks point into the target's /usr; re-point those whose file is in the prefix.
  while IFS= read -r link; do
    dest="$(readlink "$link")"
    if [[ -e "$prefix$dest" ]]; then ln -sfn "$prefix$dest" "$link"; fi
  done < <(find "$prefix" -type l -lname '/*')
  # What the packages' maintainer scripts would have made with update-alternatives.
  for tool in mpicc mpicxx mpic++ mpirun mpiexec; do
    [[ -e "$prefix/usr/bin/$tool.openmpi" ]] && ln -sfn "$tool.openmpi" "$prefix/usr/bin/$tool"
  done
  # Some packages' CMake files name files under /usr literally (libjpeg-turbo's targets, for
  # one): point each such quoted path that exists in the prefix there.
  while IFS= read -r f; do
    while IFS= read -r quoted; do
      path="${quoted:1:${#quoted}-2}"
      [[ -e "$prefix$path" ]] && sed -i "s|\"$path\"|\"$prefix$path\"|g" "$f"
    done < <(grep -o '"/usr[^"]*"' "$f" | sort -u)
  done < <(grep -rl '"/usr' "$prefix/usr/lib/x86_64-linux-gnu/cmake" "$prefix/usr/share/cmake" 2>/dev/null || true)
  # HDF5's compiler wrappers name their install prefix literally; CMake asks them for flags.
  for wrapper in h5cc h5c++; do
    [[ -f "$prefix/usr/bin/$wrapper" ]] && sed -i "s|^prefix=\"/usr\"|prefix=\"$prefix/usr\"|" "$prefix/usr/bin/$wrapper"
  done
  cp "$debs/MANIFEST" "$stamp"
fi

lib="$prefix/usr/lib/x86_64-linux-gnu"
[[ -d "$lib" ]] || offline_die "$lib not found after unpacking: were the packages for amd64?"
[[ -x "$prefix/usr/bin/mpicc.openmpi" ]] || offline_die "Open MPI's mpicc is not in $prefix/usr/bin: is libopenmpi-dev in $debs?"
cat >"$prefix/dpst-env.sh" <<EOF
# Source this before running dpst built by build-offline.sh: Open MPI's tools and plugins
# (mpirun, orted) come from this prefix, relocated by OPAL_PREFIX.
export OPAL_PREFIX="$prefix/usr"
export PATH="$prefix/usr/bin:\$PATH"
export LD_LIBRARY_PATH="$lib:$lib/openmpi/lib\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
EOF
# shellcheck disable=SC1091
source "$prefix/dpst-env.sh"

# --- 2. configure -------------------------------------------------------------
if [[ -z "$torch_prefix" ]]; then
  torch_prefix="$("$python" -c 'import torch; print(torch.utils.cmake_prefix_path)' 2>/dev/null)" ||
    offline_die "'$python' cannot import torch: pass --python with the interpreter that holds PyTorch, or --torch-prefix"
fi
[[ -d "$torch_prefix" ]] || offline_die "LibTorch CMake prefix '$torch_prefix' does not exist"
python_exe="$(command -v "$python" || true)"
echo "build-offline: LibTorch from $torch_prefix; libraries from $prefix"
rpath="$lib;$lib/hdf5/serial;$lib/openmpi/lib"
cmake -S "$repo" -B "$build" -G Ninja --no-warn-unused-cli \
  -DCMAKE_PREFIX_PATH="$torch_prefix;$prefix/usr;$lib/cmake" \
  -DCMAKE_INCLUDE_PATH="$prefix/usr/include;$prefix/usr/include/hdf5/serial" \
  -DCMAKE_LIBRARY_PATH="$lib;$lib/hdf5/serial" \
  -DMPI_C_COMPILER="$prefix/usr/bin/mpicc.openmpi" \
  -DMPIEXEC_EXECUTABLE="$prefix/usr/bin/mpirun.openmpi" \
  -DHDF5_ROOT="$prefix/usr" \
  -DHDF5_C_COMPILER_EXECUTABLE="$prefix/usr/bin/h5cc" \
  -DCMAKE_BUILD_RPATH="$rpath" -DCMAKE_INSTALL_RPATH="$rpath" \
  ${python_exe:+-DDPST_PYTHON="$python_exe"} \
  -DDPST_WITH_CUDA="$cuda" "${cmake_extra[@]}" ||
  offline_die "configuring dpst against $prefix failed (see the CMake messages above)"

# --- 3. build -----------------------------------------------------------------
if [[ $do_build -eq 1 ]]; then
  cmake --build "$build" -j "$(nproc)" || offline_die "building dpst in $build failed"
  echo "build-offline: built in $build. Next: source $prefix/dpst-env.sh && ctest --test-dir $build"
fi
