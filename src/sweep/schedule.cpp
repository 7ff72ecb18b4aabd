// Packs, their rank groups, and the --list-trials table.
#include <algorithm>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "sweep/sweep.h"

namespace dpst::sweep {

std::vector<std::vector<size_t>> make_packs(size_t num_trials, int trials_per_pack) {
  DPST_CHECK(trials_per_pack >= 1, InternalError, "trials_per_pack must be >= 1 (got " << trials_per_pack << ")");
  std::vector<std::vector<size_t>> packs;
  for (size_t i = 0; i < num_trials; ++i) {
    if (i % static_cast<size_t>(trials_per_pack) == 0) packs.emplace_back();
    packs.back().push_back(i);
  }
  return packs;
}

std::vector<size_t> packs_of_group(size_t num_packs, int num_groups, int group) {
  DPST_CHECK(num_groups >= 1, InternalError, "num_groups must be >= 1 (got " << num_groups << ")");
  DPST_CHECK(group >= 0 && group < num_groups, InternalError,
             "group " << group << " is not one of the " << num_groups << " rank groups");
  std::vector<size_t> out;
  for (size_t p = static_cast<size_t>(group); p < num_packs; p += static_cast<size_t>(num_groups)) out.push_back(p);
  return out;
}

std::string trials_table(const std::vector<Trial>& trials, int trials_per_pack, int num_groups) {
  DPST_CHECK(num_groups >= 1, InternalError, "num_groups must be >= 1 (got " << num_groups << ")");
  const auto packs = make_packs(trials.size(), trials_per_pack);
  std::ostringstream os;
  const std::string method = trials.empty() ? "none" : trials.front().method;
  const std::string name = trials.empty() ? "" : trials.front().config.run().name;
  const auto folder = trials.empty() ? std::filesystem::path()
                                     : trials.front().config.run().output_dir / name;
  os << "# sweep " << name << ": method " << method << ", " << trials.size()
     << (trials.size() == 1 ? " trial" : " trials") << " in " << packs.size()
     << (packs.size() == 1 ? " pack" : " packs") << " of up to " << trials_per_pack << ", " << num_groups
     << (num_groups == 1 ? " rank group" : " rank groups") << "\n";
  os << "# rank group g trains packs g, g+" << num_groups << ", ...; trial folders: " << folder.string()
     << (method == "none" ? "" : "/<id>") << "\n";
  if (static_cast<size_t>(num_groups) > packs.size()) {
    os << "# rank groups " << packs.size() << ".." << num_groups - 1
       << " have no pack (more rank groups than packs)\n";
  }

  // Columns: the swept keys of the first trial (every trial of a sweep has the same).
  std::vector<std::string> header = {"#", "id", "pack", "group"};
  if (!trials.empty()) {
    for (const auto& kv : trials.front().params) header.push_back(kv.first);
  }
  std::vector<std::vector<std::string>> rows;
  for (size_t p = 0; p < packs.size(); ++p) {
    for (size_t i : packs[p]) {
      std::vector<std::string> row = {std::to_string(i), trials[i].id, std::to_string(p),
                                      std::to_string(p % static_cast<size_t>(num_groups))};
      for (const auto& kv : trials[i].params) row.push_back(kv.second);
      rows.push_back(std::move(row));
    }
  }
  std::vector<size_t> width(header.size());
  for (size_t c = 0; c < header.size(); ++c) {
    width[c] = header[c].size();
    for (const auto& row : rows) width[c] = std::max(width[c], c < row.size() ? row[c].size() : 0);
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string s;
    for (size_t c = 0; c < header.size(); ++c) {
      const std::string cell = c < cells.size() ? cells[c] : "";
      const std::string pad(width[c] - cell.size(), ' ');
      const bool number = c == 0 || c == 2 || c == 3;  // index, pack, group: right-aligned
      s += (c ? "  " : "") + (number ? pad + cell : cell + (c + 1 < header.size() ? pad : ""));
    }
    return s + "\n";
  };
  os << line(header);
  for (const auto& row : rows) os << line(row);
  return os.str();
}

}  // namespace dpst::sweep
