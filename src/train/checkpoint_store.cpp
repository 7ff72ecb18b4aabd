#include "train/checkpoint_store.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "common/atomic_file.h"
#include "common/errors.h"
#include "common/logging.h"

namespace dpst::train {

namespace fs = std::filesystem;

namespace {

void fsync_tree(const fs::path& dir) {
  for (const auto& entry : fs::recursive_directory_iterator(dir)) fsync_path(entry.path());
  fsync_path(dir);
}

}  // namespace

CheckpointStore::CheckpointStore(fs::path dir, int keep) : dir_(std::move(dir)), keep_(std::max(1, keep)) {}

std::string CheckpointStore::folder_name(int64_t step) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "step-%08lld", static_cast<long long>(step));
  return buf;
}

int64_t CheckpointStore::step_of(const fs::path& checkpoint) {
  const std::string name = checkpoint.filename().string();
  DPST_CHECK(name.rfind("step-", 0) == 0, InternalError, checkpoint.string() << " is not a checkpoint folder");
  return std::stoll(name.substr(5));
}

std::vector<fs::path> CheckpointStore::complete() const {
  std::vector<fs::path> out;
  std::error_code ec;
  if (!fs::is_directory(dir_, ec)) return out;
  for (const auto& entry : fs::directory_iterator(dir_)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("step-", 0) != 0 || name.find('.') != std::string::npos) continue;
    if (fs::exists(entry.path() / kDoneMarker)) out.push_back(entry.path());
  }
  std::sort(out.begin(), out.end(), [](const fs::path& a, const fs::path& b) { return step_of(a) < step_of(b); });
  return out;
}

std::optional<fs::path> CheckpointStore::latest() const {
  auto all = complete();
  if (all.empty()) return std::nullopt;
  return all.back();
}

fs::path CheckpointStore::save(int64_t step, const std::function<void(const fs::path&)>& write_files) {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  DPST_CHECK(!ec, OutputError, dir_.string() << ": cannot create checkpoint folder: " << ec.message());
  const fs::path final_dir = dir_ / folder_name(step);
  if (fs::exists(final_dir / kDoneMarker)) return final_dir;  // this exact state is already saved
  const fs::path tmp = dir_ / (folder_name(step) + ".tmp-" + std::to_string(::getpid()));
  fs::remove_all(tmp, ec);
  fs::create_directory(tmp, ec);
  DPST_CHECK(!ec, OutputError, tmp.string() << ": cannot create: " << ec.message());
  try {
    write_files(tmp);
    fsync_tree(tmp);
    if (fs::exists(final_dir)) fs::remove_all(final_dir);  // an incomplete one from a crash
    fs::rename(tmp, final_dir);
    fsync_path(dir_);
    write_file_atomically(final_dir / kDoneMarker, "step " + std::to_string(step) + "\n");
  } catch (const std::exception& e) {
    fs::remove_all(tmp, ec);
    const auto* typed = dynamic_cast<const Error*>(&e);
    if (typed != nullptr && typed->exit_code() == kExitOutput) {
      throw OutputError(std::string("checkpoint for step ") + std::to_string(step) + " not written; the previous " +
                        "checkpoint is intact: " + e.what());
    }
    throw OutputError("checkpoint for step " + std::to_string(step) + " not written (" + final_dir.string() +
                      "); the previous checkpoint is intact: " + e.what());
  }
  prune();
  return final_dir;
}

void CheckpointStore::prune() const {
  auto all = complete();
  std::error_code ec;
  for (size_t i = 0; i + static_cast<size_t>(keep_) < all.size(); ++i) fs::remove_all(all[i], ec);
  // Temporary folders left by a crash of an earlier process.
  for (const auto& entry : fs::directory_iterator(dir_)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("step-", 0) == 0 && name.find(".tmp-") != std::string::npos) fs::remove_all(entry.path(), ec);
  }
}

}  // namespace dpst::train
