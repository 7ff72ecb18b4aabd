#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <sstream>

#include "support/support.h"
#include "train/run_files.h"

namespace dpst::train {
namespace {

std::vector<nlohmann::json> lines(const std::filesystem::path& file) {
  std::istringstream in(test::read_file(file));
  std::vector<nlohmann::json> out;
  std::string line;
  while (std::getline(in, line)) out.push_back(nlohmann::json::parse(line));
  return out;
}

TEST(MetricsLog, AppendsOneJsonObjectPerRecord) {
  test::TempDir tmp;
  {
    MetricsLog log(tmp.path(), 0);
    log.append(10, {{"loss", 1.5}, {"content", 0.25}});
    log.append(20, {{"loss", NAN}});
  }
  const auto records = lines(tmp / "metrics.jsonl");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0]["step"], 10);
  EXPECT_DOUBLE_EQ(records[0]["content"].get<double>(), 0.25);
  EXPECT_TRUE(records[1]["loss"].is_null());
}

TEST(MetricsLog, ResumeDropsRecordsPastTheCheckpoint) {
  test::TempDir tmp;
  {
    MetricsLog log(tmp.path(), 0);
    for (int step : {10, 20, 30}) log.append(step, {{"loss", 1.0}});
  }
  test::write_file(tmp / "metrics.jsonl", test::read_file(tmp / "metrics.jsonl") + "{\"step\": 4");  // torn line
  {
    MetricsLog log(tmp.path(), 20);
    log.append(30, {{"loss", 2.0}});
  }
  const auto records = lines(tmp / "metrics.jsonl");
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[2]["step"], 30);
  EXPECT_DOUBLE_EQ(records[2]["loss"].get<double>(), 2.0);
}

}  // namespace
}  // namespace dpst::train
