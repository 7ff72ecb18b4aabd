// src/eval: how good a trained f_W is, and the files that say so (DESIGN.md §10).
//  - metrics.h   pure metric functions: skimage-compatible SSIM, grayscale SSIM, min-max
//                normalisation, Pearson correlation, depth SSIM, ordinal depth agreement
//                (1 − WHDR) on seeded random point pairs;
//  - evaluate.h  one f_W on the first N val images with the loss networks and a trial's
//                loss stack -> EvalMetrics; evaluate_trial() for a finished trial folder
//                (writes <trial>/eval.json, which the sweep calls after each trial);
//  - tables.h    ablation.csv / ablation.md: one row per trial plus the λ3 = 0 baseline
//                view, deterministic text (reruns are byte-identical);
//  - grid.h      per-style PNG grids: content | δ(x) | baseline ŷ | δ(baseline ŷ) | ŷ | δ(ŷ),
//                depth in a fixed colormap with a near/far legend;
//  - sweep_eval.h dpst-eval's work: every FINISHED trial of a sweep folder (or one
//                model.h5) -> tables and grids;
//  - curves.h    loss-curve PNGs from metrics.jsonl (matplotlib post-step): one per
//                trial, one overlay per sweep;
//  - stylize.h   f_W on a photo of any size: padding, bounded-memory tiling with shared
//                InstanceNorm statistics, colour preservation, strength;
//  - stylize_files.h dpst-stylize's files: list, name, stylize, save, skip in one line;
//  - style_mix.h dpst-stylize --style: one style or a blend of a many-style model's rows.
#pragma once

#include "eval/curves.h"
#include "eval/evaluate.h"
#include "eval/grid.h"
#include "eval/metrics.h"
#include "eval/style_mix.h"
#include "eval/stylize.h"
#include "eval/stylize_files.h"
#include "eval/sweep_eval.h"
#include "eval/tables.h"
