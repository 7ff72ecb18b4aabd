#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/resource.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <unistd.h>

#include "common/atomic_file.h"
#include "common/errors.h"
#include "support/support.h"
#include "train/checkpoint_store.h"
#include "train/stop_signal.h"

namespace dpst::train {
namespace {

namespace fs = std::filesystem;
using test::read_file;
using test::TempDir;
using test::write_file;

void write_state(const fs::path& dir, const std::string& text) { write_file(dir / "state.txt", text); }

TEST(CheckpointStore, SaveMarksDoneAndLatestFindsIt) {
  TempDir tmp;
  CheckpointStore store(tmp / "ckpt", 3);
  EXPECT_FALSE(store.latest().has_value());
  const auto a = store.save(100, [](const fs::path& d) { write_state(d, "a"); });
  EXPECT_EQ(a.filename(), "step-00000100");
  EXPECT_TRUE(fs::exists(a / "DONE"));
  EXPECT_EQ(read_file(a / "state.txt"), "a");
  store.save(200, [](const fs::path& d) { write_state(d, "b"); });
  EXPECT_EQ(CheckpointStore::step_of(*store.latest()), 200);
}

TEST(CheckpointStore, KeepsOnlyTheNewestK) {
  TempDir tmp;
  CheckpointStore store(tmp / "ckpt", 2);
  for (int step : {10, 20, 30, 40}) store.save(step, [&](const fs::path& d) { write_state(d, std::to_string(step)); });
  const auto all = store.complete();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(CheckpointStore::step_of(all[0]), 30);
  EXPECT_EQ(CheckpointStore::step_of(all[1]), 40);
  EXPECT_FALSE(fs::exists(tmp / "ckpt" / "step-00000010"));
}

TEST(CheckpointStore, AFolderWithoutDoneDoesNotCount) {
  TempDir tmp;
  CheckpointStore store(tmp / "ckpt", 3);
  store.save(10, [](const fs::path& d) { write_state(d, "good"); });
  // A crash after the rename but before DONE, and a crash mid-write.
  write_state(tmp / "ckpt" / "step-00000020", "half");
  write_state(tmp / "ckpt" / "step-00000030.tmp-999", "partial");
  EXPECT_EQ(CheckpointStore::step_of(*store.latest()), 10);
  // The next save replaces the incomplete folder and clears the stale temporary one.
  store.save(20, [](const fs::path& d) { write_state(d, "new"); });
  EXPECT_EQ(read_file(tmp / "ckpt" / "step-00000020" / "state.txt"), "new");
  EXPECT_FALSE(fs::exists(tmp / "ckpt" / "step-00000030.tmp-999"));
}

// While a file size limit is set (RLIMIT_FSIZE, with SIGXFSZ ignored), writes past it
// fail with EFBIG, as they would with ENOSPC on a full disk: a real failed write.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    getrlimit(RLIMIT_FSIZE, &saved_);
    old_handler_ = std::signal(SIGXFSZ, SIG_IGN);
    rlimit limit = saved_;
    limit.rlim_cur = bytes;
    setrlimit(RLIMIT_FSIZE, &limit);
  }
  ~FileSizeLimit() {
    setrlimit(RLIMIT_FSIZE, &saved_);
    std::signal(SIGXFSZ, old_handler_);
  }

 private:
  rlimit saved_{};
  void (*old_handler_)(int) = nullptr;
};

TEST(CheckpointStore, FailedWriteLeavesThePreviousCheckpointIntact) {
  TempDir tmp;
  CheckpointStore store(tmp / "ckpt", 1);
  store.save(10, [](const fs::path& d) { write_state(d, "good"); });
  {
    FileSizeLimit limit(16 * 1024);
    try {
      store.save(20, [](const fs::path& d) { write_file_atomically(d / "state.txt", std::string(64 * 1024, 'x')); });
      ADD_FAILURE() << "expected OutputError";
    } catch (const OutputError& e) {
      EXPECT_THAT(e.what(), ::testing::HasSubstr("checkpoint for step 20 not written; the previous checkpoint is intact"));
      EXPECT_THAT(e.what(), ::testing::HasSubstr("state.txt"));
      EXPECT_THAT(e.what(), ::testing::HasSubstr(std::strerror(EFBIG)));
    }
  }
  const auto all = store.complete();
  ASSERT_EQ(all.size(), 1u);  // keep = 1 did not prune the good one
  EXPECT_EQ(read_file(all[0] / "state.txt"), "good");
  for (const auto& entry : fs::directory_iterator(tmp / "ckpt")) {
    EXPECT_EQ(entry.path().filename(), "step-00000010") << "left behind: " << entry.path();
  }
}

TEST(CheckpointStore, AnExceptionWhileWritingIsAnOutputErrorWithContext) {
  TempDir tmp;
  CheckpointStore store(tmp / "ckpt", 2);
  try {
    store.save(5, [](const fs::path&) { throw std::runtime_error("HDF5: cannot write dataset"); });
    FAIL();
  } catch (const OutputError& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("checkpoint for step 5 not written"));
    EXPECT_THAT(e.what(), ::testing::HasSubstr("HDF5: cannot write dataset"));
  }
  EXPECT_TRUE(store.complete().empty());
}

TEST(CheckpointStore, UncreatableFolderIsAnOutputError) {
  TempDir tmp;
  write_file(tmp / "file", "x");
  CheckpointStore store(tmp / "file" / "ckpt", 2);
  EXPECT_THROW(store.save(1, [](const fs::path&) {}), OutputError);
}

TEST(WriteFileAtomically, ReplacesWholeFiles) {
  TempDir tmp;
  write_file_atomically(tmp / "p.yml", "step: 1\n");
  write_file_atomically(tmp / "p.yml", "step: 2\n");
  EXPECT_EQ(read_file(tmp / "p.yml"), "step: 2\n");
  EXPECT_THROW(write_file_atomically(tmp / "missing" / "p.yml", "x"), OutputError);
}

bool wait_for_signal(int signo) {
  for (int i = 0; i < 500 && stop_signal() != signo; ++i) usleep(2000);
  return stop_signal() == signo;
}

TEST(StopSignal, SigusrAndSigtermToTheProcessSetTheFlag) {
  install_stop_handlers();
  clear_stop_for_test();
  EXPECT_FALSE(stop_requested());
  kill(getpid(), SIGUSR1);  // process-directed, as mpirun and Slurm send it
  EXPECT_TRUE(wait_for_signal(SIGUSR1));
  EXPECT_TRUE(stop_requested());
  clear_stop_for_test();
  kill(getpid(), SIGTERM);  // would end the process if it were not taken by the waiting thread
  EXPECT_TRUE(wait_for_signal(SIGTERM));
  clear_stop_for_test();
}

}  // namespace
}  // namespace dpst::train
