#!/usr/bin/env bash
# Makes the GPU bundle: what one run on a GPU machine without internet, apt or MPI needs
# besides this repository and that machine's own torch 2.11 wheel. launch/device/run.sh
# runs it there; results/device.md says what is in it and why.
#
#   launch/device/bundle.sh [--build DIR] [--max-mib N] OUT
#
# OUT/
#   bin/          dpst-dist, dpst-stylize, pack_coco and test_gpu from DIR/device/bin (the
#                 build without MPI that reads JPEG and PNG only, src/CMakeLists.txt),
#                 stripped, RUNPATH $ORIGIN/../lib
#   libs.tar.xz   lib/: every shared library those binaries load except the torch wheel's
#                 (torch/lib, nvidia/*/lib: the GPU machine has the same wheel) and the base
#                 system (glibc, libstdc++, libgcc_s), found with ldd from the binaries
#                 themselves, stripped, RUNPATH $ORIGIN; and fallback/lib/: this machine's
#                 libstdc++ and libgcc_s, run.sh's second try for a GPU machine whose own
#                 are older than the binaries need. xz -9 takes them from ~45 to ~13 MB;
#                 run.sh unpacks them (unpack_libs below, with python3's tarfile).
#   sysroot.tar.xz  headers, CMake files and link names of the libraries in lib/ (from the
#                 Debian -dev packages): run.sh's third try, a build there from this
#                 repository (launch/device/build-there.sh)
#   manifest.env  what it was built for (torch, CUDA, compiler, glibc) and from (git)
#   CONTENTS.txt  every file with its size, largest first
# Prints the bundle's size, and with the tracked repository the size of one device call
# (at most 64 MiB may travel); exits 1 when that is over --max-mib (default 60).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
source "$here/device-common.sh"

build="$repo/build"
max_mib=60
out=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) build="$(cd "$2" && pwd)"; shift 2 ;;
    --max-mib) max_mib="$2"; shift 2 ;;
    -h|--help) sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "bundle.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) out="$1"; shift ;;
  esac
done
[[ -n "$out" ]] || { echo "bundle.sh: usage: bundle.sh [--build DIR] [--max-mib N] OUT" >&2; exit 2; }

python="${DPST_PYTHON:-$repo/.venv/bin/python}"
[[ -x "$python" ]] || { echo "bundle.sh: $python not found: run ./launch/install-deps.sh first (or set DPST_PYTHON)" >&2; exit 2; }
for b in "${DPST_BUNDLE_BINARIES[@]}"; do
  [[ -x "$build/device/bin/$b" ]] || {
    echo "bundle.sh: $build/device/bin/$b not found: build first (cmake --build $build; ./launch/test.sh builds it)" >&2
    exit 2
  }
done
grep -q 'DPST_HAVE_CUDA=1' "$build/build.ninja" 2>/dev/null || {
  echo "bundle.sh: $build is not a CUDA build (no nvcc at configure time): the bundle is for a GPU machine" >&2
  exit 2
}

site="$(dpst_torch_site "$python")"
export LD_LIBRARY_PATH="$(dpst_torch_library_path "$site")"

rm -rf "$out"
mkdir -p "$out/bin" "$out/lib" "$out/fallback/lib"
out="$(cd "$out" && pwd)"

