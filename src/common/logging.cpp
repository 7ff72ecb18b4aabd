#include "common/logging.h"

#include <memory>

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include "common/errors.h"

namespace dpst::logging {
namespace {

struct State {
  int rank = 0;
  int world_size = 1;
  std::string tag = "[rank 0]";
  bool level_given = false;  // --log-level: then neither rank nor group changes it
};

State& state() {
  static State s;
  return s;
}

std::string make_tag(int rank, int world_size) {
  const int width = static_cast<int>(std::to_string(std::max(world_size - 1, 0)).size());
  std::string digits = std::to_string(rank);
  if (static_cast<int>(digits.size()) < width) digits.insert(0, width - digits.size(), '0');
  return "[rank " + digits + "]";
}

std::string pattern() { return "[%Y-%m-%d %H:%M:%S.%e] " + state().tag + " [%^%l%$] %v"; }

}  // namespace

spdlog::level::level_enum parse_level(const std::string& name) {
  static const char* const kNames[] = {"trace", "debug", "info", "warn", "error", "critical", "off"};
  for (int i = 0; i < 7; ++i) {
    if (name == kNames[i]) return static_cast<spdlog::level::level_enum>(i);
  }
  DPST_THROW(ConfigError, "--log-level: unknown level '"
                              << name << "' (expected trace, debug, info, warn, error, critical or off)");
}

void init(int rank, int world_size, const std::string& level) {
  State& s = state();
  s.rank = rank;
  s.world_size = world_size;
  s.tag = make_tag(rank, world_size);
  s.level_given = !level.empty();
  auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  auto log = std::make_shared<spdlog::logger>("dpst", sink);
  log->set_pattern(pattern());
  log->set_level(level.empty() ? (rank == 0 ? spdlog::level::info : spdlog::level::warn)
                               : parse_level(level));
  log->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(log);
}

void set_group(int group, int group_rank, int groups) {
  if (groups <= 1) return;
  State& s = state();
  s.tag = make_tag(s.rank, s.world_size);
  s.tag.insert(s.tag.size() - 1, " group " + std::to_string(group));
  auto log = spdlog::default_logger();
  log->set_pattern(pattern());  // every sink, the run log's too
  if (!s.level_given) log->set_level(group_rank == 0 ? spdlog::level::info : spdlog::level::warn);
}

std::filesystem::path attach_run_log(const std::filesystem::path& run_dir) {
  std::error_code ec;
  std::filesystem::create_directories(run_dir, ec);
  DPST_CHECK(!ec, OutputError, run_dir.string() << ": cannot create run folder: " << ec.message());
  const State& s = state();
  const auto file = run_dir / (s.rank == 0 ? std::string("dpst.log")
                                           : "dpst.rank" + std::to_string(s.rank) + ".log");
  std::shared_ptr<spdlog::sinks::basic_file_sink_mt> sink;
  try {
    sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(file.string(), /*truncate=*/false);
  } catch (const spdlog::spdlog_ex& e) {
    DPST_THROW(OutputError, file.string() << ": cannot open log file: " << e.what());
  }
  sink->set_pattern(pattern());
  auto log = spdlog::default_logger();
  log->sinks().push_back(sink);
  log->flush_on(spdlog::level::info);
  return file;
}

const std::string& rank_tag() { return state().tag; }
int rank() { return state().rank; }
int world_size() { return state().world_size; }

}  // namespace dpst::logging
