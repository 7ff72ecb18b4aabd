// src/train: training trials on rank groups.
//  - job.h             what dpst-dist runs after the configuration is loaded: run folder,
//                      rank groups, devices, threads, signals, exit codes;
//  - pack_trainer.h    the training loop for one pack of co-trained trials;
//  - step_timer.h      where a log window's time went (step, loader wait, communication);
//  - mixed_precision.h train.precision: bf16 autocast around the forward passes;
//  - trial.h           a trial's folder and status (new / in progress / finished / failed);
//  - trial_state.h     what a checkpoint holds for a trial, bit-exact;
//  - checkpoint_store.h checkpoint folders that count once their DONE marker exists, keep-K;
//  - run_files.h       metrics.jsonl and progress.yml;
//  - stop_signal.h     SIGTERM/SIGUSR1 -> checkpoint and requeue.
#pragma once

#include "train/checkpoint_store.h"
#include "train/job.h"
#include "train/pack_trainer.h"
#include "train/trial.h"
