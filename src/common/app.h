// What every main shares: turning exceptions into a logged message and an exit code.
#pragma once

#include <functional>
#include <optional>
#include <string>

namespace CLI {
class App;
}

namespace dpst {

// Parses the command line. Returns nothing when the program should go on; otherwise the
// exit code after CLI11 printed help/version (0) or the usage error (kExitConfig).
// print = false keeps quiet (ranks other than 0 of an MPI job).
std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv, bool print = true);

// Intra-op threads of a single-process tool: `requested` when > 0, else every core.
int tool_threads(int requested);

// Keeps freed memory in the process for the next allocation instead of handing it back to
// the kernel (glibc: no mmap per large block, no trimming). LibTorch's large CPU
// activations are above glibc's mmap ceiling, so a tool that allocates them step after
// step or photo after photo otherwise pays a page fault and a zeroed page for every 4 KiB
// of each, every time: ~10 % of a training step (results/training.md), 30 % of f_W's time
// at 1920x1080 on 2 cores (results/stylize.md). Freed memory is not returned before exit.
// No effect without glibc. Call first in main, before other threads exist.
void keep_freed_memory_for_reuse();

// The options every single-process LibTorch tool (dpst-eval, dpst-stylize) takes, with
// the same names, checks and help: --device cpu|cuda|auto, --threads N, --log-level.
void add_device_threads_log_options(CLI::App& app, std::string* device, int* threads, std::string* log_level);

// Runs body and returns its exit code. A dpst::Error is logged with its message and
// mapped to its exit code (errors.h); any other exception is an internal error.
// Configuration errors are printed plainly on rank 0 only (every rank has the same).
int guarded_main(const std::function<int()>& body);

}  // namespace dpst
