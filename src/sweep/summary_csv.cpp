#include "sweep/summary_csv.h"

namespace dpst::sweep {

std::string csv_line(const CsvRow& fields) {
  std::string out;
  for (size_t i = 0; i < fields.size(); ++i) {
    const std::string& f = fields[i];
    if (i) out += ',';
    if (f.find_first_of(",\"\n\r") == std::string::npos) {
      out += f;
      continue;
    }
    out += '"';
    for (char c : f) {
      if (c == '"') out += '"';
      out += c;
    }
    out += '"';
  }
  return out + "\n";
}

std::optional<std::vector<CsvRow>> parse_csv(const std::string& text, std::string* error) {
  std::vector<CsvRow> rows;
  CsvRow row;
  std::string field;
  int line = 1;
  int row_line = 1;  // where the current row started, for messages
  bool quoted = false;       // inside a quoted field
  bool after_quote = false;  // a quoted field just closed
  auto fail = [&](const std::string& why) -> std::optional<std::vector<CsvRow>> {
    *error = "line " + std::to_string(line) + ": " + why;
    return std::nullopt;
  };
  auto end_row = [&]() -> bool {
    row.push_back(std::move(field));
    field.clear();
    after_quote = false;
    if (!rows.empty() && row.size() != rows.front().size()) {
      *error = "line " + std::to_string(row_line) + ": " + std::to_string(row.size()) + " fields, the header has " +
               std::to_string(rows.front().size());
      return false;
    }
    rows.push_back(std::move(row));
    row.clear();
    return true;
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
        after_quote = true;
      } else {
        if (c == '\n') ++line;
        field += c;
      }
      continue;
    }
    if (c == ',') {
      row.push_back(std::move(field));
      field.clear();
      after_quote = false;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      if (!end_row()) return std::nullopt;
      ++line;
      row_line = line;
    } else if (after_quote) {
      return fail("text after a closing quote");
    } else if (c == '"' && field.empty()) {
      quoted = true;
    } else {
      field += c;
    }
  }
  if (quoted) return fail("a quoted field is not closed");
  if (!field.empty() || !row.empty() || after_quote) {
    if (!end_row()) return std::nullopt;  // last line without "\n"
  }
  return rows;
}

}  // namespace dpst::sweep
