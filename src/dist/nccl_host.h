// The host-side pieces of the NCCL backend (built only with NCCL): the dtype mapping and
// the wording of its errors. Kept apart from comm_nccl.cpp so that they are unit-tested
// on machines without a GPU.
#pragma once

#include <nccl.h>

#include <string>

#include <c10/core/ScalarType.h>

namespace dpst::dist {

// The NCCL type of a tensor dtype; InternalError naming the dtype for one NCCL lacks.
ncclDataType_t nccl_type(c10::ScalarType type);

// "rank 1: all-reduce did not complete within 30 s (train.collective_timeout_s); ..."
std::string nccl_timeout_message(int rank, const std::string& what, double timeout_s);

// "rank 1: all-reduce: NCCL error <NCCL's text for result>"
std::string nccl_error_message(int rank, const std::string& what, ncclResult_t result);

}  // namespace dpst::dist