# --- binaries and the libraries they load -------------------------------------------
declare -A bundled=()
for b in "${DPST_BUNDLE_BINARIES[@]}"; do
  cp "$build/device/bin/$b" "$out/bin/$b"
  strip --strip-unneeded "$out/bin/$b"
  patchelf --set-rpath '$ORIGIN/../lib' "$out/bin/$b"
  while read -r name path; do
    if [[ "$path" == "not" ]]; then
      echo "bundle.sh: $b needs $name, which ldd cannot find on this machine" >&2
      exit 1
    fi
    dpst_is_base_library "$name" && continue
    [[ "$path" == "$site"/* ]] && continue  # the torch wheel's: the GPU machine has its own
    [[ -n "${bundled[$name]:-}" ]] && continue
    bundled[$name]="$path"
    cp -L "$path" "$out/lib/$name"
    chmod u+w "$out/lib/$name"
    strip --strip-unneeded "$out/lib/$name" 2>/dev/null || true
    patchelf --set-rpath '$ORIGIN' "$out/lib/$name"
  done < <(ldd "$build/device/bin/$b" | awk '/=>/ {print $1, $3}')
done
for name in libstdc++.so.6 libgcc_s.so.1; do
  cp -L "$(ldconfig -p | awk -v n="$name" '$1 == n && /x86-64/ {print $NF; exit}')" "$out/fallback/lib/$name"
done

# --- what a build on the GPU machine needs (run.sh's third try) ---------------------
"$here/make-sysroot.sh" "$out/sysroot" "$out/lib"  # -> sysroot.tar.xz

# --- manifest -----------------------------------------------------------------------
max_symbol_version() {  # highest GLIBC_x.y / GLIBCXX_x.y.z any bundled file needs
  find "$out/bin" "$out/lib" -type f -exec objdump -T {} + 2>/dev/null |
    grep -o "$1_[0-9][0-9.]*" | sort -uV | tail -1
}
{
  echo "# The GPU bundle's build, read by launch/device/run.sh (shell syntax)."
  echo "DPST_BUNDLE_TORCH='$("$python" -c 'import torch; print(torch.__version__)')'"
  echo "DPST_BUNDLE_TORCH_CUDA='$("$python" -c 'import torch; print(torch.version.cuda)')'"
  echo "DPST_BUNDLE_NVCC='$(nvcc --version 2>/dev/null | sed -n 's/.*release \([0-9.]*\).*/\1/p' || echo none)'"
  echo "DPST_BUNDLE_COMPILER='$(${CXX:-c++} --version | head -1)'"
  echo "DPST_BUNDLE_GLIBC='$(ldd --version | head -1 | awk '{print $NF}')'"
  echo "DPST_BUNDLE_NEEDS_GLIBC='$(max_symbol_version GLIBC)'"
  echo "DPST_BUNDLE_NEEDS_GLIBCXX='$(max_symbol_version GLIBCXX)'"
  echo "DPST_BUNDLE_GIT='$(git -C "$repo" describe --always --dirty 2>/dev/null || echo unknown)'"
  echo "DPST_BUNDLE_MADE='$(date -u +%Y-%m-%dT%H:%M:%SZ)'"
} > "$out/manifest.env"
(cd "$out" && find . -type f -printf '%s\t%P\n' | sort -rn > CONTENTS.txt)
# The libraries travel compressed (CONTENTS.txt lists them as unpacked).
tar -C "$out" -cf - lib fallback | xz -9 -T0 > "$out/libs.tar.xz"
rm -rf "$out/lib" "$out/fallback"
printf '%s\t%s\n' "$(stat -c %s "$out/libs.tar.xz")" "libs.tar.xz (lib/ and fallback/lib/ as they travel)" >> "$out/CONTENTS.txt"
sort -rn -o "$out/CONTENTS.txt" "$out/CONTENTS.txt"

# --- size ---------------------------------------------------------------------------
bundle_bytes=$(du -sb "$out" | cut -f1)
repo_bytes=$(git -C "$repo" ls-files -z | (cd "$repo" && du -cb --files0-from=- 2>/dev/null) | tail -1 | cut -f1)
mib() { awk -v b="$1" 'BEGIN {printf "%.1f", b / 1048576}'; }
echo "bundle.sh: $out: $(mib "$bundle_bytes") MiB as it travels ($(grep -c $'\tlib/' "$out/CONTENTS.txt") libraries," \
     "$(mib "$(awk -F'\t' '$2 !~ /^libs.tar.xz/ {s += $1} END {print s}' "$out/CONTENTS.txt")") MiB unpacked); with the tracked repository ($(mib "$repo_bytes") MiB)" \
     "one device call carries $(mib $((bundle_bytes + repo_bytes))) MiB (limit $max_mib)"
if (( bundle_bytes + repo_bytes > max_mib * 1048576 )); then
  echo "bundle.sh: error: bundle + repository exceed $max_mib MiB; see results/device.md for what to leave out" >&2
  exit 1
fi
