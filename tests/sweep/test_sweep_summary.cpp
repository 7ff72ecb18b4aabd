// summary.csv / summary.md: one sorted row per trial, rewritten safely by many writers.
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>

#include "sweep/summary_csv.h"
#include "sweep/trial_id.h"
#include "sweep_test_util.h"

namespace dpst::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

const char* kGrid =
    "sweep:\n  method: grid\n  axes:\n    loss.depth_weight: [0, 1.0e5, 2.0e5, 3.0e5]\n"
    "    loss.tv_weight: [0, 1.0e-6]\n";

sweep::TrialResult finished(int64_t steps, double total) {
  sweep::TrialResult r;
  r.status = "finished";
  r.steps = steps;
  r.losses = {{"content", 1.5}, {"style", 2.25}, {"depth", NAN}, {"tv", 0.125}, {"total", total}};
  return r;
}

std::vector<sweep::CsvRow> read_csv(const std::filesystem::path& file) {
  std::string error;
  const auto rows = sweep::parse_csv(read_file(file), &error);
  EXPECT_TRUE(rows.has_value()) << error;
  return rows ? *rows : std::vector<sweep::CsvRow>{};
}

class SweepSummaryTest : public SweepTest {
 protected:
  std::filesystem::path sweep_dir() const { return dir / "runs" / "demo"; }
};

TEST_F(SweepSummaryTest, AMultiStyleTrialAddsAStyleLossColumnPerStyle) {
  const auto trials = sweep::expand(
      load_sweep("sweep:\n  method: grid\n  axes:\n    loss.style_image: [[candy.jpg, wave.jpg], candy.jpg]\n"), 1,
      false);
  ASSERT_EQ(trials.size(), 2u);
  sweep::TrialResult multi = finished(10, 3.0);
  multi.losses["style_candy"] = 0.5;
  multi.losses["style_wave"] = 4.0;
  sweep::record_result(sweep_dir(), trials[0], multi, "made by a test");
  sweep::record_result(sweep_dir(), trials[1], finished(10, 2.0), "made by a test");
  const auto rows = read_csv(sweep_dir() / "summary.csv");
  ASSERT_EQ(rows.size(), 3u);
  // After the loss columns, before loss_nets; rewritten tables keep them.
  EXPECT_EQ(rows[0], (sweep::CsvRow{"trial", "status", "loss.style_image", "steps", "content", "style", "depth", "tv",
                                    "total", "style_candy", "style_wave", "loss_nets", "finished_at", "note"}));
  const auto& multi_row = rows[1][0] == trials[0].id ? rows[1] : rows[2];
  const auto& single_row = rows[1][0] == trials[0].id ? rows[2] : rows[1];
  EXPECT_EQ(multi_row[9], "0.5");
  EXPECT_EQ(multi_row[10], "4");
  EXPECT_EQ(single_row[9], "") << "a one-style trial has no per-style column";
  const std::string md = read_file(sweep_dir() / "summary.md");
  EXPECT_THAT(md, HasSubstr("| style_candy | style_wave |"));
  EXPECT_THAT(md, HasSubstr("A multi-style trial's style_<name> columns are its style term per style"));
  // A trial that is not in the registry's loss columns or per-style ones is refused.
  sweep::TrialResult odd = finished(10, 1.0);
  odd.losses["stile"] = 1.0;
  EXPECT_THROW(sweep::record_result(sweep_dir(), trials[1], odd, ""), InternalError);
}

TEST_F(SweepSummaryTest, OneRowPerTrialSortedByIdWithEverySweptKey) {
  const auto trials = sweep::expand(load_sweep(kGrid), 1, false);
  sweep::record_result(sweep_dir(), trials[5], finished(100, 9.0), "made by a test");
  sweep::record_result(sweep_dir(), trials[0], finished(100, 8.0), "made by a test");
  const auto rows = read_csv(sweep_dir() / "summary.csv");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0], (sweep::CsvRow{"trial", "status", "loss.depth_weight", "loss.tv_weight", "steps", "content",
                                    "style", "depth", "tv", "total", "loss_nets", "finished_at", "note"}));
  const auto& first = trials[0].id < trials[5].id ? trials[0] : trials[5];
  EXPECT_EQ(rows[1][0], first.id);
  EXPECT_LT(rows[1][0], rows[2][0]);
  const auto& row0 = rows[1][0] == trials[0].id ? rows[1] : rows[2];
  EXPECT_EQ(row0[1], "finished");
  EXPECT_EQ(row0[2], "0.0");
  EXPECT_EQ(row0[3], "0.0");
  EXPECT_EQ(row0[4], "100");
  EXPECT_EQ(row0[5], "1.5");
  EXPECT_EQ(row0[7], "") << "a term that was not computed is empty";
  EXPECT_EQ(row0[9], "8");
  EXPECT_EQ(row0[10], "RANDOM INIT: vgg16") << "depth_weight 0: no depth network";
  const auto& row5 = rows[1][0] == trials[5].id ? rows[1] : rows[2];
  EXPECT_EQ(row5[10], "RANDOM INIT: vgg16, depth; depth network hourglass3");
  EXPECT_THAT(row0[11], ::testing::MatchesRegex("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z"));
  EXPECT_TRUE(std::filesystem::exists(sweep_dir() / "summary.lock"));
}

