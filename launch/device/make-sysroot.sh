#!/usr/bin/env bash
# What a build of dpst on the GPU machine needs that the machine lacks (run.sh's third
# way to start, through build-there.sh): the headers, CMake package files and static
# test libraries of the Debian -dev packages dpst builds against, and their link names
# pointing at the bundle's own libraries. Written as SYSROOT.tar.xz (headers compress
# about 8:1); LibTorch, CUDA and NCCL come from the GPU machine's torch wheel and toolkit.
#
#   launch/device/make-sysroot.sh SYSROOT LIBDIR     (called by bundle.sh)
set -euo pipefail
sysroot="${1:?usage: make-sysroot.sh SYSROOT LIBDIR}"
libdir="$(cd "${2:?usage: make-sysroot.sh SYSROOT LIBDIR}" && pwd)"
packages=(libyaml-cpp-dev libspdlog-dev libfmt-dev libhdf5-dev libopencv-core-dev libopencv-imgproc-dev
          libcli11-dev nlohmann-json3-dev libturbojpeg0-dev libpng-dev zlib1g-dev libgtest-dev libgmock-dev)
rm -rf "$sysroot" "$sysroot.tar.xz"
mkdir -p "$sysroot"
for p in "${packages[@]}"; do
  dpkg-query -W "$p" > /dev/null 2>&1 || { echo "make-sysroot.sh: Debian package $p is not installed" >&2; exit 1; }
  dpkg -L "$p" | while read -r f; do
    case "$f" in
      /usr/include/*|/usr/lib/x86_64-linux-gnu/cmake/*|/usr/lib/x86_64-linux-gnu/pkgconfig/*|/usr/share/cmake/*) ;;
      /usr/lib/x86_64-linux-gnu/libgtest*.a|/usr/lib/x86_64-linux-gnu/libgmock*.a) ;;
      *.so) ;;
      *) continue ;;
    esac
    [[ -d "$f" && ! -L "$f" ]] && continue
    [[ "$f" == *fortran* || "$f" == *.mod ]] && continue
    [[ "$f" == */cmake/libjpeg-turbo/* ]] && continue  # names /usr paths; DPST_DEVICE_ONLY finds the library itself
    mkdir -p "$sysroot$(dirname "$f")"
    if [[ "$f" == *.so ]]; then
      # A link name: to the bundle's copy of the library it names, if the bundle has it.
      soname="$(readelf -d "$(readlink -f "$f")" 2>/dev/null | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')"
      [[ -n "$soname" && -f "$libdir/$soname" ]] || continue
      ln -sf "$(realpath --relative-to="$sysroot$(dirname "$f")" "$libdir/$soname")" "$sysroot$f"
      # CMake package files name the fully versioned file (libyaml-cpp.so.0.7.0): link it too.
      real="$(readlink -f "$f")"
      mkdir -p "$sysroot$(dirname "$real")"
      ln -sf "$(realpath --relative-to="$sysroot$(dirname "$real")" "$libdir/$soname")" "$sysroot$real"
    else
      cp -P "$f" "$sysroot$f"
    fi
  done
done
tar -C "$(dirname "$sysroot")" -cJf "$sysroot.tar.xz" "$(basename "$sysroot")"
rm -rf "$sysroot"
echo "make-sysroot.sh: $sysroot.tar.xz: $(du -h "$sysroot.tar.xz" | cut -f1) ($(tar -tJf "$sysroot.tar.xz" | wc -l) entries)"
