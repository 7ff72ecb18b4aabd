// Test helpers: temporary folders, writing files, running the project's binaries.
#pragma once

#include <filesystem>
#include <string>

namespace dpst::test {

// A fresh folder under the system temp dir, removed when the object goes away.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

void write_file(const std::filesystem::path& path, const std::string& text);
std::string read_file(const std::filesystem::path& path);

struct ProcessResult {
  int exit_code = -1;  // WEXITSTATUS, or 128+signal
  std::string out;
  std::string err;
};

// Runs a shell command line; captures stdout and stderr separately.
ProcessResult run(const std::string& command_line);

// Path of a project binary, e.g. bin("dpst-dist"): in $DPST_BIN_DIR when set, else in
// this build's bin folder.
std::string bin(const std::string& name);

// The repository's root: $DPST_SOURCE_DIR when set, else the tree this was built from.
std::string source_dir();

// mpirun prefix for n ranks, with the flags a container/root/oversubscribed run needs.
std::string mpirun(int ranks);

// Counts non-overlapping occurrences of needle in haystack.
int count(const std::string& haystack, const std::string& needle);

}  // namespace dpst::test
