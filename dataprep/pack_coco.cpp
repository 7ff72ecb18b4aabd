// pack_coco: packs COCO (or any folder of images) into one HDF5 file of fixed-size
// RGB images for training (layout: src/data/h5_layout.h, DESIGN.md §4). Exit codes:
// 0 ok, 2 bad command line, 3 too many bad inputs or a bad input folder, 6 cannot
// write the output. The work is in src/data/pack.cpp.
#include <malloc.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "common/common.h"
#include "data/pack.h"

namespace {

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::string item;
  std::istringstream in(text);
  while (std::getline(in, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"pack_coco: pack COCO (or a folder of images) into an HDF5 file of fixed-size RGB images "
               "(uint8, N x 3 x S x S per split) for dpst training."};
  app.set_version_flag("--version", dpst::version_string());
  dpst::data::PackOptions o;
  std::string coco_dir, images_dir, out, splits = "train2014,val2014", resize = "center-crop", log_level;
  app.add_option("--coco-dir", coco_dir, "COCO folder with <split>/ image folders and optional annotations/*_<split>.json");
  app.add_option("--images-dir", images_dir, "A plain folder of images, written as one split (see --split)");
  app.add_option("--split", o.split_name, "Split name for --images-dir")->capture_default_str();
  app.add_option("--out", out, "Output .h5 file (written to a temporary, renamed when complete)")->required();
  app.add_option("--splits", splits, "Comma-separated splits for --coco-dir")->capture_default_str();
  app.add_option("--size", o.size, "Output side S in pixels")->capture_default_str();
  app.add_option("--resize", resize, "center-crop: largest centered square, then resize; squash: resize the whole image")
      ->check(CLI::IsMember({"center-crop", "squash"}))
      ->capture_default_str();
  app.add_option("--max-images", o.max_images, "Per split: only the first N files in name order (default: all)");
  app.add_option("--threads", o.threads, "Decoding threads (default: all hardware threads)");
  app.add_option("--max-bad-fraction", o.max_bad_fraction, "Fail if more than this fraction of files cannot be read")
      ->capture_default_str();
  app.add_flag("--overwrite", o.overwrite, "Replace an existing --out");
  app.add_option("--log-level", log_level, "trace|debug|info|warn|error|critical|off");
  app.footer("Exit codes: 0 ok, 2 bad command line, 3 too many bad inputs or bad input folder, 6 cannot write --out.");
  if (const auto code = dpst::parse_command_line(app, argc, argv)) return *code;

  // Every image allocates a few buffers of 100 KB - 1 MB; above glibc's default mmap
  // threshold each one is a fresh mmap, page faults and zeroing. Keep them on the heap.
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);

  return dpst::guarded_main([&]() -> int {
    dpst::logging::init(0, 1, log_level);
    o.coco_dir = coco_dir;
    o.images_dir = images_dir;
    o.out = out;
    o.splits = split_list(splits);
    o.resize = dpst::data::parse_resize_policy(resize);
    o.progress = ::isatty(STDERR_FILENO) != 0;
    const dpst::data::PackSummary s = dpst::data::pack(o);
    for (const auto& [split, c] : s.per_split)
      spdlog::info("{}: read {}, written {}, skipped {}{}", split, c.read, c.written, c.skipped,
                   c.skipped ? " (" + dpst::data::skipped_by_reason_text(c.skipped_by_reason) + ")" : "");
    spdlog::info("pack_coco: {} -> {}", dpst::data::summary_line(s), o.out.string());
    return dpst::kExitOk;
  });
}
