#include "data/dataset.h"

#include <algorithm>
#include <numeric>
#include <sstream>
#include <system_error>

#include "common/errors.h"
#include "data/h5_layout.h"

namespace dpst::data {

namespace fs = std::filesystem;

namespace {

constexpr const char* kRerun = "; re-run pack_coco to regenerate it";

[[noreturn]] void fail(const fs::path& path, const std::string& problem) {
  DPST_THROW(InputError, path.string() << ": " << problem << kRerun);
}

std::string with_hdf5_reason(const std::string& what) {
  const std::string reason = h5::last_error();
  return reason.empty() ? what : what + " (HDF5: " + reason + ")";
}

std::vector<hsize_t> dims_of(hid_t dataset) {
  h5::Handle space(H5Dget_space(dataset));
  const int rank = H5Sget_simple_extent_ndims(space.get());
  std::vector<hsize_t> dims(rank > 0 ? rank : 0);
  if (rank > 0) H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  return dims;
}

std::string shape_text(const std::vector<hsize_t>& dims) {
  std::ostringstream os;
  os << "(";
  for (size_t i = 0; i < dims.size(); ++i) os << (i ? ", " : "") << dims[i];
  os << ")";
  return os.str();
}

std::string group_members(hid_t file) {
  std::vector<std::string> names;
  H5Literate(
      file, H5_INDEX_NAME, H5_ITER_INC, nullptr,
      [](hid_t, const char* name, const H5L_info_t*, void* out) -> herr_t {
        static_cast<std::vector<std::string>*>(out)->push_back(name);
        return 0;
      },
      &names);
  std::string joined;
  for (const auto& n : names) joined += (joined.empty() ? "" : ", ") + n;
  return joined.empty() ? "none" : joined;
}

h5::Handle open_dataset(const fs::path& path, hid_t file, const std::string& name) {
  if (H5Lexists(file, name.c_str(), H5P_DEFAULT) <= 0) fail(path, "no dataset '" + name + "'");
  h5::Handle ds(H5Dopen2(file, name.c_str(), H5P_DEFAULT));
  if (!ds.valid()) fail(path, with_hdf5_reason("cannot open dataset '" + name + "'"));
  return ds;
}

}  // namespace

Dataset Dataset::open(const fs::path& path, const std::string& split) {
  h5::quiet_errors();
  auto guard = h5::lock();
  std::error_code ec;
  if (!fs::exists(path, ec)) DPST_THROW(InputError, path.string() << ": no such file (pack it with pack_coco)");
  if (!fs::is_regular_file(path, ec)) fail(path, "not a regular file");

  Dataset d;
  d.path_ = path;
  d.split_ = split;
  const htri_t is_hdf5 = H5Fis_hdf5(path.c_str());
  if (is_hdf5 < 0) fail(path, with_hdf5_reason("cannot read the file"));
  if (is_hdf5 == 0) fail(path, "not an HDF5 file (no HDF5 signature: corrupted, or not a pack_coco output)");

  // Read-only, and without HDF5's file locking, so many ranks (and readers on shared
  // filesystems that lack flock) can open it at once.
  h5::Handle fapl(H5Pcreate(H5P_FILE_ACCESS));
  H5Pset_file_locking(fapl.get(), /*use_file_locking=*/false, /*ignore_when_disabled=*/true);
  d.file_ = h5::Handle(H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl.get()));
  if (!d.file_.valid()) fail(path, with_hdf5_reason("cannot open as HDF5 (corrupted or truncated?)"));
  const hid_t file = d.file_.get();

  try {
    const long long version = h5::read_int_attribute(file, layout::kAttrFormatVersion);
    if (version != layout::kFormatVersion)
      fail(path, "format version " + std::to_string(version) + ", this build reads version " +
                     std::to_string(layout::kFormatVersion));
    d.image_size_ = static_cast<int>(h5::read_int_attribute(file, layout::kAttrImageSize));
    d.resize_policy_ = h5::read_string_attribute(file, layout::kAttrResize);
  } catch (const std::runtime_error& e) {
    if (dynamic_cast<const InputError*>(&e) != nullptr) throw;
    fail(path, std::string("root attributes: ") + e.what() + " (not written by pack_coco?)");
  }
  if (d.image_size_ <= 0) fail(path, "image_size attribute is " + std::to_string(d.image_size_));

