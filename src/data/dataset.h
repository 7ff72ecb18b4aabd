// Read-only access to one split of a pack_coco HDF5 file (layout in h5_layout.h).
// Many ranks may open the same file at once. Every method is safe to call from several
// threads: HDF5 calls are serialised when the library is not thread-safe, and the
// uint8 -> float conversion runs outside that lock.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <torch/types.h>

#include "data/h5_util.h"

namespace dpst::data {

class Dataset {
 public:
  // Opens `split` of `path` read-only and validates the layout: HDF5 signature, format
  // version, the split's group, and name, dtype, rank and shape of images/ids/filenames.
  // Throws InputError "<path>: <problem>; re-run pack_coco ..." on any mismatch.
  static Dataset open(const std::filesystem::path& path, const std::string& split);

  int64_t size() const { return size_; }
  int image_size() const { return image_size_; }  // H == W
  const std::filesystem::path& path() const { return path_; }
  const std::string& split() const { return split_; }
  const std::vector<int64_t>& ids() const { return ids_; }
  const std::vector<std::string>& filenames() const { return filenames_; }
  const std::string& resize_policy() const { return resize_policy_; }

  // Images at `indices` (any order, repeats allowed) as float32 in [0,1], shape
  // (n, 3, H, W), row k holding image indices[k]. One HDF5 read of the sorted, merged
  // selection. Throws InputError (index out of range, or a failed read, with context).
  torch::Tensor read_batch(const std::vector<int64_t>& indices) const;
  // The same into caller memory as uint8 (n*3*H*W bytes), requested order.
  void read_batch_uint8(const std::vector<int64_t>& indices, uint8_t* out) const;

 private:
  Dataset() = default;
  // InputError naming the file when an index is outside [0, size()).
  void check_indices(const std::vector<int64_t>& indices) const;
  // Reads the sorted unique indices into `buffer` (unique.size() images, in sorted order).
  void read_sorted(const std::vector<int64_t>& unique, std::vector<uint8_t>& buffer) const;

  std::filesystem::path path_;
  std::string split_;
  h5::Handle file_, images_;
  int64_t size_ = 0;
  int image_size_ = 0;
  std::string resize_policy_;
  std::vector<int64_t> ids_;
  std::vector<std::string> filenames_;
};

}  // namespace dpst::data
