// Logging on every rank through spdlog's default logger.
//  - each line carries a rank tag padded to the world size ("[rank 03]" of 16);
//  - rank 0 logs at info, other ranks at warn, unless a level is given; once a job has
//    formed rank groups (set_group), each group's rank 0 logs at info and the tag names
//    the group ("[rank 3 group 1]"), so every group's settings and progress are seen;
//  - attach_run_log() adds the run folder's log file (rank 0: dpst.log, rank r: dpst.rank<r>.log).
#pragma once

#include <filesystem>
#include <string>

#include <spdlog/spdlog.h>

namespace dpst::logging {

// Sets up the default logger for this process. `level` is "" (rank default) or one of
// trace, debug, info, warn, error, critical, off; anything else throws ConfigError.
void init(int rank, int world_size, const std::string& level = "");

// After a job splits into `groups` rank groups (sweep.ranks_per_trial): this rank is rank
// `group_rank` of group `group`. With more than one group the tag names the group, and
// unless init() was given a level, the group's rank 0 logs at info and the others at warn.
void set_group(int group, int group_rank, int groups);

// Parses a level name; throws ConfigError naming the accepted values.
spdlog::level::level_enum parse_level(const std::string& name);

// Adds a file sink in run_dir (created if needed). Returns the file's path.
std::filesystem::path attach_run_log(const std::filesystem::path& run_dir);

// The "[rank 03]" tag used in every line, e.g. for messages printed without spdlog.
const std::string& rank_tag();

int rank();
int world_size();

}  // namespace dpst::logging
