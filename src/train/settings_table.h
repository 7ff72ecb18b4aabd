// The start-up settings table of a pack (llm.c's habit): what this group will actually
// do, after auto values are resolved, printed once before the first step.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "config/config.h"
#include "dist/comm.h"
#include "models/loss_nets.h"
#include "train/pack_trainer.h"
#include "train/trial_run.h"

namespace dpst::train {

struct PackFacts {
  const config::Config* base = nullptr;  // the pack's shared settings (its first trial's config)
  const GroupContext* context = nullptr;
  dist::Comm* comm = nullptr;
  const std::vector<TrialRun>* runs = nullptr;
  const models::LossNets* nets = nullptr;
  bool joint = false;
  bool bf16 = false;
  std::string start;         // "fresh start" or "step N (folder)"
  int64_t dataset_images = 0;
};

// Rows of the table: (setting, value), in print order.
std::vector<std::pair<std::string, std::string>> settings_rows(const PackFacts& facts);

// Logs "effective settings:" and the rows, aligned; warns when a loss net is random.
void print_settings(const PackFacts& facts);

}  // namespace dpst::train
