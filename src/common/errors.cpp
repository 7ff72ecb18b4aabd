#include "common/errors.h"

#include <cstring>

namespace dpst {

int exit_code_for(const std::exception& e) {
  if (const auto* err = dynamic_cast<const Error*>(&e)) return err->exit_code();
  return kExitInternal;
}

std::string source_location(const char* file, int line) {
  // Keep the path from src/ on, so messages do not depend on the build machine.
  const char* rel = std::strstr(file, "src/");
  if (rel == nullptr) rel = std::strstr(file, "dataprep/");
  return std::string(rel != nullptr ? rel : file) + ":" + std::to_string(line);
}

std::string one_line(const std::string& message) {
  std::string text = message;
  const auto trace = text.find("Exception raised from");
  if (trace != std::string::npos) text.resize(trace);
  std::string out;
  for (char c : text) {
    if (c == '\n' || c == '\r') {
      if (!out.empty() && out.back() != ' ') out += "; ";
    } else {
      out += c;
    }
  }
  while (!out.empty() && (out.back() == ' ' || out.back() == ';')) out.pop_back();
  return out;
}

std::string one_line(const std::exception& e) { return one_line(std::string(e.what())); }

}  // namespace dpst
