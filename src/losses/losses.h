// src/losses: the loss terms and the loss stack of one trial (DESIGN.md §6).
//  - term_names.h  the one list of loss-term names (logs, metrics, tables address terms by it);
//  - terms.h       content, style (Gram), depth and TV terms, exactly as specified;
//  - trial_loss.h  Targets from x (once per step, no-grad, shared by a pack of trials),
//                  style Grams (once per trial), TrialLoss producing the named terms,
//                  and the NaN/Inf check that names the diverged term.
#pragma once

#include "losses/term_names.h"
#include "losses/terms.h"
#include "losses/trial_loss.h"
