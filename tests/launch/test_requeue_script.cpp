// launch/slurm/run-with-requeue.sh with stand-ins for srun and scontrol: Slurm's signal
// to the batch shell reaches the job step, and the requeue exit code requeues the job.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/support.h"

namespace dpst::test {
namespace {

const std::string kScript = std::string(DPST_SOURCE_DIR) + "/launch/slurm/run-with-requeue.sh";

class RequeueScript : public ::testing::Test {
 protected:
  void SetUp() override {
    // srun: runs its arguments; scontrol: records how it was called.
    write_file(dir / "bin" / "srun", "#!/bin/bash\nshift 2\nexec \"$@\"\n");
    write_file(dir / "bin" / "scontrol", "#!/bin/bash\necho \"$@\" >> " + (dir / "scontrol.log").string() + "\n");
    // A job step that checkpoints and exits 75 on SIGUSR1, like dpst-dist.
    write_file(dir / "step.sh",
               "#!/bin/bash\ntrap 'echo got-usr1 > " + (dir / "step.log").string() +
                   "; exit 75' USR1\necho started > " + (dir / "started").string() +
                   "\nfor i in $(seq 300); do sleep 0.1; done\nexit 0\n");
    run("chmod +x " + (dir / "bin" / "srun").string() + " " + (dir / "bin" / "scontrol").string() + " " +
        (dir / "step.sh").string());
  }
  std::string env() const { return "PATH=" + (dir / "bin").string() + ":$PATH SLURM_JOB_ID=4242 "; }
  TempDir dir;
};

TEST_F(RequeueScript, SignalReachesTheStepAndTheJobIsRequeued) {
  const auto r = run(env() + "bash -c '" + kScript + " " + (dir / "step.sh").string() +
                     " & pid=$!; while [ ! -f " + (dir / "started").string() +
                     " ]; do sleep 0.05; done; kill -USR1 $pid; wait $pid'");
  EXPECT_EQ(r.exit_code, 75) << r.out << r.err;
  EXPECT_EQ(read_file(dir / "step.log"), "got-usr1\n");
  EXPECT_EQ(read_file(dir / "scontrol.log"), "requeue 4242\n");
  EXPECT_THAT(r.out, ::testing::HasSubstr("requeueing job 4242"));
}

TEST_F(RequeueScript, OtherExitCodesAreReturnedWithoutRequeue) {
  write_file(dir / "fail.sh", "#!/bin/bash\nexit 3\n");
  run("chmod +x " + (dir / "fail.sh").string());
  const auto r = run(env() + kScript + " " + (dir / "fail.sh").string());
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_FALSE(std::filesystem::exists(dir / "scontrol.log"));
}

}  // namespace
}  // namespace dpst::test
