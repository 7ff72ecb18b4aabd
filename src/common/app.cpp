#include "common/app.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <iostream>
#include <limits>
#include <thread>

#include "common/errors.h"
#include "common/logging.h"

namespace dpst {

std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv, bool print) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = print ? app.exit(e) : e.get_exit_code();
    return code == 0 ? kExitOk : kExitConfig;
  }
  return std::nullopt;
}

void add_device_threads_log_options(CLI::App& app, std::string* device, int* threads, std::string* log_level) {
  app.add_option("--device", *device, "cpu | cuda | auto")->check(CLI::IsMember({"cpu", "cuda", "auto"}));
  app.add_option("--threads", *threads, "intra-op threads (default: all cores)")->check(CLI::Range(1, 1024));
  app.add_option("--log-level", *log_level, "trace|debug|info|warn|error|critical|off");
}

void keep_freed_memory_for_reuse() {
#if defined(__GLIBC__)
  mallopt(M_MMAP_MAX, 0);  // every block from the heap, back to the heap when freed
  mallopt(M_TRIM_THRESHOLD, std::numeric_limits<int>::max());
#endif
}

int tool_threads(int requested) {
  return requested > 0 ? requested : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

int guarded_main(const std::function<int()>& body) {
  try {
    return body();
  } catch (const ConfigError& e) {
    if (logging::rank() == 0) std::cerr << "error: " << e.what() << std::endl;
    return e.exit_code();
  } catch (const Error& e) {
    spdlog::error("{}", e.what());
    if (!e.where().empty()) spdlog::debug("raised at {}", e.where());
    return e.exit_code();
  } catch (const std::exception& e) {
    spdlog::critical("internal error: {}", one_line(e));
    return kExitInternal;
  }
}

}  // namespace dpst
