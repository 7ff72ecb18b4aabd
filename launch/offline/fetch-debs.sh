#!/usr/bin/env bash
# Step 1 of an offline (air-gapped) build, on a machine WITH internet: downloads the
# Debian 12 (amd64) packages dpst needs besides LibTorch, with every library they depend
# on, into one folder. Copy that folder to the cluster and run build-offline.sh there.
#
#   launch/offline/fetch-debs.sh OUT_DIR
#
# apt resolves the dependencies as if only the base system and the C/C++ toolchain were
# installed (a fake dpkg status holding just those), so the folder also serves a target
# whose other libraries differ from this machine's. glibc, the GCC runtime and the
# toolchain itself are left out: the target has its own, and build-offline.sh never
# unpacks them (offline-common.sh lists them). Needs apt-get and awk; no root.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/offline-common.sh"

if [[ $# -ne 1 || "$1" == -h || "$1" == --help ]]; then
  sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  [[ $# -eq 1 ]] && exit 0 || exit 2
fi
out="$1"
command -v apt-get >/dev/null || offline_die "apt-get not found: run this on a Debian 12 machine with internet"
[[ "$(dpkg --print-architecture 2>/dev/null)" == amd64 ]] ||
  offline_die "this machine is $(dpkg --print-architecture 2>/dev/null || echo unknown), the packages must be amd64"
mkdir -p "$out/partial" || offline_die "cannot create $out"
out="$(cd "$out" && pwd)"

# A dpkg status that holds only the packages the target is assumed to have: the installed
# ones that match OFFLINE_SKIP_REGEX, plus (so apt sees a consistent system) everything
# installed that they depend on.
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
awk -v re="$OFFLINE_SKIP_REGEX" '
  BEGIN { RS = ""; FS = "\n" }
  { name = ""; deps = ""; pv = ""; ok = 0
    for (i = 1; i <= NF; i++) {
      if ($i ~ /^Package: /) name = substr($i, 10)
      else if ($i ~ /^(Pre-)?Depends: /) { d = $i; sub(/^[^:]*: /, "", d); deps = deps ", " d }
      else if ($i ~ /^Provides: /) { pv = $i; sub(/^Provides: /, "", pv) }
      else if ($i ~ /^Status: .* installed$/) ok = 1 }
    if (!ok) next
    sub(/:.*/, "", name); stanza[name] = $0; dep[name] = deps
    n = split(pv, parts, /,/)
    for (j = 1; j <= n; j++) { q = parts[j]; gsub(/\(.*\)|[ \t]/, "", q); provider[q] = name }
    if (name ~ re) keep[name] = 1 }
  END {
    do { grown = 0
      for (p in keep) {
        n = split(dep[p], parts, /[,|]/)
        for (j = 1; j <= n; j++) {
          q = parts[j]; gsub(/\(.*\)|:any|[ \t]/, "", q)
          if (!(q in stanza) && (q in provider)) q = provider[q]
          if (q != "" && (q in stanza) && !(q in keep)) { keep[q] = 1; grown = 1 } } }
    } while (grown)
    for (p in keep) printf "%s\n\n", stanza[p] }' /var/lib/dpkg/status >"$work/status"
grep '^Package:' "$work/status" | sed 's/^Package: //' | sort >"$work/assumed"
echo "fetch-debs: assuming the target has $(wc -l <"$work/assumed") base/toolchain packages" \
     "(glibc, GCC runtime, compilers, perl, python3 and what they need); list in ASSUMED"

apt_opts=(-o "Dir::State::status=$work/status" -o "Dir::Cache::archives=$out" -o Debug::NoLocking=1
          -o APT::Install-Recommends=false -o APT::Get::Download-Only=true -o Dir::Cache::pkgcache=""
          -o Dir::Cache::srcpkgcache="")
echo "fetch-debs: resolving and downloading ${#OFFLINE_PACKAGES[@]} packages and their dependencies into $out"
if ! apt-get "${apt_opts[@]}" -y -q install "${OFFLINE_PACKAGES[@]}" >"$work/apt.log" 2>&1; then
  cat "$work/apt.log" >&2
  offline_die "apt-get could not download the packages (is the package list current? try: apt-get update)"
fi
rm -rf "$out/partial" "$out/lock"
# Record what was fetched, for the unpack step to check and for the user to audit.
(cd "$out" && ls -1 ./*.deb | sed 's|^\./||' >MANIFEST)
cp "$work/assumed" "$out/ASSUMED"
count=$(wc -l <"$out/MANIFEST")
[[ $count -gt 0 ]] || offline_die "nothing was downloaded into $out"
echo "fetch-debs: $count packages, $(du -sh "$out" | cut -f1) in $out"
echo "fetch-debs: next, on the target: launch/offline/build-offline.sh --debs $(basename "$out") --prefix DIR"
