// Seeded depth-network source files for the converter tests, made at test time (a full
// hourglass3 is 21 MB; only its taps are committed, hourglass_lua_taps.h5): .t7 trees
// written by make_golden.py's own Torch7 writer, MegaDepth-layout state dicts, and their
// conversion by dataprep/convert_weights.py, all run with the project's Python (DPST_PYTHON).
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "support/support.h"

namespace dpst::test {

inline std::string python_command(const std::string& script, const std::string& args) {
  return std::string(DPST_PYTHON) + " " + std::string(DPST_SOURCE_DIR) + "/" + script + " " + args;
}

// make_golden.py t7 OUT [--tree hourglass3|vgg16|wrong-shape|bad-weight] or
// make_golden.py megadepth OUT [--drop-key K]; returns false (with a test failure) on error.
inline bool make_depth_source(const std::string& kind, const std::filesystem::path& out, const std::string& extra = "") {
  const auto r = run(python_command("tests/models/make_golden.py", kind + " " + out.string() + " " + extra));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.exit_code == 0;
}

// convert_weights.py KIND IN OUT.
inline ProcessResult convert_depth_weights(const std::string& kind, const std::filesystem::path& in,
                                           const std::filesystem::path& out) {
  return run(python_command("dataprep/convert_weights.py", kind + " " + in.string() + " " + out.string()));
}

}  // namespace dpst::test
