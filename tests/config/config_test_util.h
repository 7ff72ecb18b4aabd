// Helpers for configuration tests: write YAML into a temp folder and load it.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/config.h"
#include "support/support.h"

namespace dpst::test {

// Loads files/overrides; returns the error text ("" if it loaded).
inline std::string load_error(const std::vector<std::string>& files, const std::vector<std::string>& sets = {},
                              int world_size = 1, bool check_files = false) {
  config::LoadOptions o;
  o.files = files;
  o.overrides = sets;
  o.world_size = world_size;
  o.check_files = check_files;
  try {
    config::load(o);
  } catch (const config::ConfigProblems& e) {
    return e.what();
  }
  return "";
}

inline config::Config load_ok(const std::vector<std::string>& files, const std::vector<std::string>& sets = {},
                              const std::filesystem::path& cwd = {}) {
  config::LoadOptions o;
  o.files = files;
  o.overrides = sets;
  o.check_files = false;
  o.cwd = cwd;
  return config::load(o);
}

}  // namespace dpst::test
