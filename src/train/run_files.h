// The human- and machine-readable files of a run folder:
//  - metrics.jsonl  one JSON object per log interval (appended, flushed);
//  - progress.yml   where the trial stands now (rewritten atomically), readable with cat.
#pragma once

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace dpst::train {

class MetricsLog {
 public:
  // Opens <dir>/metrics.jsonl for appending. After a resume, records past `resume_step`
  // (written before the crash, after the checkpoint) are dropped first so each step
  // appears once.
  MetricsLog(const std::filesystem::path& dir, long long resume_step);
  void append(long long step, const std::vector<std::pair<std::string, double>>& fields);
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  std::ofstream out_;
};

}  // namespace dpst::train
