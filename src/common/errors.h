// Typed errors with context, and the exit codes they map to (documented in README.md).
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace dpst {

// Process exit codes. Stable: launch scripts and Slurm requeue logic depend on them.
enum ExitCode : int {
  kExitOk = 0,
  kExitInternal = 1,     // a bug or an unexpected library failure
  kExitConfig = 2,       // bad command line or configuration (nothing was run)
  kExitInput = 3,        // unreadable or invalid input: dataset, image, weight file
  kExitDiverged = 4,     // NaN/Inf loss
  kExitDistributed = 5,  // a rank died or a collective timed out
  kExitOutput = 6,       // could not write results/checkpoints (disk full, permissions)
  kExitRequeue = 75,     // stopped by SIGTERM/SIGUSR1 after a checkpoint: requeue me
};

// Base of every error dpst throws on purpose. `what()` is the user-facing message;
// `where()` is the source location that raised it (for bug reports, not for users).
class Error : public std::runtime_error {
 public:
  Error(const std::string& message, int exit_code, std::string where = {})
      : std::runtime_error(message), exit_code_(exit_code), where_(std::move(where)) {}
  int exit_code() const { return exit_code_; }
  const std::string& where() const { return where_; }

 private:
  int exit_code_;
  std::string where_;
};

#define DPST_DEFINE_ERROR(Name, code)                                       \
  class Name : public Error {                                               \
   public:                                                                  \
    explicit Name(const std::string& message, std::string where = {})       \
        : Error(message, code, std::move(where)) {}                         \
  }

DPST_DEFINE_ERROR(InternalError, kExitInternal);
DPST_DEFINE_ERROR(ConfigError, kExitConfig);
DPST_DEFINE_ERROR(InputError, kExitInput);
DPST_DEFINE_ERROR(DistributedError, kExitDistributed);
DPST_DEFINE_ERROR(OutputError, kExitOutput);

#undef DPST_DEFINE_ERROR

// The exit code a main should return for an exception that reached it.
int exit_code_for(const std::exception& e);

// Any exception's message as one line, for users: a LibTorch error's C++ stack trace
// ("Exception raised from ... frame #0 ...") is cut off, remaining line breaks become "; ".
std::string one_line(const std::exception& e);
std::string one_line(const std::string& message);

// "file.cpp:123" for the DPST_CHECK macros.
std::string source_location(const char* file, int line);

}  // namespace dpst

// DPST_CHECK(cond, ErrorType, "message " << value): throws ErrorType with the streamed
// message when cond is false, recording where it was raised.
#define DPST_CHECK(cond, ErrorType, msg_stream)                                      \
  do {                                                                               \
    if (!(cond)) {                                                                   \
      std::ostringstream dpst_check_os_;                                             \
      dpst_check_os_ << msg_stream;                                                  \
      throw ErrorType(dpst_check_os_.str(), ::dpst::source_location(__FILE__, __LINE__)); \
    }                                                                                \
  } while (0)

#define DPST_THROW(ErrorType, msg_stream) DPST_CHECK(false, ErrorType, msg_stream)
