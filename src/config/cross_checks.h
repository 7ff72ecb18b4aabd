// Rules that involve more than one key (run after every key is individually valid).
#pragma once

#include <vector>

#include "config/config.h"

namespace dpst::config {

// for_run: the configuration is about to be used for work (not just printed), so the
// rules about which weight files must be present apply too.
std::vector<Problem> cross_field_problems(const Config& config, int world_size, bool for_run);

}  // namespace dpst::config
