# What bundle.sh, run.sh and build-there.sh share (sourced, not run).

# The binaries of build/device/bin that the GPU run needs.
DPST_BUNDLE_BINARIES=(dpst-dist dpst-stylize pack_coco test_gpu)

# The site-packages folder that holds PYTHON's torch wheel.
dpst_torch_site() {
  "$1" -c 'import os, torch; print(os.path.dirname(os.path.dirname(torch.__file__)))'
}

# The library folders of a torch wheel installed in site-packages SITE: torch/lib and
# every nvidia/*/lib (CUDA runtime, cuDNN, cuBLAS, NCCL, ...), colon-separated.
dpst_torch_library_path() {
  local site="$1" path="$1/torch/lib" d
  for d in "$site"/nvidia/*/lib; do
    [[ -d "$d" ]] && path="$path:$d"
  done
  echo "$path"
}

# True for the libraries every Linux machine has and a bundle must not replace: glibc's
# (libc, libm, libdl, libpthread, librt, libresolv, libutil, the loader), libstdc++ and
# libgcc_s (those two have a fallback copy in the bundle: fallback/lib).
dpst_is_base_library() {
  [[ "$1" =~ ^(libc|libm|libdl|libpthread|librt|libresolv|libutil|libmvec|ld-linux-x86-64|libstdc\+\+|libgcc_s)\.so ]]
}

# Unpacks ARCHIVE (.tar.xz) into DEST with PYTHON's tarfile, so that the GPU machine
# needs no xz.
dpst_untar() {
  "$3" - "$1" "$2" <<'PY'
import sys, tarfile
with tarfile.open(sys.argv[1]) as archive:
    try:
        archive.extractall(sys.argv[2], filter="tar")
    except TypeError:  # a Python without extraction filters (< 3.11.4)
        archive.extractall(sys.argv[2])
PY
}

# BUNDLE/libs.tar.xz into BUNDLE (lib/, fallback/lib/); nothing when lib/ is there already.
dpst_unpack_libs() {
  [[ -d "$1/lib" ]] || dpst_untar "$1/libs.tar.xz" "$1" "$2"
}
