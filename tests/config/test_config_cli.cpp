// dpst-dist's command line as a user meets it: exit codes, stderr, round-trips, MPI.
#include <gtest/gtest.h>
#include <gmock/gmock.h>

#include "support/support.h"

namespace dpst::test {
namespace {

using ::testing::HasSubstr;

const std::string kTrainYaml = std::string(DPST_SOURCE_DIR) + "/configs/train.yaml";

TEST(DpstDistCli, DumpConfigRoundTrips) {
  TempDir dir;
  const auto first = run(bin("dpst-dist") + " --config " + kTrainYaml + " --dump-config");
  ASSERT_EQ(first.exit_code, 0) << first.err;
  write_file(dir / "dumped.yaml", first.out);
  const auto second = run(bin("dpst-dist") + " --config " + (dir / "dumped.yaml").string() + " --dump-config");
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(first.out, second.out);
  // The paper's settings survive.
  EXPECT_THAT(first.out, HasSubstr("  image_size: 256\n"));
  EXPECT_THAT(first.out, HasSubstr("  batch_size: 3\n"));
  EXPECT_THAT(first.out, HasSubstr("  iterations: 40000\n"));
  EXPECT_THAT(first.out, HasSubstr("  lr: 0.001\n"));
  EXPECT_THAT(first.out, HasSubstr("  style_layers: [relu1_2, relu2_2, relu3_3, relu4_3]\n"));
  EXPECT_THAT(first.out, HasSubstr("  depth_layers: [output]\n"));
}

TEST(DpstDistCli, ConfigErrorsGoToStderrWithExitCode2) {
  TempDir dir;
  write_file(dir / "bad.yaml", "loss:\n  contnet_weight: 1\n");
  const auto r = run(bin("dpst-dist") + " --config " + (dir / "bad.yaml").string() + " --dump-config");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_THAT(r.err, HasSubstr((dir / "bad.yaml").string() +
                               ":2:3: loss.contnet_weight: unknown key (did you mean 'loss.content_weight'?)"));
}

TEST(DpstDistCli, SetOverridesFilesInTheDump) {
  const auto r = run(bin("dpst-dist") + " --config " + kTrainYaml + " --set optim.lr=5e-4 --set train.batch_size=2 --dump-config");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("  lr: 0.0005\n"));
  EXPECT_THAT(r.out, HasSubstr("  batch_size: 2\n"));
}

TEST(DpstDistCli, CheckReportsMissingFilesOfTheShippedConfig) {
  // configs/train.yaml points at data that a fresh clone does not have.
  TempDir dir;
  const auto r = run("cd " + dir.path().string() + " && " + bin("dpst-dist") + " --config " + kTrainYaml +
                     " --set data.path=missing.h5 --check");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--set data.path=missing.h5: data.path: file not found: " +
                               (dir / "missing.h5").string()));
}

TEST(DpstDistCli, HelpConfigListsKeys) {
  const auto r = run(bin("dpst-dist") + " --help-config");
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, HasSubstr("loss.depth_weight  <float>"));
  EXPECT_THAT(r.out, HasSubstr("sweep.ranks_per_trial  <int>"));
}

TEST(DpstDistCli, VersionAndBuildInfo) {
  const auto v = run(bin("dpst-dist") + " --version");
  ASSERT_EQ(v.exit_code, 0);
  EXPECT_THAT(v.out, ::testing::MatchesRegex("dpst [0-9]+\\.[0-9]+\\.[0-9]+ \\(git [^)]+\\)\n"));
  const auto b = run(bin("dpst-dist") + " --build-info");
  ASSERT_EQ(b.exit_code, 0) << b.err;
  for (const char* field : {"dpst ", "git ", "LibTorch ", "MPI ", "HDF5 ", "CUDA ", "NCCL "}) {
    EXPECT_THAT(b.out, HasSubstr(field));
  }
  EXPECT_THAT(b.out, ::testing::ContainsRegex("LibTorch +[0-9]+\\.[0-9]+"));
  EXPECT_THAT(b.out, ::testing::ContainsRegex("HDF5 +1\\.[0-9]+"));
#ifndef DPST_HAVE_CUDA
  EXPECT_THAT(b.out, ::testing::ContainsRegex("CUDA +off"));
  EXPECT_THAT(b.out, ::testing::ContainsRegex("NCCL +off"));
#endif
}

TEST(DpstDistCli, BuildInfoUnderMpirunPrintsOnce) {
  const auto r = run(mpirun(2) + " " + bin("dpst-dist") + " --build-info");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(count(r.out, "LibTorch "), 1) << r.out;
  EXPECT_THAT(r.out, HasSubstr("Open MPI"));
}

TEST(DpstDistCli, ConfigErrorUnderMpirunIsPrintedOnceAndExits2) {
  const auto r = run(mpirun(2) + " " + bin("dpst-dist") + " --set optim.lr=-1 --dump-config");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(count(r.err, "optim.lr: must be > 0"), 1) << r.err;
}

TEST(DpstDistCli, BadCommandLineExits2) {
  const auto r = run(bin("dpst-dist") + " --no-such-flag");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--no-such-flag"));
}

TEST(DpstDistCli, BadLogLevelExits2) {
  const auto r = run(bin("dpst-dist") + " --log-level loud --build-info");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--log-level: unknown level 'loud'"));
}

TEST(DpstDistCli, MissingConfigFileExits2) {
  const auto r = run(bin("dpst-dist") + " --config /nonexistent/x.yaml --dump-config");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("/nonexistent/x.yaml: cannot read config file"));
}

}  // namespace
}  // namespace dpst::test
