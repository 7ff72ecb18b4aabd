// The NCCL backend's host-side logic, which runs without a GPU: dtype mapping and the
// wording of its errors (the collectives themselves need a GPU: tests labelled gpu).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/errors.h"

#ifdef DPST_HAVE_NCCL
#include "dist/nccl_host.h"
#endif

namespace dpst::dist {
namespace {
using ::testing::HasSubstr;

#ifdef DPST_HAVE_NCCL
TEST(NcclHost, DtypeMapping) {
  EXPECT_EQ(nccl_type(c10::ScalarType::Float), ncclFloat32);
  EXPECT_EQ(nccl_type(c10::ScalarType::Double), ncclFloat64);
  EXPECT_EQ(nccl_type(c10::ScalarType::Half), ncclFloat16);
  EXPECT_EQ(nccl_type(c10::ScalarType::BFloat16), ncclBfloat16);
  EXPECT_EQ(nccl_type(c10::ScalarType::Long), ncclInt64);
  EXPECT_EQ(nccl_type(c10::ScalarType::Int), ncclInt32);
  EXPECT_EQ(nccl_type(c10::ScalarType::Byte), ncclUint8);
  EXPECT_EQ(nccl_type(c10::ScalarType::Char), ncclInt8);
}

TEST(NcclHost, UnsupportedDtypeNamesIt) {
  for (auto type : {c10::ScalarType::Bool, c10::ScalarType::ComplexFloat, c10::ScalarType::Short}) {
    try {
      nccl_type(type);
      FAIL() << "no error for " << type;
    } catch (const InternalError& e) {
      EXPECT_THAT(e.what(), HasSubstr(std::string("NCCL backend: unsupported dtype ") + c10::toString(type)));
    }
  }
}

TEST(NcclHost, TimeoutMessageNamesRankOperationAndKey) {
  EXPECT_EQ(nccl_timeout_message(2, "all-reduce of bucket 3", 30),
            "rank 2: all-reduce of bucket 3 did not complete within 30 s (train.collective_timeout_s); "
            "another rank has died or hangs");
}

TEST(NcclHost, ErrorMessageCarriesNcclsText) {
  const std::string m = nccl_error_message(1, "broadcast", ncclUnhandledCudaError);
  EXPECT_THAT(m, HasSubstr("rank 1: broadcast: NCCL error "));
  EXPECT_THAT(m, HasSubstr(ncclGetErrorString(ncclUnhandledCudaError)));
}
#else
TEST(NcclHost, NeedsNccl) { GTEST_SKIP() << "dpst was built without NCCL (no CUDA toolkit or no NCCL found)"; }
#endif

}  // namespace
}  // namespace dpst::dist
