// Writes the pack_coco layout (h5_layout.h): one split at a time, images appended one
// by one so N is always the number actually written. Single-threaded by design (one
// writer); throws OutputError naming `display_path` on any HDF5 failure.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "data/h5_util.h"

namespace dpst::data {

struct SplitCounts {
  int64_t read = 0, written = 0, skipped = 0;
  std::map<std::string, int64_t> skipped_by_reason;
};

class H5Writer {
 public:
  // hdf5_path: where HDF5 creates the file (may be a /proc/self/fd link to a hidden
  // temporary); display_path: the name used in messages (the final --out).
  H5Writer(const std::string& hdf5_path, std::string display_path, int image_size);
  ~H5Writer();
  H5Writer(const H5Writer&) = delete;
  H5Writer& operator=(const H5Writer&) = delete;

  void begin_split(const std::string& split);
  // One image, planar RGB uint8 (3*S*S bytes).
  void append(const uint8_t* planar, int64_t id, const std::string& filename);
  void end_split(const SplitCounts& counts);
  // Root attributes, then closes the file (flushing everything). Nothing may follow.
  void finish(const std::string& resize_policy, const std::string& source, const std::string& splits,
              const SplitCounts& totals);

 private:
  [[noreturn]] void fail(const std::string& what) const;

  std::string display_path_;
  int image_size_;
  h5::Handle file_, group_, images_;
  std::string split_;
  int64_t rows_ = 0;
  std::vector<int64_t> ids_;
  std::vector<std::string> filenames_;
};

std::string skipped_by_reason_text(const std::map<std::string, int64_t>& by_reason);  // "empty=1,truncated=2"

}  // namespace dpst::data
