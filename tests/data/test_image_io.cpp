// Decoding every kind of input a real image folder holds, and the reasons for failure.
#include <gtest/gtest.h>
#include <unistd.h>

#include <opencv2/imgproc.hpp>

#include "data/image_io.h"
#include "data_test_util.h"
#include "support/support.h"

namespace dpst::data {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

const fs::path kFixtures = fs::path(DPST_FIXTURES_DIR) / "data";

// Left half red, right half blue (see tests/fixtures/data/make_fixtures.py).
void expect_red_blue(const cv::Mat& rgb, int tolerance) {
  ASSERT_EQ(rgb.type(), CV_8UC3);
  const cv::Vec3b left = rgb.at<cv::Vec3b>(rgb.rows / 2, rgb.cols / 4);
  const cv::Vec3b right = rgb.at<cv::Vec3b>(rgb.rows / 2, rgb.cols * 3 / 4);
  EXPECT_NEAR(left[0], 255, tolerance);
  EXPECT_NEAR(left[1], 0, tolerance);
  EXPECT_NEAR(left[2], 0, tolerance);
  EXPECT_NEAR(right[0], 0, tolerance);
  EXPECT_NEAR(right[1], 0, tolerance);
  EXPECT_NEAR(right[2], 255, tolerance);
}

DecodeFailure failure_of(const fs::path& p, std::string* message = nullptr) {
  try {
    decode_image(p);
  } catch (const DecodeError& e) {
    if (message) *message = e.what();
    return e.reason();
  }
  ADD_FAILURE() << p << " decoded but should not";
  return DecodeFailure::kCorrupt;
}

TEST(ImageIo, CommittedOddFormatsDecodeToRgb) {
  // JPEG tolerance 8: quality-95 JPEG of flat colours, sampled away from the edge.
  expect_red_blue(decode_image(kFixtures / "cmyk.jpg"), 8);
  expect_red_blue(decode_image(kFixtures / "progressive.jpg"), 8);
  expect_red_blue(decode_image(kFixtures / "palette.png"), 0);
  EXPECT_EQ(decode_image(kFixtures / "cmyk.jpg").size(), cv::Size(48, 32));
}

TEST(ImageIo, GeneratedFormatsMatchTheSourcePixels) {
  TempDir tmp;
  const cv::Mat bgr = test::pattern(40, 30, 3);
  cv::Mat rgb;
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);

  test::write_image(tmp / "rgb.png", bgr);
  EXPECT_EQ(cv::norm(decode_image(tmp / "rgb.png"), rgb, cv::NORM_INF), 0);
  // Formats beyond JPEG/PNG come from OpenCV's imgcodecs in this build (build/bin); the
  // GPU bundle's build reads JPEG and PNG only (tests/launch/test_device_rehearsal.sh).
  test::write_image(tmp / "rgb.bmp", bgr);
  EXPECT_EQ(cv::norm(decode_image(tmp / "rgb.bmp"), rgb, cv::NORM_INF), 0);

  cv::Mat bgr16;
  bgr.convertTo(bgr16, CV_16UC3, 257.0);  // v * 257 maps 0..255 onto 0..65535 exactly
  test::write_image(tmp / "rgb16.png", bgr16);
  EXPECT_EQ(cv::norm(decode_image(tmp / "rgb16.png"), rgb, cv::NORM_INF), 0);

  cv::Mat bgra;
  cv::cvtColor(bgr, bgra, cv::COLOR_BGR2BGRA);
  bgra.forEach<cv::Vec4b>([](cv::Vec4b& p, const int*) { p[3] = 7; });  // alpha must be dropped, not blended
  test::write_image(tmp / "rgba.png", bgra);
  EXPECT_EQ(cv::norm(decode_image(tmp / "rgba.png"), rgb, cv::NORM_INF), 0);

  cv::Mat gray;
  cv::cvtColor(bgr, gray, cv::COLOR_BGR2GRAY);
  test::write_image(tmp / "gray.png", gray);
  const cv::Mat g = decode_image(tmp / "gray.png");
  ASSERT_EQ(g.type(), CV_8UC3);
  std::vector<cv::Mat> planes;
  cv::split(g, planes);
  for (const auto& p : planes) EXPECT_EQ(cv::norm(p, gray, cv::NORM_INF), 0);

  test::write_image(tmp / "gray.jpg", gray, {cv::IMWRITE_JPEG_QUALITY, 100});
  const cv::Mat gj = decode_image(tmp / "gray.jpg");
  ASSERT_EQ(gj.type(), CV_8UC3);
  cv::split(gj, planes);
  EXPECT_LE(cv::norm(planes[0], gray, cv::NORM_INF), 4);  // quality-100 JPEG rounding
  EXPECT_EQ(cv::norm(planes[0], planes[2], cv::NORM_INF), 0);
}

