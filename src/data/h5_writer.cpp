#include "data/h5_writer.h"

#include <chrono>
#include <ctime>

#include "common/errors.h"
#include "data/h5_layout.h"

namespace dpst::data {

std::string skipped_by_reason_text(const std::map<std::string, int64_t>& by_reason) {
  std::string text;
  for (const auto& [reason, n] : by_reason) text += (text.empty() ? "" : ",") + reason + "=" + std::to_string(n);
  return text;
}

H5Writer::H5Writer(const std::string& hdf5_path, std::string display_path, int image_size)
    : display_path_(std::move(display_path)), image_size_(image_size) {
  h5::quiet_errors();
  auto guard = h5::lock();
  file_ = h5::Handle(H5Fcreate(hdf5_path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT));
  if (!file_.valid()) fail("cannot create the HDF5 file");
}

H5Writer::~H5Writer() = default;

void H5Writer::fail(const std::string& what) const {
  const std::string reason = h5::last_error();
  DPST_THROW(OutputError, display_path_ << ": " << what << (reason.empty() ? "" : " (HDF5: " + reason + ")")
                                        << " - disk full or no permission?");
}

void H5Writer::begin_split(const std::string& split) {
  auto guard = h5::lock();
  split_ = split;
  rows_ = 0;
  ids_.clear();
  filenames_.clear();
  group_ = h5::Handle(H5Gcreate2(file_.get(), split.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  if (!group_.valid()) fail("cannot create group '" + split + "'");
  const auto s = static_cast<hsize_t>(image_size_);
  const hsize_t dims[4] = {0, 3, s, s};
  const hsize_t max_dims[4] = {H5S_UNLIMITED, 3, s, s};
  const hsize_t chunk[4] = {1, 3, s, s};  // one image per chunk: random access reads one chunk
  h5::Handle space(H5Screate_simple(4, dims, max_dims));
  h5::Handle dcpl(H5Pcreate(H5P_DATASET_CREATE));
  if (!dcpl.valid() || H5Pset_chunk(dcpl.get(), 4, chunk) < 0) fail("cannot set up chunks for '" + split + "/images'");
  images_ = h5::Handle(H5Dcreate2(group_.get(), layout::kImages, H5T_STD_U8LE, space.get(), H5P_DEFAULT,
                                  dcpl.get(), H5P_DEFAULT));
  if (!images_.valid()) fail("cannot create '" + split + "/images'");
}

void H5Writer::append(const uint8_t* planar, int64_t id, const std::string& filename) {
  auto guard = h5::lock();
  const auto s = static_cast<hsize_t>(image_size_);
  const hsize_t new_dims[4] = {static_cast<hsize_t>(rows_ + 1), 3, s, s};
  if (H5Dset_extent(images_.get(), new_dims) < 0) fail("cannot extend '" + split_ + "/images'");
  h5::Handle file_space(H5Dget_space(images_.get()));
  const hsize_t start[4] = {static_cast<hsize_t>(rows_), 0, 0, 0};
  const hsize_t count[4] = {1, 3, s, s};
  H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start, nullptr, count, nullptr);
  h5::Handle mem_space(H5Screate_simple(4, count, nullptr));
  if (H5Dwrite(images_.get(), H5T_NATIVE_UINT8, mem_space.get(), file_space.get(), H5P_DEFAULT, planar) < 0)
    fail("cannot write image " + std::to_string(rows_) + " of '" + split_ + "'");
  ++rows_;
  ids_.push_back(id);
  filenames_.push_back(filename);
}

void H5Writer::end_split(const SplitCounts& counts) {
  auto guard = h5::lock();
  const hsize_t n = static_cast<hsize_t>(rows_);
  {
    h5::Handle space(H5Screate_simple(1, &n, nullptr));
    h5::Handle ds(H5Dcreate2(group_.get(), layout::kIds, H5T_STD_I64LE, space.get(), H5P_DEFAULT, H5P_DEFAULT,
                             H5P_DEFAULT));
    if (!ds.valid() || (n > 0 && H5Dwrite(ds.get(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, ids_.data()) < 0))
      fail("cannot write '" + split_ + "/ids'");
  }
  {
    h5::Handle type(H5Tcopy(H5T_C_S1));
    H5Tset_size(type.get(), H5T_VARIABLE);
    H5Tset_cset(type.get(), H5T_CSET_UTF8);
    h5::Handle space(H5Screate_simple(1, &n, nullptr));
    h5::Handle ds(H5Dcreate2(group_.get(), layout::kFilenames, type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT,
                             H5P_DEFAULT));
    std::vector<const char*> pointers;
    pointers.reserve(filenames_.size());
    for (const auto& f : filenames_) pointers.push_back(f.c_str());
    if (!ds.valid() || (n > 0 && H5Dwrite(ds.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, pointers.data()) < 0))
      fail("cannot write '" + split_ + "/filenames'");
  }
  const bool ok = h5::write_int_attribute(group_.get(), layout::kAttrImagesRead, counts.read) &&
                  h5::write_int_attribute(group_.get(), layout::kAttrImagesWritten, counts.written) &&
                  h5::write_int_attribute(group_.get(), layout::kAttrImagesSkipped, counts.skipped) &&
                  h5::write_string_attribute(group_.get(), layout::kAttrSkippedByReason,
                                             skipped_by_reason_text(counts.skipped_by_reason));
  if (!ok) fail("cannot write the attributes of '" + split_ + "'");
  images_.reset();
  group_.reset();
}

void H5Writer::finish(const std::string& resize_policy, const std::string& source, const std::string& splits,
                      const SplitCounts& totals) {
  auto guard = h5::lock();
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  char created[32];
  std::tm tm{};
  gmtime_r(&now, &tm);
  std::strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", &tm);
  const hid_t root = file_.get();
  const bool ok = h5::write_int_attribute(root, layout::kAttrFormatVersion, layout::kFormatVersion) &&
                  h5::write_int_attribute(root, layout::kAttrImageSize, image_size_) &&
                  h5::write_string_attribute(root, layout::kAttrResize, resize_policy) &&
                  h5::write_string_attribute(root, layout::kAttrCreated, created) &&
                  h5::write_string_attribute(root, layout::kAttrTool, std::string("pack_coco (dpst ") + DPST_VERSION + ")") &&
                  h5::write_string_attribute(root, layout::kAttrSource, source) &&
                  h5::write_string_attribute(root, layout::kAttrSplits, splits) &&
                  h5::write_int_attribute(root, layout::kAttrImagesRead, totals.read) &&
                  h5::write_int_attribute(root, layout::kAttrImagesWritten, totals.written) &&
                  h5::write_int_attribute(root, layout::kAttrImagesSkipped, totals.skipped) &&
                  h5::write_string_attribute(root, layout::kAttrSkippedByReason,
                                             skipped_by_reason_text(totals.skipped_by_reason));
  if (!ok) fail("cannot write the root attributes");
  if (H5Fflush(root, H5F_SCOPE_GLOBAL) < 0) fail("cannot flush");
  // Close explicitly to see the error: closing writes the last metadata.
  if (H5Fclose(file_.release()) < 0) fail("cannot close");
}

}  // namespace dpst::data
