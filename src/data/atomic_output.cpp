#include "data/atomic_output.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include <spdlog/spdlog.h>

#include "common/atomic_file.h"
#include "common/errors.h"

namespace dpst::data {

namespace fs = std::filesystem;

namespace {

// The temporary to remove if a terminating signal arrives. A fixed buffer, so the
// handler only calls async-signal-safe functions (unlink, signal, raise).
char g_pending_temp[4096];
std::atomic<bool> g_has_pending{false};

void remove_pending_and_die(int sig) {
  if (g_has_pending.load()) ::unlink(g_pending_temp);
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

void set_pending(const std::string& path) {
  if (path.size() >= sizeof g_pending_temp) return;  // too long to track: the destructor still cleans up
  std::memcpy(g_pending_temp, path.c_str(), path.size() + 1);
  g_has_pending.store(true);
  static const bool installed = [] {
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
      struct sigaction sa {};
      sa.sa_handler = remove_pending_and_die;
      sigemptyset(&sa.sa_mask);
      sigaction(sig, &sa, nullptr);
    }
    return true;
  }();
  (void)installed;
}

// Removes temporaries of this target left by a process that no longer exists.
void remove_stale_temps(const fs::path& dir, const std::string& prefix) {
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    const std::string pid_text = name.substr(prefix.size());
    if (pid_text.empty() || pid_text.find_first_not_of("0123456789") != std::string::npos) continue;
    const pid_t pid = static_cast<pid_t>(std::stol(pid_text));
    if (pid == ::getpid() || ::kill(pid, 0) == 0 || errno != ESRCH) continue;
    std::error_code rm_ec;
    if (fs::remove(it->path(), rm_ec)) spdlog::info("removed {}, left by an interrupted earlier run", it->path().string());
  }
}

}  // namespace

std::string AtomicOutputFile::temp_prefix(const fs::path& target) {
  // The name common/atomic_file.h gives: ".<name>.incomplete-<pid>".
  return "." + target.filename().string() + ".incomplete-";
}

AtomicOutputFile::AtomicOutputFile(fs::path target, bool overwrite)
    : target_(std::move(target)), overwrite_(overwrite) {
  std::error_code ec;
  DPST_CHECK(!target_.filename().empty() && !fs::is_directory(target_, ec), OutputError,
             target_.string() << ": is a folder, expected a file name");
  DPST_CHECK(overwrite_ || !fs::exists(fs::symlink_status(target_, ec)), OutputError,
             target_.string() << ": already exists; pass --overwrite to replace it");
  fs::path dir = target_.parent_path();
  if (dir.empty()) dir = ".";
  DPST_CHECK(fs::is_directory(dir, ec), OutputError, target_.string() << ": folder " << dir.string() << " does not exist");
  remove_stale_temps(dir, temp_prefix(target_));

  write_path_ = temporary_beside(target_, "incomplete").string();
  const int fd = ::open(write_path_.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
  DPST_CHECK(fd >= 0, OutputError,
             target_.string() << ": cannot create a file in " << dir.string() << " (" << std::strerror(errno) << ")");
  ::close(fd);
  set_pending(write_path_);
}

AtomicOutputFile::~AtomicOutputFile() {
  if (!committed_) {
    g_has_pending.store(false);
    std::error_code ec;
    fs::remove(write_path_, ec);
  }
}

void AtomicOutputFile::commit() {
  DPST_CHECK(!committed_, InternalError, "AtomicOutputFile committed twice");
  DPST_CHECK(overwrite_ || !fs::exists(target_), OutputError,
             target_.string() << ": appeared while packing; pass --overwrite to replace it");
  commit_temporary(write_path_, target_);
  g_has_pending.store(false);
  committed_ = true;
}

}  // namespace dpst::data
