// summary.csv and summary.md of a sweep, rewritten under a lock as trials finish.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "common/atomic_file.h"
#include "common/errors.h"
#include "common/text.h"
#include "losses/term_names.h"
#include "models/provenance_text.h"
#include "models/weights_io.h"
#include "sweep/summary_csv.h"
#include "sweep/sweep.h"
#include "sweep/trial_id.h"
#include "trial_folder/trial_folder.h"

namespace dpst::sweep {
namespace {

namespace fs = std::filesystem;

// Holds an exclusive flock() on a file for its lifetime. flock locks belong to the open
// file, so threads of one process that each construct one exclude each other too.
class ExclusiveLock {
 public:
  explicit ExclusiveLock(const fs::path& path) {
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    DPST_CHECK(fd_ >= 0, OutputError, path.string() << ": cannot open the summary lock: " << std::strerror(errno));
    int rc;
    do {
      rc = ::flock(fd_, LOCK_EX);
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) {
      const int err = errno;
      ::close(fd_);
      DPST_THROW(OutputError, path.string() << ": cannot lock: " << std::strerror(err));
    }
  }
  ~ExclusiveLock() { ::close(fd_); }  // closing releases the lock
  ExclusiveLock(const ExclusiveLock&) = delete;
  ExclusiveLock& operator=(const ExclusiveLock&) = delete;