  if (H5Lexists(file, split.c_str(), H5P_DEFAULT) <= 0)
    fail(path, "no split '" + split + "' (the file has: " + group_members(file) + ")");

  // images: uint8, (N, 3, S, S)
  const std::string images_name = split + "/" + layout::kImages;
  d.images_ = open_dataset(path, file, images_name);
  {
    h5::Handle type(H5Dget_type(d.images_.get()));
    if (H5Tget_class(type.get()) != H5T_INTEGER || H5Tget_size(type.get()) != 1 ||
        H5Tget_sign(type.get()) != H5T_SGN_NONE)
      fail(path, "'" + images_name + "' is not uint8");
    const auto dims = dims_of(d.images_.get());
    const auto s = static_cast<hsize_t>(d.image_size_);
    if (dims.size() != 4 || dims[1] != 3 || dims[2] != s || dims[3] != s)
      fail(path, "'" + images_name + "' has shape " + shape_text(dims) + ", expected (N, 3, " +
                     std::to_string(s) + ", " + std::to_string(s) + ")");
    d.size_ = static_cast<int64_t>(dims[0]);
  }

  // ids: int64 (N,)
  const std::string ids_name = split + "/" + layout::kIds;
  {
    h5::Handle ds = open_dataset(path, file, ids_name);
    h5::Handle type(H5Dget_type(ds.get()));
    const auto dims = dims_of(ds.get());
    if (H5Tget_class(type.get()) != H5T_INTEGER || H5Tget_size(type.get()) != 8)
      fail(path, "'" + ids_name + "' is not int64");
    if (dims.size() != 1 || dims[0] != static_cast<hsize_t>(d.size_))
      fail(path, "'" + ids_name + "' has shape " + shape_text(dims) + ", expected (" + std::to_string(d.size_) + ",)");
    d.ids_.resize(d.size_);
    if (d.size_ > 0 && H5Dread(ds.get(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, d.ids_.data()) < 0)
      fail(path, with_hdf5_reason("cannot read '" + ids_name + "'"));
  }

  // filenames: variable-length strings (N,)
  const std::string names_name = split + "/" + layout::kFilenames;
  {
    h5::Handle ds = open_dataset(path, file, names_name);
    h5::Handle type(H5Dget_type(ds.get()));
    const auto dims = dims_of(ds.get());
    if (H5Tget_class(type.get()) != H5T_STRING || H5Tis_variable_str(type.get()) <= 0)
      fail(path, "'" + names_name + "' is not a variable-length string dataset");
    if (dims.size() != 1 || dims[0] != static_cast<hsize_t>(d.size_))
      fail(path, "'" + names_name + "' has shape " + shape_text(dims) + ", expected (" + std::to_string(d.size_) + ",)");
    std::vector<char*> raw(d.size_, nullptr);
    h5::Handle mem(H5Tcopy(H5T_C_S1));
    H5Tset_size(mem.get(), H5T_VARIABLE);
    H5Tset_cset(mem.get(), H5Tget_cset(type.get()));
    if (d.size_ > 0 && H5Dread(ds.get(), mem.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, raw.data()) < 0)
      fail(path, with_hdf5_reason("cannot read '" + names_name + "'"));
    d.filenames_.reserve(d.size_);
    for (char* s : raw) d.filenames_.emplace_back(s != nullptr ? s : "");
    if (d.size_ > 0) {
      h5::Handle space(H5Dget_space(ds.get()));
      H5Dvlen_reclaim(mem.get(), space.get(), H5P_DEFAULT, raw.data());
    }
  }
  return d;
}

void Dataset::read_sorted(const std::vector<int64_t>& unique, std::vector<uint8_t>& buffer) const {
  const auto s = static_cast<hsize_t>(image_size_);
  const size_t image_bytes = 3 * s * s;
  buffer.resize(unique.size() * image_bytes);
  if (unique.empty()) return;

  auto guard = h5::lock();
  h5::Handle file_space(H5Dget_space(images_.get()));
  // One H5Dread per run of consecutive indices, in sorted order. Each run is a regular
  // hyperslab, which HDF5 maps to chunks directly; a single read of the union of runs
  // (an irregular selection) makes HDF5 1.10 walk it element by element, ~50x slower.
  size_t row = 0;
  for (size_t i = 0; i < unique.size();) {
    size_t j = i + 1;
    while (j < unique.size() && unique[j] == unique[j - 1] + 1) ++j;
    const hsize_t start[4] = {static_cast<hsize_t>(unique[i]), 0, 0, 0};
    const hsize_t count[4] = {static_cast<hsize_t>(j - i), 3, s, s};
    if (H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start, nullptr, count, nullptr) < 0)
      DPST_THROW(InputError, path_.string() << ": cannot select " << (j - i) << " image(s) of '" << split_
                                            << "/images' at index " << unique[i] << ": "
                                            << with_hdf5_reason("hyperslab selection failed") << kRerun);
    h5::Handle mem_space(H5Screate_simple(4, count, nullptr));
    if (H5Dread(images_.get(), H5T_NATIVE_UINT8, mem_space.get(), file_space.get(), H5P_DEFAULT,
                buffer.data() + row * image_bytes) < 0)
      DPST_THROW(InputError, path_.string() << ": cannot read " << (j - i) << " image(s) of '" << split_
                                            << "/images' starting at index " << unique[i] << ": "
                                            << with_hdf5_reason("read failed") << kRerun);
    row += j - i;
    i = j;
  }
}

