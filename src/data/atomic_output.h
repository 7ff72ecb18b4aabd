// An output file that appears at its final path only when complete, for writers that
// take a file name and run for long (pack_coco's HDF5 file). Data goes to a hidden
// temporary beside the target, ".<name>.incomplete-<pid>", which commit() puts in place
// with common/atomic_file.h's commit_temporary (fsync, rename, fsync of the folder). On failure the
// destructor removes it; on SIGINT/SIGTERM/SIGHUP a handler removes it before the
// process dies. Only SIGKILL (or a crash) can leave one behind: its name says what it
// is, and the next AtomicOutputFile for the same target removes temporaries whose
// process is gone.
// (An unnamed O_TMPFILE would survive even SIGKILL, but HDF5 resolves the file name
// with realpath(), which fails for /proc/self/fd links to unnamed files.)
#pragma once

#include <filesystem>
#include <string>

namespace dpst::data {

class AtomicOutputFile {
 public:
  // Throws OutputError if `target` exists and !overwrite, if its folder is missing, or
  // if the temporary cannot be created there.
  AtomicOutputFile(std::filesystem::path target, bool overwrite);
  ~AtomicOutputFile();  // removes the temporary unless committed
  AtomicOutputFile(const AtomicOutputFile&) = delete;
  AtomicOutputFile& operator=(const AtomicOutputFile&) = delete;

  // Where to write the data (the temporary).
  const std::string& write_path() const { return write_path_; }
  const std::filesystem::path& target() const { return target_; }
  // fsyncs the temporary, renames it to the target, fsyncs the folder. Throws OutputError.
  void commit();

  // The temporary's name prefix for a target: ".<name>.incomplete-".
  static std::string temp_prefix(const std::filesystem::path& target);

 private:
  std::filesystem::path target_;
  bool overwrite_;
  std::string write_path_;
  bool committed_ = false;
};

}  // namespace dpst::data