 private:
  int fd_ = -1;
};

const std::vector<std::string> kLeading = {"trial", "status"};
std::vector<std::string> trailing_columns() {
  std::vector<std::string> cols = {"steps"};
  for (const auto& c : summary_loss_columns()) cols.push_back(c);
  for (const char* c : {"loss_nets", "finished_at", "note"}) cols.emplace_back(c);
  return cols;
}

// A loss column: a term of kTermNames, or a multi-style trial's style term of one style.
bool is_loss_column(const std::string& column) {
  const auto& losses = summary_loss_columns();
  return std::find(losses.begin(), losses.end(), column) != losses.end() || losses::is_per_style_term(column);
}

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// Full enough for float32 losses; CSV keeps it, the Markdown table rounds.
std::string format_loss(double v) {
  if (std::isnan(v)) return "";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

// Which loss networks of this trial ran on random weights.
std::string loss_nets_text(const config::Config& c) {
  std::vector<std::string> random;
  if (c.loss_nets().vgg16_weights.empty()) random.push_back("vgg16");
  if (c.loss_nets().depth_weights.empty() && c.loss().depth_weight > 0) random.push_back("depth");
  // The depth network's variant when this trial uses it (loading checked it against the file).
  const std::string depth =
      c.loss().depth_weight > 0 ? "; depth network " + c.loss_nets().depth_net : std::string();
  return models::loss_nets_label(random, models::NetListStyle::kColon) + depth;
}

using Row = std::map<std::string, std::string>;

struct Table {
  std::vector<std::string> swept;  // swept-key columns, in first-seen order
  std::vector<std::string> per_style;  // style_<name> columns of multi-style trials, in first-seen order
  std::map<std::string, Row> rows;  // by trial id: sorted
};

Table read_table(const fs::path& csv) {
  Table table;
  if (!fs::exists(csv)) return table;
  std::ifstream in(csv, std::ios::binary);
  DPST_CHECK(static_cast<bool>(in), OutputError, csv.string() << ": cannot read: " << std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  std::string error;
  const auto parsed = parse_csv(text.str(), &error);
  const char* fix = "; repair it or move it away (finished trials are not recorded again)";
  DPST_CHECK(parsed.has_value(), OutputError, csv.string() << ": " << error << fix);
  if (parsed->empty()) return table;
  const CsvRow& header = parsed->front();
  DPST_CHECK(!header.empty() && header[0] == "trial", OutputError,
             csv.string() << ": the first column is not 'trial'" << fix);
  const auto trailing = trailing_columns();
  for (const auto& col : header) {
    const bool fixed = std::find(kLeading.begin(), kLeading.end(), col) != kLeading.end() ||
                       std::find(trailing.begin(), trailing.end(), col) != trailing.end();
    if (!fixed) (losses::is_per_style_term(col) ? table.per_style : table.swept).push_back(col);
  }
  for (size_t r = 1; r < parsed->size(); ++r) {
    Row row;
    for (size_t c = 0; c < header.size(); ++c) row[header[c]] = (*parsed)[r][c];
    table.rows[row["trial"]] = std::move(row);
  }
  return table;
}

std::vector<std::string> all_columns(const Table& table) {
  std::vector<std::string> cols = kLeading;
  cols.insert(cols.end(), table.swept.begin(), table.swept.end());
  // steps and the loss columns, then the per-style ones, then the rest.
  const auto trailing = trailing_columns();
  const auto after_losses = trailing.begin() + 1 + static_cast<std::ptrdiff_t>(summary_loss_columns().size());
  cols.insert(cols.end(), trailing.begin(), after_losses);
  cols.insert(cols.end(), table.per_style.begin(), table.per_style.end());
  cols.insert(cols.end(), after_losses, trailing.end());
  return cols;
}

std::string csv_text(const Table& table) {
  const auto cols = all_columns(table);
  std::string out = csv_line(cols);
  for (const auto& [id, row] : table.rows) {
    CsvRow fields;
    for (const auto& c : cols) {
      const auto it = row.find(c);
      fields.push_back(it == row.end() ? "" : it->second);
    }
    out += csv_line(fields);
  }
  return out;
}

std::string md_cell(const std::string& column, const std::string& value) {
  if (is_loss_column(column)) {
    if (value.empty()) return "-";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4g", std::strtod(value.c_str(), nullptr));
    return buf;
  }
  std::string s;
  for (char c : value) {
    if (c == '|') {
      s += "\\|";
    } else {
      s += (c == '\n' || c == '\r') ? ' ' : c;
    }
  }
  return s;
}

std::string md_text(const fs::path& sweep_dir, const Table& table, const std::string& made_by) {
  size_t finished = 0;
  for (const auto& [id, row] : table.rows) finished += row.at("status") == "finished";
  std::ostringstream os;
  os << "# Sweep summary: " << sweep_dir.filename().string() << "\n\n";
  if (!made_by.empty()) os << made_by << (made_by.back() == '\n' ? "" : "\n") << "\n";
  os << table.rows.size() << " trials recorded: " << finished << " finished, " << table.rows.size() - finished
     << " failed. Losses are the final values of each trial: content, style, depth and tv raw "
        "(unweighted), total the weighted sum that was minimised; summary.csv has them at full precision.";
  if (!table.per_style.empty())
    os << " A multi-style trial's style_<name> columns are its style term per style, over the images of that "
          "style in its last log window.";
  os << "\n\n";
  const auto cols = all_columns(table);
  std::string rule;
  os << "|";
  for (const auto& c : cols) {
    os << " " << c << " |";
    rule += " --- |";
  }
  os << "\n|" << rule << "\n";
  for (const auto& [id, row] : table.rows) {
    os << "|";
    for (const auto& c : cols) {
      const auto it = row.find(c);
      os << " " << md_cell(c, it == row.end() ? "" : it->second) << " |";
    }
    os << "\n";
  }
  return os.str();
}

}  // namespace

const std::vector<std::string>& summary_loss_columns() {
  static const std::vector<std::string> kColumns = [] {
    std::vector<std::string> columns;
    for (const char* name : losses::kTermNames) columns.emplace_back(name);
    return columns;
  }();
  return kColumns;
}

void record_result(const fs::path& sweep_dir, const Trial& trial, const TrialResult& result,
                   const std::string& made_by) {
  DPST_CHECK(result.status == "finished" || result.status == "failed", InternalError,
             "trial " << trial.id << ": summary status must be finished or failed (got '" << result.status << "')");
  const auto& loss_cols = summary_loss_columns();
  for (const auto& [name, value] : result.losses) {
    DPST_CHECK(is_loss_column(name), InternalError,
               "trial " << trial.id << ": '" << name << "' is not a summary loss column (" << joined(loss_cols, ", ")
                        << " or " << losses::kPerStylePrefix << "<style>)");
  }
  std::error_code ec;
  fs::create_directories(sweep_dir, ec);
  DPST_CHECK(!ec, OutputError, sweep_dir.string() << ": cannot create the sweep folder: " << ec.message());

  const ExclusiveLock lock(sweep_dir / "summary.lock");
  Table table = read_table(sweep_dir / "summary.csv");
  Row row;
  row["trial"] = trial.id;
  row["status"] = result.status;
  for (const auto& [key, value] : trial.params) {
    row[key] = value;
    if (std::find(table.swept.begin(), table.swept.end(), key) == table.swept.end()) table.swept.push_back(key);
  }
  row["steps"] = std::to_string(result.steps);
  for (const auto& c : loss_cols) {
    const auto it = result.losses.find(c);
    row[c] = it == result.losses.end() ? "" : format_loss(it->second);
  }
  for (const auto& [name, value] : result.losses) {
    if (!losses::is_per_style_term(name)) continue;
    row[name] = format_loss(value);
    if (std::find(table.per_style.begin(), table.per_style.end(), name) == table.per_style.end())
      table.per_style.push_back(name);
  }
  row["loss_nets"] = loss_nets_text(trial.config);
  row["finished_at"] = utc_now();
  row["note"] = result.note;
  table.rows[trial.id] = std::move(row);

  // Each file is replaced whole; a reader sees the old or the new table, never half.
  write_file_atomically(sweep_dir / "summary.csv", csv_text(table));
  write_file_atomically(sweep_dir / "summary.md", md_text(sweep_dir, table, made_by));
}

TrialResult result_from_folder(const std::filesystem::path& trial_dir, bool failed) {
  const trial_folder::TrialFolder folder(trial_dir);
  TrialResult r;
  r.status = failed ? "failed" : "finished";
  if (const auto progress = failed ? folder.progress() : folder.finished()) {
    r.steps = progress->step;
    for (const auto& [name, value] : progress->terms) {
      if (is_loss_column(name)) r.losses[name] = value;
    }
  }
  if (failed) r.note = folder.failure();
  return r;
}

std::string summary_header(const config::Config& base, const std::string& command_line) {
  std::ostringstream os;
  if (!command_line.empty()) {
    std::string cmd = command_line;
    std::replace(cmd.begin(), cmd.end(), '`', '\'');  // keep the code span closed
    os << "- command: `" << cmd << "`\n";
  }
  os << "- configuration: hash " << base.hash()
     << " (FNV-1a of the resolved base configuration, dpst-dist --dump-config)\n";
  // The depth network is loaded only when some trial has loss.depth_weight > 0.
  std::vector<double> depth_weights = {base.loss().depth_weight};
  for (const auto& axis : base.sweep().axes) {
    if (axis.key != "loss.depth_weight") continue;
    depth_weights.clear();
    for (const auto& v : axis.values) depth_weights.push_back(config::as_number(v));
  }
  const bool depth_used = std::any_of(depth_weights.begin(), depth_weights.end(), [](double w) { return w > 0; });
  const auto vgg = base.loss_nets().vgg16_weights;
  const auto depth = base.loss_nets().depth_weights;
  const bool random = vgg.empty() || (depth_used && depth.empty());
  const std::string flagged = std::string("**") + models::kRandomInit + "**";
  os << "- loss networks: vgg16 " << (vgg.empty() ? flagged : vgg.string()) << "; depth ";
  if (depth_used) os << base.loss_nets().depth_net << " (loss_nets.depth_net) ";
  os << (!depth.empty() ? depth.string() : depth_used ? flagged : "not used (loss.depth_weight is 0)");
  if (depth_used && !depth.empty()) {
    // What the file was converted from, as its converter recorded it.
    try {
      const std::string from = models::read_weight_file_info(depth).attribute("source");
      if (!from.empty()) os << " (from " << from << ")";
    } catch (const InputError&) {
      // An unreadable file fails the trial itself, with its own message; the header stays.
    }
  }
  os << "\n";
  if (random) {
    os << "- **" << models::random_init_warning("these losses") << " (see the loss_nets column).**\n";
  }
  return os.str();
}

}  // namespace dpst::sweep
