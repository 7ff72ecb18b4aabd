// src/trial_folder: the folder of one trial, the one place that knows its file names and
// formats. src/train writes it, src/sweep reads it for the summary, src/eval reads it
// for the tables; none of them spells a file name of its own.
//   <dir>/config.yaml     the trial's resolved configuration (dpst-dist --dump-config text)
//   <dir>/checkpoints/    step-XXXXXXXX/ folders (train/checkpoint_store.h)
//   <dir>/metrics.jsonl   one JSON object per log interval (appended, flushed)
//   <dir>/progress.yml    where the trial stands now (rewritten atomically), readable with cat
//   <dir>/dpst.log        the log of the rank that trained it (common/logging.h)
//   <dir>/model.h5        the exported f_W (pytorch/examples TransformerNet names)
//   <dir>/curves.png, eval.json   loss curves and val metrics (src/eval)
//   <dir>/FINISHED        written last when training completed (the final progress inside):
//                         the trial counts as done
//   <dir>/FAILED          written when the trial stopped on an error (the message inside)
// A plain run is a sweep of one trial whose folder is <run.output_dir>/<run.name>; a
// sweep's trials live in <run.output_dir>/<run.name>/<trial id>/ (sweep/sweep.h).
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace dpst::trial_folder {

inline constexpr const char* kConfigFile = "config.yaml";
inline constexpr const char* kCheckpointsFolder = "checkpoints";
inline constexpr const char* kMetricsFile = "metrics.jsonl";
inline constexpr const char* kProgressFile = "progress.yml";
inline constexpr const char* kModelFile = "model.h5";
inline constexpr const char* kEvalFile = "eval.json";
inline constexpr const char* kCurvesFile = "curves.png";
inline constexpr const char* kFinishedMarker = "FINISHED";
inline constexpr const char* kFailedMarker = "FAILED";

// What progress.yml (and FINISHED, and a checkpoint's copy) holds.
struct Progress {
  std::string trial;
  std::string status;  // training, checkpointed, finished
  int64_t step = 0;
  int64_t iterations = 0;
  int64_t epoch = 0;
  int64_t batch_in_epoch = 0;
  int64_t images_seen = 0;
  std::vector<std::pair<std::string, double>> terms;  // loss terms by name, in order (NaN = not computed)

  std::string to_yaml() const;
  // The value of term `name`, NaN when absent.
  double term(const std::string& name) const;
};

// Reads a progress file; nullopt when it is missing or not a progress file (e.g. a
// FINISHED marker written by hand).
std::optional<Progress> read_progress(const std::filesystem::path& file);

class TrialFolder {
 public:
  explicit TrialFolder(std::filesystem::path dir) : dir_(std::move(dir)) {}
  const std::filesystem::path& dir() const { return dir_; }

  std::filesystem::path config_file() const { return dir_ / kConfigFile; }
  std::filesystem::path checkpoints() const { return dir_ / kCheckpointsFolder; }
  std::filesystem::path metrics_file() const { return dir_ / kMetricsFile; }
  std::filesystem::path progress_file() const { return dir_ / kProgressFile; }
  std::filesystem::path model_file() const { return dir_ / kModelFile; }
  std::filesystem::path eval_file() const { return dir_ / kEvalFile; }
  std::filesystem::path curves_file() const { return dir_ / kCurvesFile; }

  bool has_finished_marker() const;
  bool has_failed_marker() const;
  bool has_config() const;
  // The progress in FINISHED (nullopt when missing or hand-written) and in progress.yml.
  std::optional<Progress> finished() const;
  std::optional<Progress> progress() const;
  // The first line of FAILED ("" when there is none).
  std::string failure() const;

  // Training (re)starts here: any FINISHED or FAILED goes (training further, or a retry),
  // the folder is created and config.yaml written. Throws OutputError naming the path.
  void begin(const std::string& config_yaml) const;
  void write_progress(const Progress& progress) const;
  // progress.yml and then FINISHED, both with the final progress.
  void mark_finished(const Progress& progress) const;
  void mark_failed(const std::string& message) const;

 private:
  std::filesystem::path dir_;
};

// The trial folders under a sweep folder (not hidden), sorted: those with FINISHED, and
// (when `unfinished` is given) the names of those with a config.yaml but no FINISHED.
std::vector<std::filesystem::path> finished_trials(const std::filesystem::path& sweep_dir,
                                                   std::vector<std::string>* unfinished);

// <dir>/metrics.jsonl, appended one record per log interval.
class MetricsLog {
 public:
  // After a resume, records past `resume_step` (written before the crash, after the
  // checkpoint) are dropped first so each step appears once.
  MetricsLog(const TrialFolder& folder, long long resume_step);
  void append(long long step, const std::vector<std::pair<std::string, double>>& fields);
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  std::ofstream out_;
};

}  // namespace dpst::trial_folder
