// Sweeps end to end: a trial co-trained in a pack equals the same trial trained alone,
// and a sweep of 5 trials in packs of 2 on 3 rank groups runs every trial once, survives
// being killed midway, and ends with one summary row per trial.
#include <regex>
#include <set>

#include "training_fixture.h"

namespace dpst::test {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

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

// Trains a pack of four (lambda3 0, 1e4, 1e5, 1e6) with the given frozen-net pass and
// the lambda3 = 1e5 trial alone; returns {in-pack weights, alone weights, lambda3 = 0 weights}.
struct PackAndAlone {
  std::map<std::string, torch::Tensor> in_pack, alone, other;
};

class SweepRunTest : public TrainingTest {
 protected:
  PackAndAlone train_pack_and_alone(const std::string& pass);
};

// optim.lr is a per-trial key: each trial of a pack has its own Adam, and its own lr in
// metrics.jsonl (the pack's first trial's lr was written for all of them before).
TEST_F(TrainingTest, EachTrialOfAPackRecordsItsOwnLearningRate) {
  const auto r = train(0, out_.path() / "lr", "--set sweep.method=grid --set \"sweep.axes={optim.lr: [1.0e-3, 2.0e-4]}\" "
                                               "--set sweep.trials_per_pack=2 --set train.iterations=2");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::set<double> lrs;
  for (const auto& entry : fs::directory_iterator(out_.path() / "lr" / "t")) {
    if (!fs::is_directory(entry)) continue;
    std::istringstream lines(read_file(entry.path() / "metrics.jsonl"));
    std::set<double> own;
    int records = 0;
    for (std::string line; std::getline(lines, line); ++records) own.insert(nlohmann::json::parse(line).at("lr").get<double>());
    EXPECT_EQ(records, 2) << entry.path();
    ASSERT_EQ(own.size(), 1u) << entry.path();
    lrs.insert(*own.begin());
  }
  EXPECT_EQ(lrs, (std::set<double>{2.0e-4, 1.0e-3}));
}

// Every rank group's rank 0 logs at info with its group in the tag: a 2-group sweep shows
// both groups' settings and progress (only world rank 0's group was seen before).
TEST_F(TrainingTest, EveryRankGroupLogsItsSettingsAndProgress) {
  const auto r = train(2, out_.path() / "groups", "--set sweep.method=grid --set \"sweep.axes={loss.depth_weight: [0.0, 1.0e5]}\" "
                                                   "--set sweep.ranks_per_trial=1 --set train.iterations=2");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const std::string group : {"0", "1"}) {
    const std::string tag = "\\[rank " + group + " group " + group + "\\] \\[info\\] ";
    EXPECT_THAT(r.err, ::testing::ContainsRegex(tag + "effective settings")) << r.err;
    EXPECT_THAT(r.err, ::testing::ContainsRegex(tag + "step 2/2 \\|")) << r.err;
  }
}

PackAndAlone SweepRunTest::train_pack_and_alone(const std::string& pass) {
  const fs::path& out = out_.path();
  PackAndAlone r;
  const auto pack = train(0, out / "pack",
                            kFourDepthWeights + " --set sweep.trials_per_pack=4 --set train.iterations=3 "
                                                "--set sweep.pack_frozen_pass=" + pass);
  EXPECT_EQ(pack.exit_code, 0) << pack.err;
  EXPECT_THAT(pack.err, HasSubstr("4 trial(s) in 1 pack(s) over 1 group(s)"));
  EXPECT_THAT(pack.err, HasSubstr(pass == "joint" ? "pack frozen pass       joint (one batch)"
                                                  : "pack frozen pass       per trial"));
  const auto alone = train(0, out / "alone", "--set loss.depth_weight=1.0e5 --set train.iterations=3");
  EXPECT_EQ(alone.exit_code, 0) << alone.err;
  const fs::path in_pack = trial_with_depth_weight(out / "pack" / "t", "100000.0");
  if (in_pack.empty()) {
    ADD_FAILURE() << "no trial with depth_weight 1e5 in " << (out / "pack" / "t");
    return r;
  }
  r.in_pack = weights(in_pack / "model.h5");
  r.alone = weights(out / "alone" / "t" / "model.h5");
  r.other = weights(trial_with_depth_weight(out / "pack" / "t", "0.0") / "model.h5");
  return r;
}

