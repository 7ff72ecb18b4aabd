#!/usr/bin/env bash
# ctest -L device: the GPU bundle, made and rehearsed as it would run on the GPU machine.
#
#   tests/launch/test_device_rehearsal.sh SOURCE_DIR BUILD_DIR
#
#  1. launch/device/bundle.sh makes the bundle from BUILD_DIR (it fails itself when the
#     bundle plus the tracked repository exceed 60 MiB);
#  2. launch/device/run.sh --rehearse runs every step of the GPU run from a copy of it on
#     this CPU at tiny sizes, with the ldd check; every step must end ok, skipped (with its
#     reason) or with a benchmark target missed (the GPU targets mean nothing on a CPU);
#  3. the checks can fail: a bundle without one of its libraries fails the start step
#     naming the library; a bundle built for another torch stops with the one-line
#     reason (exit 3); the solo dpst-dist refuses a multi-rank launch.
# Exit: 0 pass, 1 fail, 77 skipped (a build without CUDA has no bundle to make).
set -uo pipefail
src="$(cd "${1:?usage: test_device_rehearsal.sh SOURCE_DIR BUILD_DIR}" && pwd)"
build="$(cd "${2:?usage: test_device_rehearsal.sh SOURCE_DIR BUILD_DIR}" && pwd)"
fail() { echo "device-test: FAILED: $*" >&2; exit 1; }
if ! grep -q 'DPST_HAVE_CUDA=1' "$build/build.ninja" 2>/dev/null; then
  echo "device-test: skipped: $build is not a CUDA build (no nvcc at configure time), so it makes no GPU bundle"
  exit 77
fi
work="$(mktemp -d "${TMPDIR:-/tmp}/dpst-device-test.XXXXXX")"
trap 'rm -rf "$work"' EXIT

echo "device-test: 1. bundle"
"$src/launch/device/bundle.sh" --build "$build" "$work/bundle" || fail "bundle.sh failed"

echo "device-test: 2. run.sh --rehearse"
"$src/launch/device/run.sh" --rehearse --bundle "$work/bundle" "$work/out"
rc=$?
[[ -f "$work/out/summary.txt" ]] || fail "run.sh wrote no summary.txt"
# A device call brings back at most 8 files.
(( $(find "$work/out" -type f | wc -l) <= 8 )) || fail "run.sh left more than 8 files in OUTDIR: $(ls "$work/out")"
for step in machine start data tests bf16 speed phases; do
  grep -qE "^$step +(ok|skipped|target-missed) " "$work/out/summary.txt" ||
    fail "step $step did not run to its end: $(grep -E "^$step " "$work/out/summary.txt")"
done
(( rc == 0 )) || fail "run.sh --rehearse exited $rc"
grep -qE '^tests +skipped .*no CUDA device' "$work/out/summary.txt" || fail "the GPU test cases did not report their skip"
grep -q 'phase_f_w_forward_ms' "$work/out/phases.txt" 2>/dev/null || grep -q 'f_w_forward' "$work/out/phases.txt" ||
  fail "the phase table has no f_W forward row"

echo "device-test: 3. the checks catch what they name"
python="${DPST_PYTHON:-$src/.venv/bin/python}"
source "$src/launch/device/device-common.sh"
cp -a "$work/bundle" "$work/broken"
dpst_unpack_libs "$work/broken" "$python" || fail "cannot unpack the bundle's libs.tar.xz"
victim="$(ls "$work/broken/lib" | grep -m1 '^libyaml-cpp')"
[[ -n "$victim" ]] || fail "no libyaml-cpp in the bundle's lib/ (what does dpst-dist load?)"
rm "$work/broken/lib/$victim"
"$src/launch/device/run.sh" --rehearse --bundle "$work/broken" "$work/out-broken" > "$work/broken.log" 2>&1
grep -qE "^start +failed .*$victim" "$work/out-broken/summary.txt" ||
  fail "a bundle without $victim passed the start step: $(grep '^start' "$work/out-broken/summary.txt")"

cp -a "$work/bundle" "$work/other-torch"
sed -i "s/^DPST_BUNDLE_TORCH=.*/DPST_BUNDLE_TORCH='2.0.0+cu118'/" "$work/other-torch/manifest.env"
"$src/launch/device/run.sh" --rehearse --bundle "$work/other-torch" "$work/out-other" > "$work/other.log" 2>&1
rc=$?
(( rc == 3 )) || fail "a bundle for another torch exited $rc, not 3"
grep -q "^run.sh: stop: this machine's torch is .* but the bundle was built against 2.0.0+cu118" "$work/other.log" ||
  fail "no one-line reason for the torch mismatch: $(tail -2 "$work/other.log")"

dpst_unpack_libs "$work/bundle" "$python" || fail "cannot unpack the bundle's libs.tar.xz"
export LD_LIBRARY_PATH="$work/bundle/lib:$(dpst_torch_library_path "$(dpst_torch_site "$python")")"
out="$(OMPI_COMM_WORLD_SIZE=2 "$work/bundle/bin/dpst-dist" --check 2>&1)"
rc=$?
(( rc == 2 )) || fail "the solo dpst-dist under a 2-rank launcher exited $rc, not 2: $out"
[[ "$out" == *"built without MPI"*"a launcher started 2 ranks"* ]] || fail "no reason for refusing 2 ranks: $out"

# The bundle's build reads JPEG and PNG only, and says so naming the file.
"$work/bundle/bin/pack_coco" --coco-dir "$src/tests/fixtures/demo/coco" --out "$work/demo-32.h5" --size 32 \
  > "$work/pack.log" 2>&1 || fail "the bundle's pack_coco failed: $(tail -2 "$work/pack.log")"
"$python" -c "from PIL import Image; Image.new('RGB', (16, 16), (200, 40, 40)).save('$work/style.bmp')"
out="$("$work/bundle/bin/dpst-dist" --set data.path="$work/demo-32.h5" --set data.image_size=32 \
  --set loss.style_image="$work/style.bmp" --set loss_nets.allow_random_init=true --set train.iterations=1 \
  --set train.device=cpu --set model.width=8 --set model.residual_blocks=1 --set run.output_dir="$work/bmp" 2>&1)"
rc=$?
(( rc == 3 )) || fail "a BMP style image exited $rc, not 3 (bad input): $out"
[[ "$out" == *"style.bmp: not an image"*"reads JPEG and PNG only"* ]] || fail "the BMP message does not say why: $out"

# run.sh's third way: the DPST_DEVICE_ONLY configure against the bundle's sysroot (the
# build itself takes ~12 CPU-minutes, too long for every CI run; results/device.md).
"$src/launch/device/build-there.sh" --bundle "$work/bundle" --python "$python" --configure-only "$work/there" \
  > "$work/there.log" 2>&1 || fail "build-there.sh --configure-only failed: $(tail -3 "$work/there.log")"
grep -q "✗ MPI" "$work/there.log" || fail "the device-only configure looked for MPI"
for b in dpst-dist dpst-stylize pack_coco test_gpu; do
  grep -q "build device/bin/$b:" "$work/there/build.ninja" || fail "the device-only configure has no target for $b"
done

echo "device-test: passed"
cat "$work/out/summary.txt"