TEST_F(SweepSummaryTest, RecordingATrialAgainReplacesItsRow) {
  const auto trials = sweep::expand(load_sweep(kGrid), 1, false);
  sweep::TrialResult failed;
  failed.status = "failed";
  failed.steps = 40;
  failed.note = "diverged at step 40: loss, \"nan\"\nsee dpst.log | FAILED";
  sweep::record_result(sweep_dir(), trials[2], failed, "");
  auto rows = read_csv(sweep_dir() / "summary.csv");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1][1], "failed");
  EXPECT_EQ(rows[1][12], failed.note) << "commas, quotes and line breaks survive the CSV";
  const std::string md = read_file(sweep_dir() / "summary.md");
  EXPECT_THAT(md, HasSubstr("| diverged at step 40: loss, \"nan\" see dpst.log \\| FAILED |"));
  sweep::record_result(sweep_dir(), trials[2], finished(200, 7.0), "");
  rows = read_csv(sweep_dir() / "summary.csv");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1][1], "finished");
  EXPECT_EQ(rows[1][4], "200");
  EXPECT_EQ(rows[1][12], "");
}

TEST_F(SweepSummaryTest, ConcurrentWritersKeepEveryRow) {
  const auto trials = sweep::expand(load_sweep(kGrid), 1, false);
  ASSERT_EQ(trials.size(), 8u);
  int go[2];
  ASSERT_EQ(::pipe(go), 0);
  std::vector<pid_t> children;
  for (size_t i = 0; i < trials.size(); ++i) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(go[1]);
      char c;
      (void)!::read(go[0], &c, 1);  // start together: returns at EOF when the parent closes
      int rc = 0;
      try {
        for (int k = 0; k < 5; ++k) {
          sweep::record_result(sweep_dir(), trials[i], finished(100 + k, static_cast<double>(i)), "concurrent");
        }
      } catch (const std::exception& e) {
        std::fprintf(stderr, "child %zu: %s\n", i, e.what());
        rc = 1;
      }
      ::_exit(rc);
    }
    children.push_back(pid);
  }
  ::close(go[0]);
  ::close(go[1]);
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  const auto rows = read_csv(sweep_dir() / "summary.csv");
  ASSERT_EQ(rows.size(), trials.size() + 1);
  std::vector<std::string> expected = ids(trials);
  std::sort(expected.begin(), expected.end());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(rows[i + 1][0], expected[i]);
    EXPECT_EQ(rows[i + 1][4], "104") << "each trial's last record wins";
  }
  const std::string md = read_file(sweep_dir() / "summary.md");
  EXPECT_EQ(count(md, "\n| " + trials[0].id.substr(0, 2)), 2) << md;  // d0-tv0 and d0-tv1e-6
  EXPECT_THAT(md, HasSubstr("8 trials recorded: 8 finished, 0 failed."));
  // No temporaries are left behind.
  for (const auto& entry : std::filesystem::directory_iterator(sweep_dir())) {
    EXPECT_THAT(entry.path().filename().string(), Not(StartsWith("."))) << entry.path();
  }
}

TEST_F(SweepSummaryTest, MarkdownSaysHowItWasMade) {
  const auto base = load_sweep(kGrid);
  const auto trials = sweep::expand(base, 1, false);
  const std::string header = sweep::summary_header(base, "dpst-dist --config `sweep.yaml`");
  EXPECT_THAT(header, HasSubstr("- command: `dpst-dist --config 'sweep.yaml'`\n"));
  EXPECT_THAT(header, HasSubstr("- configuration: hash " + sweep::hex8(sweep::fnv1a32(base.dump())) +
                                " (FNV-1a of the resolved base configuration, dpst-dist --dump-config)\n"));
  EXPECT_THAT(header, HasSubstr("- loss networks: vgg16 **RANDOM INIT**; depth hourglass3 (loss_nets.depth_net) **RANDOM INIT**\n"));
  EXPECT_THAT(header, HasSubstr("**RANDOM INIT loss networks: these losses are not comparable"));
  sweep::record_result(sweep_dir(), trials[1], finished(100, 12345.678), header);
  const std::string md = read_file(sweep_dir() / "summary.md");
  EXPECT_THAT(md, StartsWith("# Sweep summary: demo\n\n- command: `dpst-dist"));
  EXPECT_THAT(md, HasSubstr("1 trials recorded: 1 finished, 0 failed."));
  EXPECT_THAT(md, HasSubstr("| trial | status | loss.depth_weight | loss.tv_weight | steps | content | style | depth "
                            "| tv | total | loss_nets | finished_at | note |\n| --- |"));
  EXPECT_THAT(md, HasSubstr("| " + trials[1].id + " | finished | 0.0 | 1.0e-6 | 100 | 1.5 | 2.25 | - | 0.125 | "
                            "1.235e+04 | RANDOM INIT: vgg16 |"));
}

