// pack_coco's work: list image folders, decode and resize on all threads, write one
// HDF5 file (layout in h5_layout.h) through a single writer, atomically.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "data/h5_writer.h"
#include "data/image_io.h"

namespace dpst::data {

struct PackOptions {
  std::filesystem::path coco_dir;    // COCO layout: <coco_dir>/<split>/, <coco_dir>/annotations/
  std::filesystem::path images_dir;  // or a plain folder of images, written as split `split_name`
  std::string split_name = "train";
  std::vector<std::string> splits = {"train2014", "val2014"};
  std::filesystem::path out;
  int size = 256;
  ResizePolicy resize = ResizePolicy::kCenterCrop;
  int64_t max_images = -1;  // per split: the first N files in name order (-1: all)
  int threads = 0;          // decoding threads; 0: all hardware threads
  double max_bad_fraction = 0.01;
  bool overwrite = false;
  bool progress = false;  // a \r progress line on stderr (the main turns it on for TTYs)
};

struct PackSummary {
  SplitCounts totals;
  std::map<std::string, SplitCounts> per_split;
  double seconds = 0;
  double images_per_second() const { return seconds > 0 ? totals.written / seconds : 0; }
};

// One input file of a split, and the COCO id it was assigned (-1 if unknown).
struct PackInput {
  std::filesystem::path path;
  std::string filename;
  int64_t id = -1;
};

// Image files of a folder (by extension, case-insensitive; hidden files skipped; dangling
// symlinks kept so they are reported), sorted by file name. Throws InputError if the
// folder is missing.
std::vector<PackInput> list_images(const std::filesystem::path& dir);

// COCO image ids by file name from <coco_dir>/annotations/*_<split>.json (captions,
// instances or person_keypoints, whichever is present; {} if none). Throws InputError
// for a file that is not valid COCO JSON.
std::map<std::string, int64_t> load_coco_ids(const std::filesystem::path& coco_dir, const std::string& split);

// The id in a COCO file name ("COCO_val2014_000000000042.jpg" -> 42), or -1.
int64_t id_from_coco_filename(const std::string& filename);

// Runs the whole pack. Throws InputError (missing folders, no images, too many bad
// files), OutputError (cannot write), ConfigError (bad options). Never leaves a file at
// options.out unless it returns.
PackSummary pack(const PackOptions& options);

// "read 50, written 48, skipped 2 (empty=1,truncated=1), 123.4 images/s in 0.4 s"
std::string summary_line(const PackSummary& summary);

}  // namespace dpst::data
