// check_on_every_rank (mpi_session.h): the same for both flavours, over MpiSession::sum.
#include <spdlog/spdlog.h>

#include "common/errors.h"
#include "dist/mpi_session.h"

namespace dpst::dist {

void check_on_every_rank(const MpiSession& mpi, const std::string& what, double timeout_s,
                         const std::function<void()>& check) {
  std::string error;
  try {
    check();
  } catch (const ConfigError& e) {
    error = e.what();
  }
  const int64_t failed = mpi.sum({error.empty() ? 0 : 1}, "agreeing on " + what, timeout_s).front();
  if (failed == 0) return;
  if (!error.empty() && mpi.world_rank() != 0) spdlog::error("{}", error);
  DPST_THROW(ConfigError, (!error.empty() ? error
                                          : what + " failed on " + std::to_string(failed) + " of " +
                                                std::to_string(mpi.world_size()) +
                                                " rank(s); their error lines name the problem"));
}

}  // namespace dpst::dist
