#include <gtest/gtest.h>
#include <gmock/gmock.h>

#include "common/errors.h"
#include "common/logging.h"
#include "support/support.h"

namespace dpst {
namespace {

using ::testing::HasSubstr;

TEST(Logging, RankTagIsPaddedToTheWorldSize) {
  logging::init(3, 16);
  EXPECT_EQ(logging::rank_tag(), "[rank 03]");
  logging::init(7, 8);
  EXPECT_EQ(logging::rank_tag(), "[rank 7]");
  logging::init(42, 1000);
  EXPECT_EQ(logging::rank_tag(), "[rank 042]");
  logging::init(0, 1);
  EXPECT_EQ(logging::rank_tag(), "[rank 0]");
}

TEST(Logging, DefaultLevelIsInfoOnRankZeroAndWarnElsewhere) {
  logging::init(0, 4);
  EXPECT_EQ(spdlog::default_logger()->level(), spdlog::level::info);
  logging::init(2, 4);
  EXPECT_EQ(spdlog::default_logger()->level(), spdlog::level::warn);
  logging::init(2, 4, "debug");
  EXPECT_EQ(spdlog::default_logger()->level(), spdlog::level::debug);
}

TEST(Logging, UnknownLevelIsAConfigError) {
  try {
    logging::parse_level("verbose");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("unknown level 'verbose' (expected trace, debug, info, warn, error, critical or off)"));
  }
}

TEST(Logging, RunLogFileGetsRankTaggedLines) {
  test::TempDir dir;
  logging::init(0, 2);
  const auto file = logging::attach_run_log(dir / "run");
  EXPECT_EQ(file, dir / "run" / "dpst.log");
  spdlog::info("hello from the test {}", 42);
  spdlog::default_logger()->flush();
  const std::string text = test::read_file(file);
  EXPECT_THAT(text, HasSubstr("[rank 0] [info] hello from the test 42"));

  logging::init(1, 2);
  const auto other = logging::attach_run_log(dir / "run");
  EXPECT_EQ(other, dir / "run" / "dpst.rank1.log");
  spdlog::info("not shown on rank 1");
  spdlog::warn("shown on rank 1");
  spdlog::default_logger()->flush();
  const std::string text1 = test::read_file(other);
  EXPECT_THAT(text1, HasSubstr("[rank 1] [warning] shown on rank 1"));
  EXPECT_THAT(text1, ::testing::Not(HasSubstr("not shown")));
  logging::init(0, 1);
}

TEST(Logging, UnwritableRunFolderIsAnOutputError) {
  test::TempDir dir;
  test::write_file(dir / "file", "x");
  logging::init(0, 1);
  try {
    logging::attach_run_log(dir / "file" / "run");
    FAIL();
  } catch (const OutputError& e) {
    EXPECT_THAT(e.what(), HasSubstr((dir / "file" / "run").string() + ": cannot create run folder"));
  }
}

}  // namespace
}  // namespace dpst
