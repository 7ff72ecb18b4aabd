// Helpers for sweep tests: a configuration from YAML text, expanded.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/config_test_util.h"
#include "support/support.h"
#include "sweep/sweep.h"

namespace dpst::test {

class SweepTest : public ::testing::Test {
 protected:
  TempDir dir;

  // Writes `text` (after a prelude that allows random-init loss networks and puts runs
  // under the temp folder) to sweep.yaml and loads it.
  config::Config load_sweep(const std::string& text, const std::vector<std::string>& sets = {},
                            int world_size = 1) {
    config::LoadOptions o;
    o.files = {write_yaml(text)};
    o.overrides = sets;
    o.world_size = world_size;
    o.check_files = false;
    return config::load(o);
  }
  std::string write_yaml(const std::string& text, const std::string& name = "sweep.yaml") {
    const std::string prelude = "run:\n  name: demo\n  output_dir: " + (dir / "runs").string() +
                                "\nloss_nets:\n  allow_random_init: true\n";
    write_file(dir / name, prelude + text);
    return (dir / name).string();
  }
  // The error text of expand(), "" when it succeeds.
  static std::string expand_error(const config::Config& c, int world_size = 1, bool for_run = false) {
    try {
      sweep::expand(c, world_size, for_run);
    } catch (const config::ConfigProblems& e) {
      return e.what();
    }
    return "";
  }
  static std::vector<std::string> ids(const std::vector<sweep::Trial>& trials) {
    std::vector<std::string> out;
    for (const auto& t : trials) out.push_back(t.id);
    return out;
  }
};

}  // namespace dpst::test
