// A trial's checkpoints on disk: <dir>/step-00001000/ folders, each complete only once
// its DONE marker exists. save() fills a temporary folder beside them, fsyncs every
// file and the folder, renames it into place, writes DONE last and keeps the newest K.
// A failed save (disk full, I/O error) throws OutputError and leaves every earlier
// checkpoint as it was.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace dpst::train {

class CheckpointStore {
 public:
  CheckpointStore(std::filesystem::path dir, int keep);

  // write_files(tmp) writes the checkpoint's files into the empty folder tmp.
  std::filesystem::path save(int64_t step, const std::function<void(const std::filesystem::path&)>& write_files);

  // Complete checkpoints, oldest first.
  std::vector<std::filesystem::path> complete() const;
  std::optional<std::filesystem::path> latest() const;

  static int64_t step_of(const std::filesystem::path& checkpoint);
  static std::string folder_name(int64_t step);  // "step-00001000"
  const std::filesystem::path& dir() const { return dir_; }
  static constexpr const char* kDoneMarker = "DONE";

 private:
  void prune() const;
  std::filesystem::path dir_;
  int keep_;
};

}  // namespace dpst::train