TEST_F(SweepSummaryTest, HeaderWithPretrainedNetworksAndNoDepthTerm) {
  const auto base = load_sweep("loss:\n  depth_weight: 0\n", {"loss_nets.vgg16_weights=/w/vgg16.h5"});
  const std::string header = sweep::summary_header(base, "");
  EXPECT_THAT(header, Not(HasSubstr("command")));
  EXPECT_THAT(header, HasSubstr("- loss networks: vgg16 /w/vgg16.h5; depth not used (loss.depth_weight is 0)\n"));
  EXPECT_THAT(header, Not(HasSubstr("RANDOM INIT")));
}

TEST_F(SweepSummaryTest, WrongStatusOrLossNameIsABug) {
  const auto trials = sweep::expand(load_sweep(kGrid), 1, false);
  sweep::TrialResult r = finished(1, 1.0);
  r.status = "done";
  try {
    sweep::record_result(sweep_dir(), trials[0], r, "");
    FAIL();
  } catch (const InternalError& e) {
    EXPECT_THAT(e.what(), HasSubstr("summary status must be finished or failed (got 'done')"));
  }
  r = finished(1, 1.0);
  r.losses["perceptual"] = 1.0;
  try {
    sweep::record_result(sweep_dir(), trials[0], r, "");
    FAIL();
  } catch (const InternalError& e) {
    EXPECT_THAT(e.what(), HasSubstr("'perceptual' is not a summary loss column (content, style, depth, tv, total or style_<style>)"));
  }
}

TEST_F(SweepSummaryTest, AnUnwritableSweepFolderIsAnOutputError) {
  const auto trials = sweep::expand(load_sweep(kGrid), 1, false);
  write_file(dir / "a_file", "x");
  try {
    sweep::record_result(dir / "a_file" / "demo", trials[0], finished(1, 1.0), "");
    FAIL();
  } catch (const OutputError& e) {
    EXPECT_THAT(e.what(), HasSubstr((dir / "a_file" / "demo").string() + ": cannot create the sweep folder"));
    EXPECT_EQ(e.exit_code(), kExitOutput);
  }
}

TEST_F(SweepSummaryTest, AMalformedSummaryIsReportedNotOverwritten) {
  const auto trials = sweep::expand(load_sweep(kGrid), 1, false);
  std::filesystem::create_directories(sweep_dir());
  const auto csv = sweep_dir() / "summary.csv";
  auto error_of = [&] {
    try {
      sweep::record_result(sweep_dir(), trials[0], finished(1, 1.0), "");
    } catch (const OutputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  write_file(csv, "trial,status\nx,\"unterminated\n");
  EXPECT_EQ(error_of(), csv.string() + ": line 3: a quoted field is not closed; repair it or move it away "
                                       "(finished trials are not recorded again)");
  EXPECT_EQ(read_file(csv), "trial,status\nx,\"unterminated\n");
  write_file(csv, "name,status\nx,finished\n");
  EXPECT_THAT(error_of(), HasSubstr(csv.string() + ": the first column is not 'trial'"));
}

TEST(SweepSummaryCsv, QuotingRoundTripsAndBadShapesAreNamed) {
  const sweep::CsvRow row = {"plain", "a,b", "say \"hi\"", "two\nlines", ""};
  std::string error;
  const auto rows = sweep::parse_csv(sweep::csv_line({"1", "2", "3", "4", "5"}) + sweep::csv_line(row), &error);
  ASSERT_TRUE(rows.has_value()) << error;
  EXPECT_EQ((*rows)[1], row);
  EXPECT_EQ(sweep::csv_line(row), "plain,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",\n");
  EXPECT_EQ(sweep::parse_csv("a,b\r\n1,2", &error)->at(1), (sweep::CsvRow{"1", "2"}));
  EXPECT_FALSE(sweep::parse_csv("a,b,c\n1,2,3\n1,2\n", &error));
  EXPECT_EQ(error, "line 3: 2 fields, the header has 3");
  EXPECT_FALSE(sweep::parse_csv("a,b\n\"x\"y,2\n", &error));
  EXPECT_EQ(error, "line 2: text after a closing quote");
  EXPECT_TRUE(sweep::parse_csv("", &error)->empty());
}

}  // namespace
}  // namespace dpst::test
