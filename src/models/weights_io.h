// HDF5 weight files: one dataset per parameter or buffer at the file's root, named by
// its torchvision-style dotted name ("features.0.weight", "L4.pre.0.b1.bn.running_var",
// "res1.conv1.conv2d.weight"), float32 for float tensors and int64 for integer buffers,
// with string/int attributes on the root saying what the file holds:
//   network        vgg16 | hourglass | transform
//   preprocessing  imagenet | caffe_bgr (vgg16), rgb_0_1 (hourglass, transform)
//   source         where the values came from (converted file, trainer, init)
//   width, residual_blocks (transform)
//   depth_variant  hourglass3 | megadepth (hourglass; absent = hourglass3), see hourglass.h
// dataprep/convert_weights.py writes the same layout.
//
// Loading is strict: one InputError names the file and lists every missing, unexpected,
// shape-mismatched and dtype-mismatched key (unreadable or truncated files are
// InputErrors too). Nothing is copied into the module unless the whole file matches.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <torch/torch.h>

namespace dpst::models {

struct WeightFileInfo {
  std::filesystem::path path;
  std::map<std::string, std::string> attributes;  // root attributes, integers as decimal text
  std::string attribute(const std::string& name, const std::string& fallback = "") const;
};

// Root attributes of a weight file (InputError if missing or not HDF5).
WeightFileInfo read_weight_file_info(const std::filesystem::path& path);

// Loads every parameter and buffer of `module` from `path`. `network` names the network
// in messages ("vgg16"). Throws InputError listing every problem.
WeightFileInfo load_weights(torch::nn::Module& module, const std::filesystem::path& path,
                            const std::string& network);

// Writes every parameter and buffer of `module` (moved to CPU) and the attributes. Written
// to "<path>.tmp" then renamed, so a crash never leaves a half-written file under `path`.
// Throws OutputError.
void save_weights(const torch::nn::Module& module, const std::filesystem::path& path,
                  const std::map<std::string, std::string>& attributes);

// Named tensors of a module: parameters then buffers, in registration order.
std::vector<std::pair<std::string, torch::Tensor>> named_state(const torch::nn::Module& module);

// Reads every dataset of a weight file into CPU tensors (for tools and tests).
std::map<std::string, torch::Tensor> read_all_tensors(const std::filesystem::path& path);

// Writes named tensors (converted to float32 / int64 CPU) and attributes. Throws OutputError.
void write_tensors(const std::filesystem::path& path, const std::vector<std::pair<std::string, torch::Tensor>>& tensors,
                   const std::map<std::string, std::string>& attributes);

}  // namespace dpst::models