TEST_F(SweepRunTest, ATrialInAJointPackOfFourEqualsTheSameTrialAlone) {
  const auto w = train_pack_and_alone("joint");
  if (HasFailure()) return;
  EXPECT_LT(relative_error(w.in_pack, w.alone), 1e-5);
  EXPECT_LT(max_abs_difference(w.in_pack, w.alone), 1e-5);  // 1% of one Adam step
  // The pack's other trials trained to different weights (different lambda3).
  EXPECT_GT(relative_error(w.other, w.alone), 1e-4);
}

TEST_F(SweepRunTest, ATrialInAPerTrialPackOfFourIsBitIdenticalToTheTrialAlone) {
  // Per trial, the pack runs exactly the alone trial's operations on the same batches.
  const auto w = train_pack_and_alone("per_trial");
  if (HasFailure()) return;
  EXPECT_EQ(max_abs_difference(w.in_pack, w.alone), 0.0);
  EXPECT_GT(relative_error(w.other, w.alone), 1e-4);
}

// A trial whose loss overflows fails alone: its pack mates finish, on 2 ranks, in both
// frozen-pass modes (per trial, the failing trial's backward still runs on every rank).
// A sweep whose every trial diverges exits 4 (kExitDiverged) on every rank, across two
// rank groups that finish apart; it used to exit 0.
TEST_F(SweepRunTest, ASweepWhoseEveryTrialFailsExitsFour) {
  const auto r = train(2, out_ / "all-fail",
                       "--set sweep.method=grid --set \"sweep.axes={loss.content_weight: [1.0e299, 1.0e300]}\" "
                       "--set sweep.ranks_per_trial=1 --set train.iterations=3");
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_THAT(r.err, HasSubstr("sweep: every trial failed (2 of 2); see " + (out_ / "all-fail" / "t" / "summary.md").string()));
  const std::string csv = read_file(out_ / "all-fail" / "t" / "summary.csv");
  EXPECT_THAT(csv, Not(HasSubstr(",finished,")));
}

TEST_F(SweepRunTest, ADivergingTrialFailsAndItsPackMateFinishes) {
  for (const std::string pass : {"per_trial", "joint"}) {
    const fs::path out = out_ / pass;
    const auto r = train(2, out, "--set sweep.method=grid --set \"sweep.axes={loss.content_weight: [1.0e5, 1.0e300]}\" "
                                 "--set sweep.trials_per_pack=2 --set train.iterations=3 --set sweep.pack_frozen_pass=" + pass);
    EXPECT_EQ(r.exit_code, 0) << pass << "\n" << r.err;
    EXPECT_THAT(r.err, HasSubstr("loss is NaN or Inf at step 1 in term(s): total")) << pass;
    int finished = 0, failed = 0;
    for (const auto& entry : fs::directory_iterator(out / "t")) {
      if (!fs::is_directory(entry)) continue;
      if (fs::exists(entry.path() / "FAILED")) {
        ++failed;
        EXPECT_THAT(read_file(entry.path() / "config.yaml"), HasSubstr("content_weight: 1.0e300")) << pass;
        EXPECT_FALSE(fs::exists(entry.path() / "model.h5")) << pass;
      }
      if (fs::exists(entry.path() / "FINISHED")) {
        ++finished;
        EXPECT_TRUE(fs::exists(entry.path() / "model.h5")) << pass;
      }
    }
    EXPECT_EQ(failed, 1) << pass;
    EXPECT_EQ(finished, 1) << pass;
    const std::string csv = read_file(out / "t" / "summary.csv");
    EXPECT_THAT(csv, HasSubstr(",failed,")) << pass;
    EXPECT_THAT(csv, HasSubstr(",finished,")) << pass;
  }
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
