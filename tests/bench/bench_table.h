// Benchmark output in the nccl-tests style: a '#' preamble (what, how, where), then a
// fixed-width table whose header and units rows also start with '#', and a last line
// "# <figure> : <value> (target <t>) OK|FAILED". Shared by every bench_*.cpp; the
// Python benchmarks print the same form (tests/bench/bench_report.py).
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
    print_row(columns_, '#');
    print_row(units_, '#');
  }
  // lead: the line's first character ('#' for the header rows, so tools that skip
  // comments read only the data rows). Every cell starts with at least one space.
  void print_row(const std::vector<std::string>& cells, char lead = ' ') const {
    std::string line;
    for (const auto& c : cells) {
      std::string cell = c.size() < static_cast<size_t>(width_) ? std::string(width_ - c.size(), ' ') + c : " " + c;
      line += cell;
    }
    if (!line.empty()) line[0] = lead;
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

// The benchmark's last line: "# <figure> : <value> (target <target>) OK|FAILED". Returns
// the exit code the benchmark ends with (0 OK, 1 FAILED).
inline int verdict(const std::string& figure, const std::string& value, const std::string& target, bool ok) {
  std::printf("# %s : %s (target %s) %s\n", figure.c_str(), value.c_str(), target.c_str(), ok ? "OK" : "FAILED");
  std::fflush(stdout);
  return ok ? 0 : 1;
}

inline std::string fmt(double v, int decimals = 2) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

}  // namespace dpst::bench
