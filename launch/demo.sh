#!/usr/bin/env bash
# The main job on the bundled demo data, on a fresh Debian 12 machine: installs
# dependencies, builds dpst, packs the bundled photos into HDF5 and runs a small sweep
# (2 styles x lambda3 in {0, 2.8e5}) with `mpirun -np 2 dpst-dist --config configs/demo.yaml`
# on CPU.
# Takes a few minutes on 2 cores. Re-running starts the demo over.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

./launch/install-deps.sh
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build "$BUILD_DIR" -j "$(nproc)" --target dpst-dist pack_coco dpst-eval dpst-stylize

echo "== packing the bundled photos (tests/fixtures/demo/coco) at 64x64"
mkdir -p runs/demo-data
"$BUILD_DIR"/bin/pack_coco --coco-dir tests/fixtures/demo/coco --out runs/demo-data/coco-64.h5 --size 64 --overwrite

weights=()
if [[ -f data/weights/vgg16.h5 && -f data/weights/hourglass.h5 ]]; then
  echo "== using the weight files in data/weights/"
  weights=(--set loss_nets.vgg16_weights=data/weights/vgg16.h5 --set loss_nets.depth_weights=data/weights/hourglass.h5
           --set loss_nets.allow_random_init=false)
else
  echo "== no weight files in data/weights/ (vgg16.h5, hourglass.h5; see README 'Weight files'):"
  echo "   the loss networks start from a fixed random init, so this demo shows the pipeline"
  echo "   working end to end, not a meaningful style"
fi

echo "== training: mpirun -np 2 dpst-dist --config configs/demo.yaml"
mpirun -np 2 --oversubscribe --bind-to none "$BUILD_DIR"/bin/dpst-dist --config configs/demo.yaml \
  --resume none --overwrite "${weights[@]}"

run=runs/demo
echo
echo "== evaluating the sweep on the val photos: dpst-eval $run"
"$BUILD_DIR"/bin/dpst-eval "$run"

echo
echo "== many styles in one f_W: mpirun -np 2 dpst-dist --config configs/demo-styles.yaml (2 trials of 4 styles each)"
mpirun -np 2 --oversubscribe --bind-to none "$BUILD_DIR"/bin/dpst-dist --config configs/demo-styles.yaml \
  --resume none --overwrite "${weights[@]}"
styles_run=runs/demo-styles
"$BUILD_DIR"/bin/dpst-eval "$styles_run"

echo
echo "== demo finished: 4 trials in $run/"
cat "$run/ablation.md"
echo
for trial in "$run"/*/; do
  echo "   $(basename "$trial"): model $trial""model.h5, metrics $trial""metrics.jsonl, checkpoints $trial""checkpoints/"
done
echo "   training summary : $run/summary.md ($run/summary.csv)"
echo "   ablation table   : $run/ablation.md ($run/ablation.csv)"
echo "   image grids      : $(ls "$run"/grid-*.png | tr '\n' ' ')"
echo "   loss curves      : $run/curves.png (all trials), $run/<trial>/curves.png"
echo "   log              : $run/dpst.log"
echo
echo "== 4 styles in one f_W: 2 trials (lambda3 0 and 2.8e5) in $styles_run/"
cat "$styles_run/ablation.md"
echo
echo "   the four styles side by side : $(ls "$styles_run"/grid-styles-*.png | tr '\n' ' ')"
echo "   per-style grids               : $(ls "$styles_run"/grid-*.png | grep -v /grid-styles- | tr '\n' ' ')"
echo "   one style or a blend          : dpst-stylize --model $styles_run/<trial>/model.h5 --style candy=0.5,wave=0.5 ..."
