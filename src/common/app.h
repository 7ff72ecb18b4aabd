// What every main shares: turning exceptions into a logged message and an exit code.
#pragma once

#include <functional>

namespace dpst {

// Runs body and returns its exit code. A dpst::Error is logged with its message and
// mapped to its exit code (errors.h); any other exception is an internal error.
// Configuration errors are printed plainly on rank 0 only (every rank has the same).
int guarded_main(const std::function<int()>& body);

}  // namespace dpst
