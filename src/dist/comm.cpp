// The backend-neutral half of comm.h: the single-process Comm, weight checksums and the
// NCCL factories' stand-ins for builds without NCCL. Built in both flavours of src/dist
// (over MPI, and with no MPI at all for the GPU bundle).
#include "dist/comm.h"

#include <utility>

#include "common/errors.h"
#include "common/hash.h"

namespace dpst::dist {

namespace {

class SingleProcessComm final : public Comm {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  std::string backend() const override { return "none (single process)"; }
  void broadcast(torch::Tensor&, int) override {}
  void allreduce_mean(torch::Tensor&) override {}
  std::unique_ptr<PendingReduce> allreduce_mean_async(torch::Tensor, const std::string&) override {
    struct Done final : PendingReduce {
      bool test() override { return true; }
      void wait() override {}
    };
    return std::make_unique<Done>();
  }
  int64_t allreduce_max(int64_t value, const std::string&) override { return value; }
  void barrier(const std::string&) override {}
};

}  // namespace

std::unique_ptr<Comm> make_single_process_comm() { return std::make_unique<SingleProcessComm>(); }

#ifndef DPST_HAVE_NCCL
namespace {
[[noreturn]] void no_nccl() {
  DPST_THROW(DistributedError, "this dpst was built without NCCL; CUDA tensors cannot be communicated "
                               "(rebuild against a CUDA LibTorch with NCCL found, see README)");
}
}  // namespace

NcclId new_nccl_id() { no_nccl(); }
std::unique_ptr<Comm> make_nccl_comm(int, int, const NcclId&, int, const CommOptions&) { no_nccl(); }
#endif

std::unique_ptr<Comm> make_nccl_comm_of_one(int device_index, const CommOptions& options) {
  return make_nccl_comm(0, 1, new_nccl_id(), device_index, options);
}

uint64_t checksum(const std::vector<torch::Tensor>& tensors) {
  uint64_t h = fnv1a64(nullptr, 0);
  for (const auto& t : tensors) {
    const torch::Tensor c = t.detach().to(torch::kCPU).contiguous();
    h = fnv1a64(c.data_ptr(), static_cast<size_t>(c.numel()) * c.element_size(), h);
  }
  return h;
}

bool identical_on_all_ranks(Comm& comm, const std::vector<torch::Tensor>& tensors, uint64_t* checksum_out,
                            const std::string& what) {
  const uint64_t sum = checksum(tensors);
  *checksum_out = sum;
  // allreduce_max takes signed 64-bit values: drop one bit so the checksum fits. The max
  // equals every rank's own value only if all agree (up to that bit), and a second max
  // tells every rank whether any rank saw a difference.
  const int64_t mine = static_cast<int64_t>(sum >> 1);
  const int64_t highest = comm.allreduce_max(mine, what + " checksum");
  return comm.allreduce_max(highest != mine ? 1 : 0, what + " checksum agreement") == 0;
}

}  // namespace dpst::dist
