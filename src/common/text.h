// Small text helpers every folder needs the same way (ASCII only: config words and file
// extensions, never user text).
#pragma once

#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

namespace dpst {

inline std::string lower_case(std::string text) {
  for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// {"a", "b"}, ", " -> "a, b".
inline std::string joined(const std::vector<std::string>& items, const std::string& separator) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) out += (i ? separator : "") + items[i];
  return out;
}

// "a,b", ',' -> {"a", "b"}; "" -> {}.
inline std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> out;
  if (text.empty()) return out;
  size_t start = 0;
  for (size_t end; (end = text.find(separator, start)) != std::string::npos; start = end + 1)
    out.push_back(text.substr(start, end - start));
  out.push_back(text.substr(start));
  return out;
}

// ".JPG" -> ".jpg"; "" for a path without one.
inline std::string lower_extension(const std::filesystem::path& path) { return lower_case(path.extension().string()); }

// A loss value as progress lines and progress.yml show it: "1.2346e+03", "nan" when not finite.
inline std::string loss_text(double v) {
  if (!std::isfinite(v)) return "nan";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4e", v);
  return buf;
}

}  // namespace dpst