// PNG goes through libpng (png_codec.cpp): the same pixels as OpenCV's imgcodecs gives,
// for every 16-bit value (rounded v/257), palettes, alpha and gray.
TEST(ImageIo, PngDecodesAsOpenCvDoes) {
  TempDir tmp;
  auto opencv_rgb = [](const std::filesystem::path& p) {
    cv::Mat m = cv::imread(p.string(), cv::IMREAD_UNCHANGED), rgb8;
    if (m.depth() == CV_16U) m.convertTo(m, CV_8U, 1.0 / 257.0);
    const int code = m.channels() == 1 ? cv::COLOR_GRAY2RGB : m.channels() == 3 ? cv::COLOR_BGR2RGB : cv::COLOR_BGRA2RGB;
    cv::cvtColor(m, rgb8, code);
    return rgb8;
  };
  cv::Mat wide(37, 53, CV_16UC3);
  cv::randu(wide, 0, 65536);  // every rounding case of v/257, not only multiples of 257
  test::write_image(tmp / "wide.png", wide);
  cv::Mat rgba16(20, 30, CV_16UC4);
  cv::randu(rgba16, 0, 65536);
  test::write_image(tmp / "wide-rgba.png", rgba16);
  test::write_image(tmp / "small.png", test::pattern(33, 17, 5), {cv::IMWRITE_PNG_COMPRESSION, 9});
  for (const auto& p : {tmp / "wide.png", tmp / "wide-rgba.png", tmp / "small.png", kFixtures / "palette.png"}) {
    EXPECT_EQ(cv::norm(decode_image(p), opencv_rgb(p), cv::NORM_INF), 0) << p;
  }
  for (const auto& entry : std::filesystem::directory_iterator(std::string(DPST_FIXTURES_DIR) + "/demo/coco/val2014")) {
    if (entry.path().extension() != ".png") continue;
    EXPECT_EQ(cv::norm(decode_image(entry.path()), opencv_rgb(entry.path()), cv::NORM_INF), 0) << entry.path();
  }
}

TEST(ImageIo, JpegScaledDecodeCoversTheTarget) {
  TempDir tmp;
  test::write_image(tmp / "big.jpg", test::pattern(640, 480, 1));
  EXPECT_EQ(decode_image(tmp / "big.jpg").size(), cv::Size(640, 480));
  DecodeOptions o;
  o.min_short_side = 256;  // 5/8 * 480 = 300 is the smallest M/8 scale >= 256
  EXPECT_EQ(decode_image(tmp / "big.jpg", o).size(), cv::Size(400, 300));
  o.min_short_side = 60;  // 1/8 * 480 = 60
  EXPECT_EQ(decode_image(tmp / "big.jpg", o).size(), cv::Size(80, 60));
  o.min_short_side = 1000;  // larger than the image: full size, no upscaling in the decoder
  EXPECT_EQ(decode_image(tmp / "big.jpg", o).size(), cv::Size(640, 480));
}

TEST(ImageIo, ResizeSquareCropsTheCenterOrSquashes) {
  // 60x20: the centered square is columns 20..39, which hold the middle third.
  cv::Mat img(20, 60, CV_8UC3, cv::Scalar(0, 0, 0));
  img(cv::Rect(20, 0, 20, 20)).setTo(cv::Scalar(200, 100, 50));
  const cv::Mat crop = resize_square(img, 10, ResizePolicy::kCenterCrop);
  EXPECT_EQ(crop.size(), cv::Size(10, 10));
  EXPECT_EQ(cv::norm(crop, cv::Mat(10, 10, CV_8UC3, cv::Scalar(200, 100, 50)), cv::NORM_INF), 0);
  const cv::Mat squash = resize_square(img, 12, ResizePolicy::kSquash);
  EXPECT_EQ(squash.at<cv::Vec3b>(6, 0), cv::Vec3b(0, 0, 0));  // the black side is kept
  EXPECT_EQ(squash.at<cv::Vec3b>(6, 6), cv::Vec3b(200, 100, 50));
  const cv::Mat up = resize_square(cv::Mat(5, 7, CV_8UC3, cv::Scalar(9, 9, 9)), 32, ResizePolicy::kCenterCrop);
  EXPECT_EQ(up.size(), cv::Size(32, 32));
  EXPECT_EQ(resize_shorter_side(cv::Mat(30, 60, CV_8UC3), 15).size(), cv::Size(30, 15));
  EXPECT_EQ(resize_shorter_side(cv::Mat(90, 30, CV_8UC3), 10).size(), cv::Size(10, 30));
  EXPECT_THROW(parse_resize_policy("crop"), ConfigError);
}

TEST(ImageIo, PlanarLayoutIsChannelMajor) {
  cv::Mat rgb(2, 3, CV_8UC3);
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 3; ++x) rgb.at<cv::Vec3b>(y, x) = cv::Vec3b(x + 3 * y, 100 + x + 3 * y, 200 + x + 3 * y);
  std::vector<uint8_t> out(18);
  to_planar(rgb, out.data());
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(out[i], i);
    EXPECT_EQ(out[6 + i], 100 + i);
    EXPECT_EQ(out[12 + i], 200 + i);
  }
}

