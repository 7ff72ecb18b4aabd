// src/train: training trials on rank groups.
//  - job.h             what dpst-dist runs after the configuration is loaded: run folder,
//                      rank groups, devices, threads, signals, exit codes;
//  - pack_trainer.h    set-up, resume and the training loop of one pack of co-trained trials;
//  - pack_step.h       one optimizer step of a pack: the forward-backward path of both
//                      frozen-pass modes, the ranks' agreement, NaN handling, Adam;
//  - trial_run.h       one trial of a pack while it trains;
//  - trial_net.h       a trial's f_W: one style, several, or styles added to a trained one,
//                      and which of its parameters train;
//  - settings_table.h  the start-up settings table;
//  - step_timer.h      where a log window's time went (step, loader wait, communication);
//  - phase_timer.h     train.phase_timing: time per phase of a step;
//  - mixed_precision.h train.precision: bf16 autocast around the forward passes;
//  - trial.h           a trial to train and its status (new / in progress / finished / failed);
//  - trial_state.h     what a checkpoint holds for a trial, bit-exact;
//  - checkpoint_store.h checkpoint folders that count once their DONE marker exists, keep-K;
//  - stop_signal.h     SIGTERM/SIGUSR1 -> checkpoint and requeue.
// The files of a trial folder belong to src/trial_folder.
#pragma once

#include "train/checkpoint_store.h"
#include "train/job.h"
#include "train/pack_trainer.h"
#include "train/trial.h"
