# Shared by fetch-debs.sh and build-offline.sh (sourced, not run).
source "$(dirname "${BASH_SOURCE[0]}")/../packages.sh"
OFFLINE_PACKAGES=("${DPST_LIBRARY_PACKAGES[@]}")

# Packages the target must already have and that are never unpacked into the prefix:
# glibc (it has to match the target's dynamic loader), the GCC runtime and toolchain (the
# target's compiler brings newer ones), and the base system, perl and python3.
OFFLINE_SKIP_REGEX='^(libc6|libc6-dev|libc-bin|libc-dev-bin|libc-l10n|linux-libc-dev|libcrypt1|libcrypt-dev|libnsl2|libnsl-dev|libtirpc[0-9a-z-]*|libgcc-s1|libgcc-[0-9]+-dev|libstdc\+\+6|libstdc\+\+-[0-9]+-dev|libgomp1|libatomic1|libquadmath0|libitm1|libasan[0-9]+|liblsan0|libtsan[0-9]+|libubsan1|libhwasan0|libcc1-0|gcc-[0-9]+-base|gcc(-[0-9]+)?|g\+\+(-[0-9]+)?|cpp(-[0-9]+)?|gfortran(-[0-9]+)?|libgfortran-[0-9]+-dev|binutils[a-z0-9-]*|libbinutils|libctf[a-z0-9-]*|libgprofng0|libjansson4|libisl23|libmpc3|libmpfr6|libgmp10|base-files|base-passwd|bash|dash|coreutils|debconf|debianutils|dpkg|tar|sed|grep|findutils|diffutils|gzip|util-linux|mount|login|passwd|sensible-utils|perl|perl-base|perl-modules-[0-9.]+|libperl[0-9.]+|python3(\.[0-9]+)?|python3-minimal|python3(\.[0-9]+)?-minimal|libpython3(\.[0-9]+)?(-minimal|-stdlib)?|media-types|tzdata|readline-common|libreadline8|libtinfo6|libncursesw6|libselinux1|libpcre2-8-0|zlib1g|libzstd1|liblzma5|libbz2-1.0|libsystemd0|libudev1|libcap2|libgcrypt20|libgpg-error0|liblz4-1|libacl1|libattr1|libaudit1|libaudit-common|libpam[a-z0-9-]*|libsemanage[a-z0-9-]*|libsepol2|libdb5.3|libmd0|libdebconfclient0|init-system-helpers|lsb-base|sysvinit-utils)$'

offline_die() { echo "error: $*" >&2; exit 1; }
