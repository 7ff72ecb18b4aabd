// RFC 4180 CSV, enough for summary.csv: fields with a comma, quote or line break are
// quoted, quotes doubled. Every row of a table has the header's number of fields.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace dpst::sweep {

using CsvRow = std::vector<std::string>;

// One line, ending in "\n".
std::string csv_line(const CsvRow& fields);

// The rows of a CSV text (the first is the header). nullopt with *error ("line N: ...")
// when it is malformed: an unterminated quote, text after a closing quote, or a row
// whose field count differs from the header's.
std::optional<std::vector<CsvRow>> parse_csv(const std::string& text, std::string* error);

}  // namespace dpst::sweep
