#include "train/run_files.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <sstream>

#include "common/atomic_file.h"
#include "common/errors.h"
#include "train/checkpoint_store.h"

namespace dpst::train {

namespace fs = std::filesystem;

MetricsLog::MetricsLog(const fs::path& dir, long long resume_step) : path_(dir / "metrics.jsonl") {
  std::error_code ec;
  fs::create_directories(dir, ec);
  DPST_CHECK(!ec, OutputError, dir.string() << ": cannot create: " << ec.message());
  if (fs::exists(path_)) {
    std::ifstream in(path_);
    std::ostringstream kept;
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      try {
        if (nlohmann::json::parse(line).value("step", 0LL) > resume_step) continue;
      } catch (const nlohmann::json::exception&) {
        continue;  // a line cut short by a crash
      }
      kept << line << "\n";
    }
    write_file_atomically(path_, kept.str());
  }
  out_.open(path_, std::ios::app);
  DPST_CHECK(static_cast<bool>(out_), OutputError, path_.string() << ": cannot open for appending");
}

void MetricsLog::append(long long step, const std::vector<std::pair<std::string, double>>& fields) {
  nlohmann::ordered_json j;
  j["step"] = step;
  for (const auto& [k, v] : fields) {
    if (std::isfinite(v)) {
      j[k] = v;
    } else {
      j[k] = nullptr;  // JSON has no NaN
    }
  }
  out_ << j.dump() << "\n";
  out_.flush();
  DPST_CHECK(static_cast<bool>(out_), OutputError, path_.string() << ": write failed");
}

}  // namespace dpst::train
