// dpst-stylize's work on files: the photos of a file or folder, each decoded, resized on
// request, stylized (stylize.h) and saved under its own name; a photo that cannot be read
// or stylized is skipped and named with its reason in one line, so one bad file does not
// cost the others.
#pragma once

#include <filesystem>
#include <functional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include <torch/types.h>

#include "eval/stylize.h"
#include "models/transform_net.h"

namespace dpst::eval {

// The files to stylize: one file, or a folder's regular files (not hidden), by name.
// InputError when `input` does not exist.
std::vector<std::filesystem::path> list_inputs(const std::filesystem::path& input);

// Same name when it is already .png/.jpg/.jpeg (and format keep); else a .png (or .jpg)
// is appended, so "a.bmp" -> "a.bmp.png" never collides with "a.png".
// format: keep | png | jpg.
std::string output_name(const std::filesystem::path& in, const std::string& format);

struct StylizeFilesOptions {
  std::filesystem::path output;  // an existing folder
  std::string format = "keep";
  int size = 0;                  // > 0: shorter side resized to this first
  int jpeg_quality = 95;
  StylizeOptions stylize;
  torch::Device device = torch::kCPU;
  // Called with each file name just before its photo is stylized. Production leaves it
  // empty; tests make it throw to reach the skip path from inside a photo's work.
  std::function<void(const std::string& name)> before_stylize;
};

struct StylizeFilesResult {
  int done = 0;
  std::vector<std::pair<std::string, std::string>> skipped;  // file name, why (one line)
  double seconds = 0;
};

// Stylizes `inputs` with `net` (in eval mode, on options.device) into options.output,
// printing a line per written file to `progress`.
StylizeFilesResult stylize_files(models::TransformNetImpl& net, const std::vector<std::filesystem::path>& inputs,
                                 const StylizeFilesOptions& options, std::ostream& progress);

// The same with one output per photo and net (the styles of a many-style model, each a
// one-style models::blended net): with several nets each output is named
// "<name>-<label><extension>". `done` counts photos with every output written.
struct LabelledNet {
  std::string label;
  models::TransformNet net;
};
StylizeFilesResult stylize_files(const std::vector<LabelledNet>& nets, const std::vector<std::filesystem::path>& inputs,
                                 const StylizeFilesOptions& options, std::ostream& progress);

}  // namespace dpst::eval
