// Dataset: reading batches back, and one-line errors for bad files (acceptance 5).
#include <gtest/gtest.h>
#include <hdf5.h>

#include <opencv2/imgproc.hpp>

#include "data/dataset.h"
#include "data/h5_layout.h"
#include "data_test_util.h"
#include "support/support.h"

namespace dpst::data {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

TEST(Dataset, ReadsBatchesInRequestedOrderAsFloat) {
  TempDir tmp;
  test::make_packed(tmp / "imgs", tmp / "d.h5", 7, 16);
  const Dataset d = Dataset::open(tmp / "d.h5", "train2014");
  EXPECT_EQ(d.size(), 7);
  EXPECT_EQ(d.image_size(), 16);
  EXPECT_EQ(d.filenames().front(), "img_000.png");
  EXPECT_EQ(d.ids(), std::vector<int64_t>(7, -1));
  EXPECT_EQ(d.resize_policy(), "center-crop");

  // Image 5 independently: the PNG, center-cropped 24x20 -> 20x20 at (2, 0), resized to 16.
  cv::Mat rgb;
  cv::cvtColor(test::pattern(24, 20, 5), rgb, cv::COLOR_BGR2RGB);
  cv::Mat expected;
  cv::resize(rgb(cv::Rect(2, 0, 20, 20)), expected, cv::Size(16, 16), 0, 0, cv::INTER_AREA);

  const std::vector<int64_t> indices = {5, 1, 5, 6, 0};  // unsorted, with a repeat
  const torch::Tensor batch = d.read_batch(indices);
  ASSERT_EQ(batch.sizes(), (std::vector<int64_t>{5, 3, 16, 16}));
  EXPECT_EQ(batch.dtype(), torch::kFloat32);
  EXPECT_GE(batch.min().item<float>(), 0.0f);
  EXPECT_LE(batch.max().item<float>(), 1.0f);
  for (int y = 0; y < 16; ++y)
    for (int x = 0; x < 16; ++x)
      for (int c = 0; c < 3; ++c)
        ASSERT_EQ(std::lround(batch[0][c][y][x].item<float>() * 255), expected.at<cv::Vec3b>(y, x)[c]);
  EXPECT_TRUE(torch::equal(batch[0], batch[2]));
  const torch::Tensor singles = torch::cat({d.read_batch({1}), d.read_batch({6}), d.read_batch({0})});
  EXPECT_TRUE(torch::equal(batch[1], singles[0]));
  EXPECT_TRUE(torch::equal(batch[3], singles[1]));
  EXPECT_TRUE(torch::equal(batch[4], singles[2]));

  std::vector<uint8_t> raw(2 * 3 * 16 * 16);
  d.read_batch_uint8({6, 0}, raw.data());
  EXPECT_EQ(raw[0], std::lround(batch[3][0][0][0].item<float>() * 255));
}

TEST(Dataset, IndexOutOfRangeNamesTheFile) {
  TempDir tmp;
  test::make_packed(tmp / "imgs", tmp / "d.h5", 3, 8);
  const Dataset d = Dataset::open(tmp / "d.h5", "train2014");
  try {
    d.read_batch({0, 3});
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("d.h5: index 3 out of range for split 'train2014' of 3 images"),
              std::string::npos) << e.what();
  }
}

// Opens and expects an InputError: one line, naming the file and containing `problem`.
void expect_open_error(const fs::path& path, const std::string& split, const std::string& problem) {
  try {
    Dataset::open(path, split);
    ADD_FAILURE() << "opened " << path;
  } catch (const InputError& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    EXPECT_EQ(msg.rfind(path.string(), 0), 0u) << msg;
    EXPECT_NE(msg.find(problem), std::string::npos) << msg;
    EXPECT_NE(msg.find("pack_coco"), std::string::npos) << msg;
  }
}

