// Sweeps end to end: a trial co-trained in a pack equals the same trial trained alone,
// and a sweep of 5 trials in packs of 2 on 3 rank groups runs every trial once, survives
// being killed midway, and ends with one summary row per trial.
#include <regex>

#include "training_fixture.h"

namespace dpst::test {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class SweepRunTest : public TrainingTest {};

const std::string kFourDepthWeights = "--set sweep.method=grid --set \"sweep.axes={loss.depth_weight: [0.0, 1.0e4, 1.0e5, 1.0e6]}\"";

// The trial folder whose config has loss.depth_weight == value.
fs::path trial_with_depth_weight(const fs::path& sweep, const std::string& value) {
  for (const auto& entry : fs::directory_iterator(sweep)) {
    if (!fs::is_directory(entry)) continue;
    if (read_file(entry.path() / "config.yaml").find("  depth_weight: " + value + "\n") != std::string::npos) {
      return entry.path();
    }
  }
  return {};
}

TEST_F(SweepRunTest, ATrialInAPackOfFourEqualsTheSameTrialAlone) {
  const auto pack = train(0, out_ / "pack", kFourDepthWeights + " --set sweep.trials_per_pack=4 --set train.iterations=3");
  ASSERT_EQ(pack.exit_code, 0) << pack.err;
  EXPECT_THAT(pack.err, HasSubstr("4 trial(s) in 1 pack(s) over 1 group(s)"));
  const auto alone = train(0, out_ / "alone", "--set loss.depth_weight=1.0e5 --set train.iterations=3");
  ASSERT_EQ(alone.exit_code, 0) << alone.err;
  const fs::path in_pack = trial_with_depth_weight(out_ / "pack" / "t", "100000.0");
  ASSERT_FALSE(in_pack.empty());
  const auto a = weights(in_pack / "model.h5"), b = weights(out_ / "alone" / "t" / "model.h5");
  EXPECT_LT(relative_error(a, b), 1e-5);
  EXPECT_LT(max_abs_difference(a, b), 1e-5);  // 1% of one Adam step
  // The pack's other trials trained to different weights (different lambda3).
  EXPECT_GT(relative_error(weights(trial_with_depth_weight(out_ / "pack" / "t", "0.0") / "model.h5"), b), 1e-4);
}

int summary_rows(const fs::path& csv) {
  std::istringstream in(read_file(csv));
  std::string line;
  int rows = -1;  // the header
  while (std::getline(in, line)) rows += line.empty() ? 0 : 1;
  return rows;
}

TEST_F(SweepRunTest, FiveTrialsInPacksOfTwoOnThreeGroupsSurviveAKill) {
  const std::string five = "--set sweep.method=grid --set \"sweep.axes={loss.depth_weight: [0.0, 1.0e3, 1.0e4, 1.0e5, 1.0e6]}\" "
                           "--set sweep.ranks_per_trial=1 --set sweep.trials_per_pack=2 --set train.iterations=40 "
                           "--set train.checkpoint_every=2";
  const fs::path dir = out_ / "sweep" / "t";
  const auto listing = run(command(3, out_ / "sweep", five + " --list-trials"));
  ASSERT_EQ(listing.exit_code, 0) << listing.err;

  const pid_t pid = spawn(command(3, out_ / "sweep", five), out_ / "first.log");
  // Kill the whole job once the single-trial pack (group 2) has finished and the others are midway.
  ASSERT_TRUE(wait_for([&] {
    int finished = 0;
    if (!fs::is_directory(dir)) return false;
    for (const auto& e : fs::directory_iterator(dir)) finished += fs::exists(e.path() / "FINISHED") ? 1 : 0;
    return finished >= 1;
  }, 300)) << read_file(out_ / "first.log");
  kill(pid, SIGKILL);
  wait_exit(pid);
  run("pkill -9 -f 'dpst-dist --config " + (data_dir_->path() / "tiny.yaml").string() + ".*" + (out_ / "sweep").string() + "' || true");
  std::set<std::string> finished_first;
  std::map<std::string, std::string> finished_marker;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (fs::exists(e.path() / "FINISHED")) {
      finished_first.insert(e.path().filename());
      finished_marker[e.path().filename()] = read_file(e.path() / "metrics.jsonl");
    }
  }
  ASSERT_GE(finished_first.size(), 1u);
  ASSERT_LT(finished_first.size(), 5u) << "the job was not killed midway";

  const auto rerun = run(command(3, out_ / "sweep", five));
  ASSERT_EQ(rerun.exit_code, 0) << rerun.err.substr(0, 2000);
  // A finished trial is skipped (its group's log line is info level on a rank > 0, so
  // the proof is that its metrics did not grow).
  for (const auto& id : finished_first) {
    EXPECT_EQ(read_file(dir / id / "metrics.jsonl"), finished_marker[id]) << id << " was trained again";
  }
  int trials = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (!fs::is_directory(e)) continue;
    ++trials;
    EXPECT_TRUE(fs::exists(e.path() / "FINISHED")) << e.path();
    EXPECT_THAT(listing.out, HasSubstr(e.path().filename().string()));  // --list-trials showed it
    EXPECT_TRUE(fs::exists(e.path() / "model.h5")) << e.path();
    // Every step appears exactly once in the trial's metrics, resumed or not.
    const std::string metrics = read_file(e.path() / "metrics.jsonl");
    for (int step : {1, 20, 40}) {
      EXPECT_EQ(count(metrics, "{\"step\":" + std::to_string(step) + ","), 1) << e.path() << " step " << step;
    }
  }
  EXPECT_EQ(trials, 5);
  EXPECT_EQ(summary_rows(dir / "summary.csv"), 5) << read_file(dir / "summary.csv");
  EXPECT_THAT(read_file(dir / "summary.md"), HasSubstr("loss.depth_weight"));
}

}  // namespace
}  // namespace dpst::test
