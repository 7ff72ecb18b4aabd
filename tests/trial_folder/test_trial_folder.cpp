// The trial folder's files: progress.yml and FINISHED as the trainer writes and the
// sweep summary reads them, FAILED, config.yaml, metrics.jsonl and the sweep listing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <sstream>

#include "support/support.h"
#include "sweep/sweep.h"
#include "trial_folder/trial_folder.h"

namespace dpst::trial_folder {
namespace {

using ::testing::HasSubstr;

std::vector<nlohmann::json> lines(const std::filesystem::path& file) {
  std::istringstream in(test::read_file(file));
  std::vector<nlohmann::json> out;
  std::string line;
  while (std::getline(in, line)) out.push_back(nlohmann::json::parse(line));
  return out;
}

Progress sample_progress() {
  return Progress{"candy-d0-1234abcd", "training", 40, 700, 2, 3, 960,
                  {{"content", 0.5}, {"style", 1.25e-4}, {"depth", std::nan("")}, {"tv", 0.0}, {"total", 98022.4}}};
}

TEST(MetricsLog, AppendsOneJsonObjectPerRecord) {
  test::TempDir tmp;
  {
    MetricsLog log(TrialFolder(tmp.path()), 0);
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
    MetricsLog log(TrialFolder(tmp.path()), 0);
    for (int step : {10, 20, 30}) log.append(step, {{"loss", 1.0}});
  }
  test::write_file(tmp / "metrics.jsonl", test::read_file(tmp / "metrics.jsonl") + "{\"step\": 4");  // torn line
  {
    MetricsLog log(TrialFolder(tmp.path()), 20);
    log.append(30, {{"loss", 2.0}});
  }
  const auto records = lines(tmp / "metrics.jsonl");
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[2]["step"], 30);
  EXPECT_DOUBLE_EQ(records[2]["loss"].get<double>(), 2.0);
}

// The text a user reads with cat, and what reading it back gives.
TEST(Progress, WritesReadableYamlThatReadsBack) {
  test::TempDir tmp;
  const TrialFolder folder(tmp.path());
  folder.write_progress(sample_progress());
  EXPECT_EQ(test::read_file(tmp / "progress.yml"),
            "trial: candy-d0-1234abcd\nstatus: training\nstep: 40\niterations: 700\nepoch: 2\nbatch_in_epoch: 3\n"
            "images_seen: 960\ncontent: 5.0000e-01\nstyle: 1.2500e-04\ndepth: nan\ntv: 0.0000e+00\n"
            "total: 9.8022e+04\n");
  const auto back = folder.progress();
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->trial, "candy-d0-1234abcd");
  EXPECT_EQ(back->status, "training");
  EXPECT_EQ(back->step, 40);
  EXPECT_EQ(back->iterations, 700);
  EXPECT_EQ(back->epoch, 2);
  EXPECT_EQ(back->batch_in_epoch, 3);
  EXPECT_EQ(back->images_seen, 960);
  EXPECT_DOUBLE_EQ(back->term("content"), 0.5);
  EXPECT_DOUBLE_EQ(back->term("total"), 9.8022e4);  // as written: 5 significant digits
  EXPECT_TRUE(std::isnan(back->term("depth")));
  EXPECT_TRUE(std::isnan(back->term("no_such_term")));
}

TEST(Progress, AHandWrittenMarkerIsNotAProgress) {
  test::TempDir tmp;
  test::write_file(tmp / "FINISHED", "done by hand\n");
  EXPECT_FALSE(TrialFolder(tmp.path()).finished().has_value());
  test::write_file(tmp / "FINISHED", "step: [not, a, number]\n");
  EXPECT_FALSE(TrialFolder(tmp.path()).finished().has_value());
  EXPECT_FALSE(TrialFolder(tmp / "absent").progress().has_value());
}

TEST(TrialFolder, BeginFinishAndFailWriteTheMarkers) {
  test::TempDir tmp;
  const TrialFolder folder(tmp / "t");
  folder.begin("run:\n  name: t\n");
  EXPECT_EQ(test::read_file(tmp / "t" / "config.yaml"), "run:\n  name: t\n");
  EXPECT_TRUE(folder.has_config());
  EXPECT_FALSE(folder.has_finished_marker());

  Progress p = sample_progress();
  p.status = "finished";
  folder.mark_finished(p);
  ASSERT_TRUE(folder.has_finished_marker());
  EXPECT_EQ(test::read_file(tmp / "t" / "FINISHED"), test::read_file(tmp / "t" / "progress.yml"));
  EXPECT_EQ(folder.finished()->status, "finished");

  folder.mark_failed("trial t: loss is NaN");
  EXPECT_TRUE(folder.has_failed_marker());
  EXPECT_EQ(folder.failure(), "trial t: loss is NaN");
  // Training again (further, or a retry) clears both markers.
  folder.begin("run:\n  name: t\n");
  EXPECT_FALSE(folder.has_finished_marker());
  EXPECT_FALSE(folder.has_failed_marker());
  EXPECT_EQ(folder.failure(), "");
}

TEST(TrialFolder, FinishedTrialsListsMarkedFoldersAndNamesTheRest) {
  test::TempDir tmp;
  TrialFolder(tmp / "b").begin("x: 1\n");
  TrialFolder(tmp / "b").mark_finished(sample_progress());
  TrialFolder(tmp / "a").begin("x: 1\n");
  TrialFolder(tmp / "a").mark_finished(sample_progress());
  TrialFolder(tmp / "c").begin("x: 1\n");  // started, not finished
  std::filesystem::create_directories(tmp / ".hidden");
  std::filesystem::create_directories(tmp / "not-a-trial");
  std::vector<std::string> unfinished;
  const auto done = finished_trials(tmp.path(), &unfinished);
  ASSERT_EQ(done.size(), 2u);
  EXPECT_EQ(done[0].filename(), "a");
  EXPECT_EQ(done[1].filename(), "b");
  EXPECT_EQ(unfinished, (std::vector<std::string>{"c"}));
}

// The sweep summary's row of a trial an earlier run ended, read from its folder.
TEST(TrialFolder, SummaryRowComesFromTheFolder) {
  test::TempDir tmp;
  const TrialFolder done(tmp / "done");
  done.begin("x: 1\n");
  Progress p = sample_progress();
  p.step = 700;
  done.mark_finished(p);
  const auto row = sweep::result_from_folder(done.dir(), /*failed=*/false);
  EXPECT_EQ(row.status, "finished");
  EXPECT_EQ(row.steps, 700);
  EXPECT_DOUBLE_EQ(row.losses.at("total"), 9.8022e4);

  const TrialFolder failed(tmp / "failed");
  failed.begin("x: 1\n");
  failed.write_progress(sample_progress());
  failed.mark_failed("trial x: loss is NaN or Inf at step 41");
  const auto bad = sweep::result_from_folder(failed.dir(), /*failed=*/true);
  EXPECT_EQ(bad.status, "failed");
  EXPECT_EQ(bad.steps, 40);
  EXPECT_THAT(bad.note, HasSubstr("loss is NaN or Inf at step 41"));
}

}  // namespace
}  // namespace dpst::trial_folder