TEST(Dataset, MissingNotHdf5TruncatedAndCorruptedFilesAreRejected) {
  TempDir tmp;
  expect_open_error(tmp / "absent.h5", "train2014", "no such file");
  test::write_file(tmp / "text.h5", "not an hdf5 file at all\n");
  expect_open_error(tmp / "text.h5", "train2014", "not an HDF5 file");

  test::make_packed(tmp / "imgs", tmp / "d.h5", 4, 16);
  const std::string bytes = test::read_file(tmp / "d.h5");
  test::write_file(tmp / "truncated.h5", bytes.substr(0, bytes.size() / 2));
  expect_open_error(tmp / "truncated.h5", "train2014", "truncated file");

  std::string corrupt = bytes;  // signature intact, superblock garbage
  for (size_t i = 8; i < 64; ++i) corrupt[i] = static_cast<char>(0xA5);
  test::write_file(tmp / "corrupt.h5", corrupt);
  expect_open_error(tmp / "corrupt.h5", "train2014", "cannot open as HDF5");

  expect_open_error(tmp / "d.h5", "val2014", "no split 'val2014' (the file has: train2014)");
}

// A file in pack_coco's layout written by hand, with one thing wrong.
struct Layout {
  long long version = layout::kFormatVersion;
  bool with_version = true;
  hid_t image_type = H5T_STD_U8LE;
  hsize_t dims[4] = {2, 3, 8, 8};
  int rank = 4;
  hsize_t ids = 2;
  bool with_filenames = true;
};

void write_layout(const fs::path& path, const Layout& l) {
  hid_t f = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  auto int_attr = [&](const char* name, long long v) {
    hid_t s = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(f, name, H5T_STD_I64LE, s, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, H5T_NATIVE_LLONG, &v);
    H5Aclose(a);
    H5Sclose(s);
  };
  if (l.with_version) int_attr(layout::kAttrFormatVersion, l.version);
  int_attr(layout::kAttrImageSize, 8);
  {
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    hid_t s = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(f, layout::kAttrResize, t, s, H5P_DEFAULT, H5P_DEFAULT);
    const char* v = "center-crop";
    H5Awrite(a, t, &v);
    H5Aclose(a);
    H5Sclose(s);
    H5Tclose(t);
  }
  hid_t g = H5Gcreate2(f, "train2014", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  hid_t s = H5Screate_simple(l.rank, l.dims, nullptr);
  H5Dclose(H5Dcreate2(g, "images", l.image_type, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  H5Sclose(s);
  s = H5Screate_simple(1, &l.ids, nullptr);
  H5Dclose(H5Dcreate2(g, "ids", H5T_STD_I64LE, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  if (l.with_filenames) {
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Dclose(H5Dcreate2(g, "filenames", t, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    H5Tclose(t);
  }
  H5Sclose(s);
  H5Gclose(g);
  H5Fclose(f);
}

TEST(Dataset, WrongLayoutsSayWhatIsWrong) {
  TempDir tmp;
  write_layout(tmp / "good.h5", Layout{});
  EXPECT_EQ(Dataset::open(tmp / "good.h5", "train2014").size(), 2);  // the baseline is valid

  Layout no_version;
  no_version.with_version = false;
  write_layout(tmp / "a.h5", no_version);
  expect_open_error(tmp / "a.h5", "train2014", "no attribute 'format_version'");

  Layout future;
  future.version = 99;
  write_layout(tmp / "b.h5", future);
  expect_open_error(tmp / "b.h5", "train2014", "format version 99, this build reads version 1");

  Layout floats;
  floats.image_type = H5T_IEEE_F32LE;
  write_layout(tmp / "c.h5", floats);
  expect_open_error(tmp / "c.h5", "train2014", "'train2014/images' is not uint8");

  Layout hwc;  // channels last
  hwc.dims[1] = 8;
  hwc.dims[3] = 3;
  write_layout(tmp / "d.h5", hwc);
  expect_open_error(tmp / "d.h5", "train2014", "has shape (2, 8, 8, 3), expected (N, 3, 8, 8)");

  Layout rank3;
  rank3.rank = 3;
  write_layout(tmp / "e.h5", rank3);
  expect_open_error(tmp / "e.h5", "train2014", "has shape (2, 3, 8), expected (N, 3, 8, 8)");

  Layout short_ids;
  short_ids.ids = 1;
  short_ids.with_filenames = false;
  write_layout(tmp / "f.h5", short_ids);
  expect_open_error(tmp / "f.h5", "train2014", "'train2014/ids' has shape (1), expected (2,)");

  Layout no_names;
  no_names.with_filenames = false;
  write_layout(tmp / "g.h5", no_names);
  expect_open_error(tmp / "g.h5", "train2014", "no dataset 'train2014/filenames'");
}

}  // namespace
}  // namespace dpst::data
