#include <gtest/gtest.h>
#include <gmock/gmock.h>

#include "common/errors.h"

namespace dpst {
namespace {

TEST(Errors, CheckThrowsTheNamedTypeWithMessageAndLocation) {
  try {
    const int images = 7;
    DPST_CHECK(images == 0, InputError, "data.h5: expected 0 images, found " << images);
    FAIL() << "DPST_CHECK did not throw";
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "data.h5: expected 0 images, found 7");
    EXPECT_THAT(e.where(), ::testing::MatchesRegex(".*test_errors\\.cpp:[0-9]+"));
    EXPECT_EQ(e.exit_code(), kExitInput);
  }
}

TEST(Errors, CheckPassesSilently) { EXPECT_NO_THROW(DPST_CHECK(1 + 1 == 2, InternalError, "math")); }

TEST(Errors, EveryTypeMapsToItsDocumentedExitCode) {
  EXPECT_EQ(exit_code_for(InternalError("x")), 1);
  EXPECT_EQ(exit_code_for(ConfigError("x")), 2);
  EXPECT_EQ(exit_code_for(InputError("x")), 3);
  EXPECT_EQ(exit_code_for(DistributedError("x")), 5);
  EXPECT_EQ(exit_code_for(OutputError("x")), 6);
  EXPECT_EQ(exit_code_for(std::runtime_error("x")), 1);
  EXPECT_EQ(kExitRequeue, 75);
}

TEST(Errors, SourceLocationIsRelativeToSrc) {
  EXPECT_EQ(source_location("/home/u/dpst/src/data/dataset.cpp", 12), "src/data/dataset.cpp:12");
  EXPECT_EQ(source_location("other.cpp", 3), "other.cpp:3");
}

}  // namespace
}  // namespace dpst