namespace {

// Sorted unique indices, and for each requested position its row in that sorted list.
void sort_indices(const std::vector<int64_t>& indices, std::vector<int64_t>& unique, std::vector<size_t>& row) {
  unique = indices;
  std::sort(unique.begin(), unique.end());
  unique.erase(std::unique(unique.begin(), unique.end()), unique.end());
  row.resize(indices.size());
  for (size_t k = 0; k < indices.size(); ++k)
    row[k] = static_cast<size_t>(std::lower_bound(unique.begin(), unique.end(), indices[k]) - unique.begin());
}

}  // namespace

void Dataset::check_indices(const std::vector<int64_t>& indices) const {
  for (int64_t i : indices)
    DPST_CHECK(i >= 0 && i < size_, InputError,
               path_.string() << ": index " << i << " out of range for split '" << split_ << "' of " << size_ << " images");
}

void Dataset::read_batch_uint8(const std::vector<int64_t>& indices, uint8_t* out) const {
  check_indices(indices);
  std::vector<int64_t> unique;
  std::vector<size_t> row;
  sort_indices(indices, unique, row);
  std::vector<uint8_t> buffer;
  read_sorted(unique, buffer);
  const size_t image_bytes = 3 * static_cast<size_t>(image_size_) * image_size_;
  for (size_t k = 0; k < indices.size(); ++k)
    std::copy_n(buffer.data() + row[k] * image_bytes, image_bytes, out + k * image_bytes);
}

torch::Tensor Dataset::read_batch(const std::vector<int64_t>& indices) const {
  check_indices(indices);
  std::vector<int64_t> unique;
  std::vector<size_t> row;
  sort_indices(indices, unique, row);
  // One scratch buffer per thread: a batch of 256x256 images is megabytes, and the
  // loader calls this for every batch.
  thread_local std::vector<uint8_t> buffer;
  read_sorted(unique, buffer);

  const int64_t n = static_cast<int64_t>(indices.size());
  const size_t image_bytes = 3 * static_cast<size_t>(image_size_) * image_size_;
  torch::Tensor out = torch::empty({n, 3, image_size_, image_size_}, torch::kFloat32);
  float* dst = out.data_ptr<float>();
  // Outside the HDF5 lock; a plain loop the compiler vectorises. x / 255 exactly, so a
  // pixel value round-trips through float.
  for (int64_t k = 0; k < n; ++k) {
    const uint8_t* src = buffer.data() + row[k] * image_bytes;
    float* d = dst + k * image_bytes;
    for (size_t i = 0; i < image_bytes; ++i) d[i] = static_cast<float>(src[i]) / 255.0f;
  }
  return out;
}

}  // namespace dpst::data
