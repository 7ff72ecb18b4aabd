#include "common/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <system_error>

#include "common/errors.h"

namespace dpst {

namespace fs = std::filesystem;

fs::path temporary_beside(const fs::path& target, const std::string& tag) {
  return target.parent_path() / ("." + target.filename().string() + "." + tag + "-" + std::to_string(::getpid()));
}

void fsync_path(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  DPST_CHECK(fd >= 0, OutputError, path.string() << ": cannot open to sync: " << std::strerror(errno));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  DPST_CHECK(rc == 0, OutputError, path.string() << ": fsync failed: " << std::strerror(err));
}

void commit_temporary(const fs::path& temporary, const fs::path& target) {
  std::error_code ec;
  try {
    fsync_path(temporary);
  } catch (...) {
    fs::remove(temporary, ec);
    throw;
  }
  fs::rename(temporary, target, ec);
  if (ec) {
    const std::string why = ec.message();
    fs::remove(temporary, ec);
    DPST_THROW(OutputError, target.string() << ": cannot move into place: " << why);
  }
  fsync_path(target.parent_path().empty() ? fs::path(".") : target.parent_path());
}

void write_atomically(const fs::path& target, const std::function<void(const fs::path&)>& write) {
  const fs::path tmp = temporary_beside(target, "tmp");
  try {
    write(tmp);
  } catch (...) {
    std::error_code ec;
    fs::remove(tmp, ec);
    throw;
  }
  commit_temporary(tmp, target);
}

void write_file_atomically(const fs::path& target, const std::string& contents) {
  write_atomically(target, [&](const fs::path& tmp) {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    DPST_CHECK(static_cast<bool>(out), OutputError, tmp.string() << ": cannot create: " << std::strerror(errno));
    out << contents;
    out.flush();
    DPST_CHECK(static_cast<bool>(out), OutputError, tmp.string() << ": write failed: " << std::strerror(errno));
  });
}

void create_folder(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  DPST_CHECK(!ec, OutputError, dir.string() << ": cannot create folder: " << ec.message());
}

void remove_if_present(const std::filesystem::path& path) {
  std::error_code ec;
  std::filesystem::remove(path, ec);
  DPST_CHECK(!ec, OutputError, path.string() << ": cannot remove: " << ec.message());
}

}  // namespace dpst
