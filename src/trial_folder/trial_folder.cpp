#include "trial_folder/trial_folder.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <sstream>

#include "common/atomic_file.h"
#include "common/errors.h"
#include "common/text.h"
#include "config/flat_yaml.h"

namespace dpst::trial_folder {

namespace fs = std::filesystem;

namespace {


}  // namespace

std::string Progress::to_yaml() const {
  std::ostringstream os;
  os << "trial: " << trial << "\nstatus: " << status << "\nstep: " << step << "\niterations: " << iterations
     << "\nepoch: " << epoch << "\nbatch_in_epoch: " << batch_in_epoch << "\nimages_seen: " << images_seen;
  for (const auto& [name, value] : terms) os << "\n" << name << ": " << loss_text(value);
  os << "\n";
  return os.str();
}

double Progress::term(const std::string& name) const {
  for (const auto& [n, v] : terms)
    if (n == name) return v;
  return std::nan("");
}

std::optional<Progress> read_progress(const fs::path& file) {
  std::map<std::string, std::string> y;
  try {
    y = config::read_flat_yaml(file);
  } catch (const InputError&) {
    return std::nullopt;
  }
  Progress p;
  const auto step = config::flat_yaml_int(y, "step");
  if (!step) return std::nullopt;
  p.step = *step;
  p.iterations = config::flat_yaml_int(y, "iterations").value_or(0);
  p.epoch = config::flat_yaml_int(y, "epoch").value_or(0);
  p.batch_in_epoch = config::flat_yaml_int(y, "batch_in_epoch").value_or(0);
  p.images_seen = config::flat_yaml_int(y, "images_seen").value_or(0);
  if (y.count("trial")) p.trial = y["trial"];
  if (y.count("status")) p.status = y["status"];
  static const char* kKnown[] = {"trial", "status", "step", "iterations", "epoch", "batch_in_epoch", "images_seen"};
  for (const auto& [key, text] : y) {
    if (std::find(std::begin(kKnown), std::end(kKnown), key) != std::end(kKnown)) continue;
    char* end = nullptr;
    const double v = text == "nan" ? std::nan("") : std::strtod(text.c_str(), &end);
    if (text != "nan" && (end == text.c_str() || *end != '\0')) continue;
    p.terms.emplace_back(key, v);
  }
  return p;
}

bool TrialFolder::has_finished_marker() const { return fs::exists(dir_ / kFinishedMarker); }
bool TrialFolder::has_failed_marker() const { return fs::exists(dir_ / kFailedMarker); }
bool TrialFolder::has_config() const { return fs::exists(config_file()); }

std::optional<Progress> TrialFolder::finished() const { return read_progress(dir_ / kFinishedMarker); }
std::optional<Progress> TrialFolder::progress() const { return read_progress(progress_file()); }

std::string TrialFolder::failure() const {
  std::ifstream in(dir_ / kFailedMarker);
  std::string line;
  std::getline(in, line);
  return line;
}

void TrialFolder::begin(const std::string& config_yaml) const {
  remove_if_present(dir_ / kFinishedMarker);  // training further than a finished run
  remove_if_present(dir_ / kFailedMarker);    // a retry (e.g. with a lower learning rate)
  create_folder(dir_);
  write_file_atomically(config_file(), config_yaml);
}

void TrialFolder::write_progress(const Progress& progress) const {
  write_file_atomically(progress_file(), progress.to_yaml());
}

void TrialFolder::mark_finished(const Progress& progress) const {
  write_progress(progress);
  write_file_atomically(dir_ / kFinishedMarker, progress.to_yaml());
}

void TrialFolder::mark_failed(const std::string& message) const {
  write_file_atomically(dir_ / kFailedMarker, message + "\n");
}

std::vector<fs::path> finished_trials(const fs::path& sweep_dir, std::vector<std::string>* unfinished) {
  std::vector<fs::path> out;
  for (const auto& entry : fs::directory_iterator(sweep_dir)) {
    if (!entry.is_directory()) continue;
    const std::string name = entry.path().filename().string();
    if (name.empty() || name[0] == '.') continue;
    const TrialFolder folder(entry.path());
    if (folder.has_finished_marker()) {
      out.push_back(entry.path());
    } else if (unfinished && folder.has_config()) {
      unfinished->push_back(name);
    }
  }
  std::sort(out.begin(), out.end());
  if (unfinished) std::sort(unfinished->begin(), unfinished->end());
  return out;
}

MetricsLog::MetricsLog(const TrialFolder& folder, long long resume_step) : path_(folder.metrics_file()) {
  create_folder(folder.dir());
  if (fs::exists(path_)) {
    std::ifstream in(path_);
    std::ostringstream kept;
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      try {
        if (nlohmann::json::parse(line).value("step", 0LL) > resume_step) continue;
      } catch (const nlohmann::json::exception&) {
        continue;  // a line cut short by a crash
      }
      kept << line << "\n";
    }
    write_file_atomically(path_, kept.str());
  }
  out_.open(path_, std::ios::app);
  DPST_CHECK(static_cast<bool>(out_), OutputError, path_.string() << ": cannot open for appending");
}

void MetricsLog::append(long long step, const std::vector<std::pair<std::string, double>>& fields) {
  nlohmann::ordered_json j;
  j["step"] = step;
  for (const auto& [k, v] : fields) {
    if (std::isfinite(v)) {
      j[k] = v;
    } else {
      j[k] = nullptr;  // JSON has no NaN
    }
  }
  out_ << j.dump() << "\n";
  out_.flush();
  DPST_CHECK(static_cast<bool>(out_), OutputError, path_.string() << ": write failed");
}

}  // namespace dpst::trial_folder
