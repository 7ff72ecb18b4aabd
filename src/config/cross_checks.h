// Rules that involve more than one key (run after every key is individually valid).
#pragma once

#include <vector>

#include "config/config.h"

namespace dpst::config {

std::vector<Problem> cross_field_problems(const Config& config, int world_size);

}  // namespace dpst::config
