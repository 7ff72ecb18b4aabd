#include "dist/nccl_host.h"

#include <sstream>
#include <string>

#include "common/errors.h"

namespace dpst::dist {

ncclDataType_t nccl_type(c10::ScalarType type) {
  switch (type) {
    case c10::ScalarType::Float: return ncclFloat32;
    case c10::ScalarType::Double: return ncclFloat64;
    case c10::ScalarType::Half: return ncclFloat16;
    case c10::ScalarType::BFloat16: return ncclBfloat16;
    case c10::ScalarType::Long: return ncclInt64;
    case c10::ScalarType::Int: return ncclInt32;
    case c10::ScalarType::Byte: return ncclUint8;
    case c10::ScalarType::Char: return ncclInt8;
    default: break;
  }
  DPST_THROW(InternalError, "NCCL backend: unsupported dtype " << type
                                << " (NCCL reduces float32/64, float16, bfloat16, int8/32/64 and uint8)");
}

std::string nccl_timeout_message(int rank, const std::string& what, double timeout_s) {
  std::ostringstream os;
  os << "rank " << rank << ": " << what << " did not complete within " << timeout_s
     << " s (train.collective_timeout_s); another rank has died or hangs";
  return os.str();
}

std::string nccl_error_message(int rank, const std::string& what, ncclResult_t result) {
  return "rank " + std::to_string(rank) + ": " + what + ": NCCL error " + ncclGetErrorString(result);
}

}  // namespace dpst::dist
