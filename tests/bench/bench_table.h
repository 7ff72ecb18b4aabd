// Benchmark output in the nccl-tests style: a '#' preamble (what, how, where), then a
// fixed-width table whose second row gives the units. Shared by every bench_*.cpp.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

namespace dpst::bench {

class Table {
 public:
  // columns: header names; units: one per column ("" for none); width: chars per column.
  Table(std::vector<std::string> columns, std::vector<std::string> units, int width = 12)
      : columns_(std::move(columns)), units_(std::move(units)), width_(width) {}

  void print_header() const {
    print_row(columns_);
    print_row(units_);
  }
  void print_row(const std::vector<std::string>& cells) const {
    std::string line;
    for (const auto& c : cells) {
      std::string cell = c.size() < static_cast<size_t>(width_) ? std::string(width_ - c.size(), ' ') + c : " " + c;
      line += cell;
    }
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);
  }

 private:
  std::vector<std::string> columns_, units_;
  int width_;
};

// "# key: value" preamble line.
inline void preamble(const std::string& key, const std::string& value) {
  std::printf("# %s: %s\n", key.c_str(), value.c_str());
}

inline std::string fmt(double v, int decimals = 2) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

}  // namespace dpst::bench
