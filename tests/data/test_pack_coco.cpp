// pack_coco end to end: the mini-coco pack (acceptance 1), every kind of input
// (acceptance 2), SIGKILL midway (acceptance 3), and its error paths and exit codes.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>

#include "data/atomic_output.h"
#include "data/dataset.h"
#include "data/h5_util.h"
#include "data_test_util.h"
#include "support/support.h"

namespace dpst::data {
namespace {

namespace fs = std::filesystem;
using test::bin;
using test::run;
using test::TempDir;

const fs::path kMiniCoco = fs::path(DPST_SOURCE_DIR) / ".." / "shared" / "data" / "mini-coco";
const fs::path kFixtures = fs::path(DPST_FIXTURES_DIR) / "data";

std::string pack_cmd(const std::string& args) { return bin("pack_coco") + " " + args; }

std::map<std::string, int64_t> annotation_ids(const std::string& split) {
  std::ifstream in(kMiniCoco / "annotations" / ("captions_" + split + ".json"));
  const auto doc = nlohmann::json::parse(in);
  std::map<std::string, int64_t> ids;
  for (const auto& im : doc["images"]) ids[im["file_name"].get<std::string>()] = im["id"].get<int64_t>();
  return ids;
}

// The packed image as uint8 HWC RGB.
cv::Mat packed_image(const Dataset& d, int64_t index) {
  const int s = d.image_size();
  std::vector<uint8_t> planar(3 * s * s);
  d.read_batch_uint8({index}, planar.data());
  cv::Mat rgb(s, s, CV_8UC3);
  for (int y = 0; y < s; ++y)
    for (int x = 0; x < s; ++x)
      for (int c = 0; c < 3; ++c) rgb.at<cv::Vec3b>(y, x)[c] = planar[c * s * s + y * s + x];
  return rgb;
}

// Independent decode: OpenCV's imread at full resolution, then the documented policy
// (centered square, INTER_AREA to 256) written out here again.
cv::Mat reference_image(const fs::path& file, int size) {
  cv::Mat bgr = cv::imread(file.string(), cv::IMREAD_COLOR), rgb, out;
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  const int s = std::min(rgb.cols, rgb.rows);
  cv::resize(rgb(cv::Rect((rgb.cols - s) / 2, (rgb.rows - s) / 2, s, s)), out, cv::Size(size, size), 0, 0, cv::INTER_AREA);
  return out;
}

TEST(PackCoco, MiniCocoPacksWithIdsLayoutAndPixels) {
  ASSERT_TRUE(fs::is_directory(kMiniCoco)) << kMiniCoco;
  TempDir tmp;
  const auto r = run(pack_cmd("--coco-dir " + kMiniCoco.string() + " --out " + (tmp / "coco.h5").string() + " --threads 2"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("pack_coco: read 50, written 50, skipped 0"), std::string::npos) << r.err;

  for (const auto& [split, n] : std::vector<std::pair<std::string, int64_t>>{{"train2014", 40}, {"val2014", 10}}) {
    const Dataset d = Dataset::open(tmp / "coco.h5", split);
    ASSERT_EQ(d.size(), n);
    EXPECT_EQ(d.image_size(), 256);
    EXPECT_TRUE(std::is_sorted(d.filenames().begin(), d.filenames().end()));
    const auto ids = annotation_ids(split);
    for (int64_t i = 0; i < n; ++i) EXPECT_EQ(d.ids()[i], ids.at(d.filenames()[i])) << d.filenames()[i];
  }

  // Root attributes, read through the HDF5 C API.
  hid_t f = H5Fopen((tmp / "coco.h5").c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  ASSERT_GE(f, 0);
  EXPECT_EQ(h5::read_int_attribute(f, "format_version"), 1);
  EXPECT_EQ(h5::read_int_attribute(f, "image_size"), 256);
  EXPECT_EQ(h5::read_int_attribute(f, "images_written"), 50);
  EXPECT_EQ(h5::read_int_attribute(f, "images_skipped"), 0);
  EXPECT_EQ(h5::read_string_attribute(f, "resize_policy"), "center-crop");
  EXPECT_EQ(h5::read_string_attribute(f, "splits"), "train2014,val2014");
  EXPECT_EQ(fs::path(h5::read_string_attribute(f, "source")).filename(), "mini-coco");
  EXPECT_EQ(h5::read_string_attribute(f, "tool").rfind("pack_coco (dpst ", 0), 0u);
  H5Fclose(f);

  const Dataset train = Dataset::open(tmp / "coco.h5", "train2014");
  // A PNG (grayscale, 640x480) goes through the same OpenCV decode and resize: exact.
  const auto png = std::find(train.filenames().begin(), train.filenames().end(), "COCO_train2014_000000100025.png");
  ASSERT_NE(png, train.filenames().end());
  const int64_t png_index = png - train.filenames().begin();
  EXPECT_EQ(cv::norm(packed_image(train, png_index), reference_image(kMiniCoco / "train2014" / *png, 256), cv::NORM_INF), 0);

  // A 640x480 JPEG is decoded by TurboJPEG at 5/8 scale (DCT-domain downscaling) and
  // then area-resized; the reference decodes at full size. Both are low-pass filters
  // of the same image, so they agree closely but not bit for bit: mean absolute
  // difference under 2 levels, and PSNR above 35 dB (measured: see results/pack_coco.md).
  ASSERT_EQ(train.filenames()[0], "COCO_train2014_000000100000.jpg");
  const cv::Mat got = packed_image(train, 0), want = reference_image(kMiniCoco / "train2014" / train.filenames()[0], 256);
  cv::Mat diff;
  cv::absdiff(got, want, diff);
  const double mean_abs = cv::mean(diff.reshape(1))[0];
  EXPECT_LT(mean_abs, 2.0);
  EXPECT_GT(cv::PSNR(got, want), 35.0);
  std::printf("JPEG check: mean |diff| %.3f levels, PSNR %.2f dB, max %.0f\n", mean_abs, cv::PSNR(got, want),
              cv::norm(diff.reshape(1), cv::NORM_INF));
}

// Builds a folder with every kind of input; returns the names that must be written.
std::vector<std::string> make_every_kind(const fs::path& dir) {
  fs::create_directories(dir);
  std::vector<std::string> good = {"baseline.jpg", "cmyk.jpg",  "gray.jpg",  "gray.png", "large.jpg", "palette.png",
                                   "png16.png",    "progressive.jpg", "rgba.png", "small.jpg"};
  test::write_image(dir / "baseline.jpg", test::pattern(64, 48, 1));
  fs::copy_file(kFixtures / "cmyk.jpg", dir / "cmyk.jpg");
  fs::copy_file(kFixtures / "progressive.jpg", dir / "progressive.jpg");
  fs::copy_file(kFixtures / "palette.png", dir / "palette.png");
  cv::Mat gray;
  cv::cvtColor(test::pattern(48, 40, 2), gray, cv::COLOR_BGR2GRAY);
  test::write_image(dir / "gray.jpg", gray);
  test::write_image(dir / "gray.png", gray);
  test::write_image(dir / "png16.png", test::pattern(40, 40, 3, CV_16UC3));
  cv::Mat rgba;
  cv::cvtColor(test::pattern(50, 36, 4), rgba, cv::COLOR_BGR2BGRA);
  test::write_image(dir / "rgba.png", rgba);
  test::write_image(dir / "small.jpg", test::pattern(20, 12, 5));  // upscaled to 32
  test::write_image(dir / "large.jpg", test::pattern(3000, 2000, 6));

  const std::string jpeg = test::read_file(dir / "baseline.jpg");
  test::write_file(dir / "empty.jpg", "");
  test::write_file(dir / "truncated.jpg", jpeg.substr(0, jpeg.size() / 2));
  test::write_file(dir / "notimage.png", "plain text, not a picture\n");
  fs::create_symlink(dir / "gone.jpg", dir / "dangling.jpg");
  test::write_file(dir / "noperm.jpg", jpeg);
  fs::permissions(dir / "noperm.jpg", fs::perms::none);
  test::write_file(dir / "README.txt", "not an image extension: ignored, not counted\n");
  return good;
}

TEST(PackCoco, EveryInputKindPacksGoodImagesAndReportsBadOnes) {
  TempDir tmp;
  const auto good = make_every_kind(tmp / "in");
  fs::create_directories(tmp / "out");
  fs::permissions(tmp / "out", fs::perms::all);
  fs::permissions(tmp.path(), fs::perms::all);
  // Root reads any file, so run as nobody where we are root: then noperm.jpg is unreadable.
  const std::string as_user = ::geteuid() == 0 ? "setpriv --reuid=65534 --regid=65534 --clear-groups " : "";
  const std::string common = "--images-dir " + (tmp / "in").string() + " --split photos --size 32 --max-bad-fraction 0.5";
  const auto r = run(as_user + pack_cmd(common + " --threads 3 --out " + (tmp / "out" / "a.h5").string()));
  ASSERT_EQ(r.exit_code, 0) << r.err;

  const Dataset d = Dataset::open(tmp / "out" / "a.h5", "photos");
  EXPECT_EQ(d.filenames(), good);
  EXPECT_EQ(d.ids(), std::vector<int64_t>(good.size(), -1));
  const std::string dir = (tmp / "in").string() + "/";
  EXPECT_NE(r.err.find("skipped " + dir + "empty.jpg: empty"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("skipped " + dir + "truncated.jpg: truncated"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("skipped " + dir + "notimage.png: not an image"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("skipped " + dir + "dangling.jpg: missing (dangling symlink"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("skipped " + dir + "noperm.jpg: unreadable (Permission denied)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("read 15, written 10, skipped 5 (empty=1,missing=1,not an image=1,truncated=1,unreadable=1)"),
            std::string::npos) << r.err;
  EXPECT_EQ(test::count(r.err, "skipped /"), 5);

  // The CMYK fixture is red | blue; after the 32x32 center crop of 48x32 the left
  // quarter is red and the right quarter blue.
  const auto cmyk = d.read_batch({1});
  EXPECT_GT(cmyk[0][0][16][2].item<float>(), 0.9f);
  EXPECT_LT(cmyk[0][2][16][2].item<float>(), 0.1f);
  EXPECT_GT(cmyk[0][2][16][29].item<float>(), 0.9f);

  // Same file whatever the thread count.
  const auto r1 = run(as_user + pack_cmd(common + " --threads 1 --out " + (tmp / "out" / "b.h5").string()));
  ASSERT_EQ(r1.exit_code, 0) << r1.err;
  const Dataset d1 = Dataset::open(tmp / "out" / "b.h5", "photos");
  EXPECT_EQ(d1.filenames(), d.filenames());
  std::vector<int64_t> all(good.size());
  std::iota(all.begin(), all.end(), 0);
  EXPECT_TRUE(torch::equal(d1.read_batch(all), d.read_batch(all)));
}

TEST(PackCoco, TooManyBadFilesFailsWithExit3AndNoOutput) {
  TempDir tmp;
  make_every_kind(tmp / "in");
  const auto r = run(pack_cmd("--images-dir " + (tmp / "in").string() + " --size 32 --out " + (tmp / "a.h5").string()));
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("could not be read, more than --max-bad-fraction 0.01 allows"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("nothing was written to " + (tmp / "a.h5").string()), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(tmp / "a.h5"));
  for (const auto& e : fs::directory_iterator(tmp.path())) EXPECT_EQ(e.path().filename(), "in") << "left behind: " << e.path();
}

TEST(PackCoco, CommandLineAndFolderErrorsHaveTheirExitCodes) {
  TempDir tmp;
  test::write_image(tmp / "in" / "a.jpg", test::pattern(40, 40, 1));
  const std::string in = " --images-dir " + (tmp / "in").string();
  auto r = run(pack_cmd("--out " + (tmp / "x.h5").string() + in + " --resize stretch"));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  r = run(pack_cmd(in));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE((r.out + r.err).find("--out is required"), std::string::npos) << r.out << r.err;
  r = run(pack_cmd("--out " + (tmp / "x.h5").string()));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("give exactly one of --coco-dir or --images-dir"), std::string::npos) << r.err;
  r = run(pack_cmd("--out " + (tmp / "x.h5").string() + " --coco-dir " + (tmp / "in").string()));
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find((tmp / "in" / "train2014").string() + ": no such folder"), std::string::npos) << r.err;
  r = run(pack_cmd("--out " + (tmp / "x.h5").string() + " --images-dir " + (tmp / "nothere").string()));
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find((tmp / "nothere").string() + ": no such folder"), std::string::npos) << r.err;
  r = run(pack_cmd("--out " + (tmp / "no" / "x.h5").string() + in));
  EXPECT_EQ(r.exit_code, 6);
  EXPECT_NE(r.err.find("does not exist"), std::string::npos) << r.err;

  // Refuses to overwrite; --overwrite replaces.
  test::write_file(tmp / "x.h5", "precious");
  r = run(pack_cmd("--out " + (tmp / "x.h5").string() + in));
  EXPECT_EQ(r.exit_code, 6);
  EXPECT_NE(r.err.find((tmp / "x.h5").string() + ": already exists; pass --overwrite to replace it"), std::string::npos)
      << r.err;
  EXPECT_EQ(test::read_file(tmp / "x.h5"), "precious");
  r = run(pack_cmd("--out " + (tmp / "x.h5").string() + in + " --overwrite --size 16"));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Dataset::open(tmp / "x.h5", "train").size(), 1);
}

TEST(PackCoco, SigkillMidwayLeavesNothingAtOut) {
  TempDir tmp;
  // One small JPEG behind 4000 names: cheap to create, seconds to pack at --size 384.
  test::write_image(tmp / "one.jpg", test::pattern(64, 48, 1));
  fs::create_directories(tmp / "in");
  for (int i = 0; i < 4000; ++i) fs::create_symlink(tmp / "one.jpg", tmp / "in" / ("img_" + std::to_string(i) + ".jpg"));
  fs::create_directories(tmp / "out");
  const fs::path out = tmp / "out" / "coco.h5";

  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const std::string exe = bin("pack_coco"), in = (tmp / "in").string(), o = out.string();
    ::execl(exe.c_str(), exe.c_str(), "--images-dir", in.c_str(), "--out", o.c_str(), "--size", "384", "--threads", "1",
            "--log-level", "off", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  // Wait until it is writing: the temporary exists and has grown past 2 MB.
  const fs::path temp = tmp / "out" / (AtomicOutputFile::temp_prefix(out) + std::to_string(pid));
  bool writing = false;
  for (int i = 0; i < 2000 && !writing; ++i) {
    std::error_code ec;
    writing = fs::exists(temp, ec) && fs::file_size(temp, ec) > (2u << 20);
    if (!writing) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, WNOHANG), 0) << "pack_coco finished before it could be killed";
  ASSERT_TRUE(writing) << "pack_coco never started writing";
  ::kill(pid, SIGKILL);
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status));

  EXPECT_FALSE(fs::exists(out));
  // The only thing left is the hidden, clearly named temporary...
  std::vector<std::string> left;
  for (const auto& e : fs::directory_iterator(tmp / "out")) left.push_back(e.path().filename().string());
  EXPECT_EQ(left, std::vector<std::string>{temp.filename().string()});
  EXPECT_EQ(left[0].rfind(".coco.h5.incomplete-", 0), 0u);
  // ...which the next pack of the same output removes.
  const auto r = run(pack_cmd("--images-dir " + (tmp / "in").string() + " --out " + out.string() + " --size 16 --max-images 3"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("left by an interrupted earlier run"), std::string::npos) << r.err;
  left.clear();
  for (const auto& e : fs::directory_iterator(tmp / "out")) left.push_back(e.path().filename().string());
  EXPECT_EQ(left, std::vector<std::string>{"coco.h5"});
  EXPECT_EQ(Dataset::open(out, "train").size(), 3);
}

TEST(PackCoco, SigtermRemovesTheTemporary) {
  TempDir tmp;
  test::write_image(tmp / "one.jpg", test::pattern(64, 48, 1));
  fs::create_directories(tmp / "in");
  for (int i = 0; i < 4000; ++i) fs::create_symlink(tmp / "one.jpg", tmp / "in" / ("i" + std::to_string(i) + ".jpg"));
  fs::create_directories(tmp / "out");
  const fs::path out = tmp / "out" / "c.h5";
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const std::string exe = bin("pack_coco"), in = (tmp / "in").string(), o = out.string();
    ::execl(exe.c_str(), exe.c_str(), "--images-dir", in.c_str(), "--out", o.c_str(), "--size", "384", "--threads", "1",
            "--log-level", "off", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  const fs::path temp = tmp / "out" / (AtomicOutputFile::temp_prefix(out) + std::to_string(pid));
  for (int i = 0; i < 2000; ++i) {
    std::error_code ec;
    if (fs::exists(temp, ec) && fs::file_size(temp, ec) > (1u << 20)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ::kill(pid, SIGTERM);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
  EXPECT_TRUE(fs::is_empty(tmp / "out"));
}

}  // namespace
}  // namespace dpst::data