TEST(ImageIo, BrokenFilesFailWithTheirReasonAndName) {
  TempDir tmp;
  std::string msg;
  test::write_file(tmp / "empty.jpg", "");
  EXPECT_EQ(failure_of(tmp / "empty.jpg", &msg), DecodeFailure::kEmpty);
  EXPECT_NE(msg.find((tmp / "empty.jpg").string() + ": empty"), std::string::npos) << msg;

  test::write_file(tmp / "notes.jpg", "this is a text file, not a photo\n");
  EXPECT_EQ(failure_of(tmp / "notes.jpg", &msg), DecodeFailure::kNotAnImage);
  EXPECT_NE(msg.find("notes.jpg: not an image"), std::string::npos) << msg;

  test::write_image(tmp / "full.jpg", test::pattern(64, 48, 2));
  const std::string jpeg = test::read_file(tmp / "full.jpg");
  test::write_file(tmp / "cut.jpg", jpeg.substr(0, jpeg.size() / 2));
  EXPECT_EQ(failure_of(tmp / "cut.jpg", &msg), DecodeFailure::kTruncated);
  EXPECT_NE(msg.find("cut.jpg: truncated"), std::string::npos) << msg;
  test::write_file(tmp / "cut_header.jpg", jpeg.substr(0, 40));
  EXPECT_EQ(failure_of(tmp / "cut_header.jpg", &msg), DecodeFailure::kTruncated);

  test::write_image(tmp / "full.png", test::pattern(64, 48, 2));
  const std::string png = test::read_file(tmp / "full.png");
  test::write_file(tmp / "cut.png", png.substr(0, png.size() / 2));
  EXPECT_EQ(failure_of(tmp / "cut.png", &msg), DecodeFailure::kTruncated);
  EXPECT_NE(msg.find("cut.png: truncated"), std::string::npos) << msg;

  std::string garbled = png;  // complete, but the image data is noise
  for (size_t i = 60; i + 20 < garbled.size(); ++i) garbled[i] = static_cast<char>(i * 13);
  test::write_file(tmp / "garbled.png", garbled);
  EXPECT_EQ(failure_of(tmp / "garbled.png", &msg), DecodeFailure::kCorrupt);

  EXPECT_EQ(failure_of(tmp / "absent.jpg", &msg), DecodeFailure::kMissing);
  EXPECT_NE(msg.find("absent.jpg: missing (no such file)"), std::string::npos) << msg;

  fs::create_symlink(tmp / "nowhere.jpg", tmp / "dangling.jpg");
  EXPECT_EQ(failure_of(tmp / "dangling.jpg", &msg), DecodeFailure::kMissing);
  EXPECT_NE(msg.find("dangling.jpg: missing (dangling symlink"), std::string::npos) << msg;

  fs::create_directory(tmp / "folder.jpg");
  EXPECT_EQ(failure_of(tmp / "folder.jpg", &msg), DecodeFailure::kUnreadable);
  EXPECT_NE(msg.find("folder.jpg: unreadable"), std::string::npos) << msg;
}

TEST(ImageIo, UnreadablePermissionsAreReported) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads any file; the pack_coco test covers this by dropping privileges";
  TempDir tmp;
  test::write_image(tmp / "locked.jpg", test::pattern(8, 8, 1));
  fs::permissions(tmp / "locked.jpg", fs::perms::none);
  std::string msg;
  EXPECT_EQ(failure_of(tmp / "locked.jpg", &msg), DecodeFailure::kUnreadable);
  EXPECT_NE(msg.find("locked.jpg: unreadable (Permission denied)"), std::string::npos) << msg;
}

TEST(ImageIo, SaveWritesPngAndJpegAndReportsFailures) {
  TempDir tmp;
  cv::Mat rgb;
  cv::cvtColor(test::pattern(16, 8, 4), rgb, cv::COLOR_BGR2RGB);
  save_image(rgb, tmp / "a.png");
  EXPECT_EQ(cv::norm(decode_image(tmp / "a.png"), rgb, cv::NORM_INF), 0);
  save_image(rgb, tmp / "a.jpg");
  EXPECT_EQ(decode_image(tmp / "a.jpg").size(), rgb.size());
  // TurboJPEG writes what OpenCV's imwrite wrote, quality 95 and 4:2:0: the two encoders
  // round the colour conversion differently, by a few levels at most.
  cv::Mat bgr;
  cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
  test::write_image(tmp / "opencv.jpg", bgr, {cv::IMWRITE_JPEG_QUALITY, 95});
  EXPECT_LE(cv::norm(decode_image(tmp / "a.jpg"), decode_image(tmp / "opencv.jpg"), cv::NORM_INF), 6);
  // Written atomically: no temporary is left beside the images.
  for (const auto& entry : std::filesystem::directory_iterator(tmp.path()))
    EXPECT_NE(entry.path().filename().string()[0], '.') << entry.path();
  try {
    save_image(rgb, tmp / "missing-folder" / "a.png");
    FAIL() << "expected OutputError";
  } catch (const OutputError& e) {
    EXPECT_NE(std::string(e.what()).find("missing-folder/a.png: cannot write image"), std::string::npos) << e.what();
  }
  EXPECT_THROW(save_image(rgb, tmp / "a.gif"), OutputError);
}

}  // namespace
}  // namespace dpst::data
