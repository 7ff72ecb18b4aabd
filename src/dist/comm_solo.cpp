// make_group_comm without MPI (the solo flavour of src/dist): the world is one process,
// so every rank group is a group of one.
#include "common/errors.h"
#include "dist/comm.h"

namespace dpst::dist {

std::unique_ptr<Comm> make_group_comm(int color, const torch::Device&, const CommOptions&) {
  DPST_CHECK(color == 0, InternalError, "rank group " << color << " in a world of one process");
  return make_single_process_comm();
}

}  // namespace dpst::dist
