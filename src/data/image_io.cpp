#include "data/image_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <turbojpeg.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <vector>

#include <opencv2/imgproc.hpp>

#include "common/atomic_file.h"
#include "common/text.h"
#include "data/other_formats.h"
#include "data/png_codec.h"

namespace dpst::data {

namespace fs = std::filesystem;

const char* to_string(DecodeFailure reason) {
  switch (reason) {
    case DecodeFailure::kMissing: return "missing";
    case DecodeFailure::kUnreadable: return "unreadable";
    case DecodeFailure::kEmpty: return "empty";
    case DecodeFailure::kTruncated: return "truncated";
    case DecodeFailure::kNotAnImage: return "not an image";
    case DecodeFailure::kCorrupt: return "corrupt";
    case DecodeFailure::kTooLarge: return "too large";
  }
  return "unknown";
}

namespace {

[[noreturn]] void fail(DecodeFailure reason, const std::string& name, const std::string& detail) {
  throw DecodeError(reason, name + ": " + to_string(reason) + " (" + detail + ")");
}

std::string read_all(const fs::path& path) {
  const std::string name = path.string();
  std::error_code ec;
  const auto link_status = fs::symlink_status(path, ec);
  if (ec || !fs::exists(link_status)) fail(DecodeFailure::kMissing, name, "no such file");
  if (fs::is_symlink(link_status) && !fs::exists(path, ec))
    fail(DecodeFailure::kMissing, name, "dangling symlink to " + fs::read_symlink(path, ec).string());
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(DecodeFailure::kUnreadable, name, std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    fail(DecodeFailure::kUnreadable, name, "not a regular file");
  }
  std::string bytes(static_cast<size_t>(st.st_size), '\0');
  size_t got = 0;
  while (got < bytes.size()) {
    const ssize_t n = ::read(fd, bytes.data() + got, bytes.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      fail(DecodeFailure::kUnreadable, name, std::strerror(err));
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  bytes.resize(got);
  return bytes;
}

bool is_jpeg(const std::string& b) {
  return b.size() >= 3 && static_cast<uint8_t>(b[0]) == 0xFF && static_cast<uint8_t>(b[1]) == 0xD8 &&
         static_cast<uint8_t>(b[2]) == 0xFF;
}
bool is_png(const std::string& b) { return b.size() >= 8 && b.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0; }

// A complete JPEG ends with the EOI marker FF D9 (a few writers add padding after it).
bool jpeg_complete(const std::string& b) {
  const size_t tail = std::min<size_t>(b.size(), 64);
  for (size_t i = b.size() - tail; i + 1 < b.size(); ++i)
    if (static_cast<uint8_t>(b[i]) == 0xFF && static_cast<uint8_t>(b[i + 1]) == 0xD9) return true;
  return false;
}

// A complete PNG ends with the IEND chunk (its 4-byte type then a 4-byte CRC).
bool png_complete(const std::string& b) { return b.size() >= 12 && b.compare(b.size() - 8, 4, "IEND") == 0; }

struct TjHandle {
  explicit TjHandle(bool compress = false) : h(compress ? tjInitCompress() : tjInitDecompress()) {}
  TjHandle(const TjHandle&) = delete;
  TjHandle& operator=(const TjHandle&) = delete;
  tjhandle h;
  ~TjHandle() {
    if (h != nullptr) tjDestroy(h);
  }
};

cv::Mat decode_jpeg(const std::string& bytes, const std::string& name, const DecodeOptions& options) {
  // One decompressor per thread: creating one costs more than decoding a thumbnail.
  thread_local TjHandle tj;
  if (tj.h == nullptr) DPST_THROW(InternalError, "cannot create a TurboJPEG decompressor");
  auto* data = reinterpret_cast<const unsigned char*>(bytes.data());
  int width = 0, height = 0, subsamp = 0, colorspace = 0;
  if (tjDecompressHeader3(tj.h, data, bytes.size(), &width, &height, &subsamp, &colorspace) != 0) {
    fail(jpeg_complete(bytes) ? DecodeFailure::kCorrupt : DecodeFailure::kTruncated, name,
         std::string("JPEG header: ") + tjGetErrorStr2(tj.h));
  }

  // Smallest scale M/8 whose shorter side still covers the target: the DCT does most
  // of the shrinking for free, the area resize afterwards only a little.
  int num = 1, denom = 1;
  if (options.min_short_side > 0) {
    int count = 0;
    const tjscalingfactor* factors = tjGetScalingFactors(&count);
    long long best_pixels = static_cast<long long>(width) * height;
    for (int i = 0; i < count; ++i) {
      const int w = TJSCALED(width, factors[i]), h = TJSCALED(height, factors[i]);
      const long long pixels = static_cast<long long>(w) * h;
      if (std::min(w, h) >= options.min_short_side && pixels < best_pixels) {
        best_pixels = pixels;
        num = factors[i].num;
        denom = factors[i].denom;
      }
    }
  }
  const tjscalingfactor scale{num, denom};
  const int w = TJSCALED(width, scale), h = TJSCALED(height, scale);
  if (static_cast<long long>(w) * h > kMaxDecodedPixels)
    fail(DecodeFailure::kTooLarge, name, std::to_string(width) + "x" + std::to_string(height) + " pixels");

  const bool cmyk = colorspace == TJCS_CMYK || colorspace == TJCS_YCCK;
  cv::Mat out(h, w, cmyk ? CV_8UC4 : CV_8UC3);
  const int rc = tjDecompress2(tj.h, data, bytes.size(), out.data, w, static_cast<int>(out.step), h,
                               cmyk ? TJPF_CMYK : TJPF_RGB, TJFLAG_ACCURATEDCT);
  if (rc != 0) {
    const std::string why = tjGetErrorStr2(tj.h);
    const bool warning = tjGetErrorCode(tj.h) == TJERR_WARNING;
    // "Premature end of JPEG file" is a warning in libjpeg (it pads the rest with
    // gray); for a dataset that is a broken file. Other warnings (extraneous bytes
    // before a marker, common in real COCO files) leave a good image.
    if (why.find("Premature end") != std::string::npos || (!warning && !jpeg_complete(bytes)))
      fail(DecodeFailure::kTruncated, name, "JPEG data: " + why);
    if (!warning) fail(DecodeFailure::kCorrupt, name, "JPEG data: " + why);
  }
  if (cmyk) {
    // Adobe's convention (what Photoshop and PIL write): stored values are inverted,
    // so R = C*K/255 with C, K as stored.
    cv::Mat rgb(h, w, CV_8UC3);
    for (int y = 0; y < h; ++y) {
      const uint8_t* s = out.ptr<uint8_t>(y);
      uint8_t* d = rgb.ptr<uint8_t>(y);
      for (int x = 0; x < w; ++x, s += 4, d += 3) {
        const int k = s[3];
        d[0] = static_cast<uint8_t>((s[0] * k + 127) / 255);
        d[1] = static_cast<uint8_t>((s[1] * k + 127) / 255);
        d[2] = static_cast<uint8_t>((s[2] * k + 127) / 255);
      }
    }
    return rgb;
  }
  return out;
}

cv::Mat to_rgb8(const cv::Mat& decoded, const std::string& name) {
  cv::Mat img = decoded;
  if (img.depth() == CV_16U) {
    img.convertTo(img, CV_8U, 1.0 / 257.0);  // 65535 -> 255 exactly
  } else if (img.depth() != CV_8U) {
    cv::Mat scaled;
    cv::normalize(img, scaled, 0, 255, cv::NORM_MINMAX, CV_8U);
    img = scaled;
  }
  cv::Mat rgb;
  switch (img.channels()) {
    case 1: cv::cvtColor(img, rgb, cv::COLOR_GRAY2RGB); break;
    case 3: cv::cvtColor(img, rgb, cv::COLOR_BGR2RGB); break;
    case 4: cv::cvtColor(img, rgb, cv::COLOR_BGRA2RGB); break;  // alpha dropped
    default:
      fail(DecodeFailure::kCorrupt, name, "unsupported channel count " + std::to_string(img.channels()));
  }
  return rgb;
}

}  // namespace

cv::Mat decode_image_bytes(const std::string& bytes, const std::string& name, const DecodeOptions& options) {
  if (bytes.empty()) fail(DecodeFailure::kEmpty, name, "0 bytes");
  if (is_jpeg(bytes)) return decode_jpeg(bytes, name, options);

  if (is_png(bytes)) {
    if (!png_complete(bytes)) fail(DecodeFailure::kTruncated, name, "PNG without its IEND chunk");
    return decode_png(bytes, name);
  }
  const cv::Mat decoded = decode_other_format(bytes, name);
  if (decoded.empty()) fail(DecodeFailure::kNotAnImage, name, std::string("no JPEG/PNG signature and ") + other_formats_text());
  if (static_cast<long long>(decoded.rows) * decoded.cols > kMaxDecodedPixels)
    fail(DecodeFailure::kTooLarge, name, std::to_string(decoded.cols) + "x" + std::to_string(decoded.rows) + " pixels");
  return to_rgb8(decoded, name);
}

cv::Mat decode_image(const fs::path& path, const DecodeOptions& options) {
  return decode_image_bytes(read_all(path), path.string(), options);
}

ResizePolicy parse_resize_policy(const std::string& name) {
  if (name == "center-crop") return ResizePolicy::kCenterCrop;
  if (name == "squash") return ResizePolicy::kSquash;
  DPST_THROW(ConfigError, "unknown resize policy '" << name << "' (expected center-crop or squash)");
}

const char* to_string(ResizePolicy policy) {
  return policy == ResizePolicy::kCenterCrop ? "center-crop" : "squash";
}

cv::Mat resize_square(const cv::Mat& image, int size, ResizePolicy policy) {
  DPST_CHECK(size > 0 && !image.empty(), InternalError, "resize_square: size " << size << ", empty " << image.empty());
  cv::Mat source = image;
  if (policy == ResizePolicy::kCenterCrop) {
    const int s = std::min(image.cols, image.rows);
    source = image(cv::Rect((image.cols - s) / 2, (image.rows - s) / 2, s, s));
  }
  if (source.cols == size && source.rows == size) return source.clone();
  cv::Mat out;
  cv::resize(source, out, cv::Size(size, size), 0, 0, cv::INTER_AREA);
  return out;
}

cv::Mat resize_shorter_side(const cv::Mat& image, int short_side) {
  DPST_CHECK(short_side > 0 && !image.empty(), InternalError, "resize_shorter_side: side " << short_side);
  const double scale = static_cast<double>(short_side) / std::min(image.cols, image.rows);
  const int w = image.cols <= image.rows ? short_side : static_cast<int>(std::lround(image.cols * scale));
  const int h = image.rows < image.cols ? short_side : static_cast<int>(std::lround(image.rows * scale));
  cv::Mat out;
  cv::resize(image, out, cv::Size(w, h), 0, 0, cv::INTER_AREA);
  return out;
}

void to_planar(const cv::Mat& rgb, uint8_t* out) {
  DPST_CHECK(rgb.type() == CV_8UC3, InternalError, "to_planar: expected CV_8UC3");
  const size_t plane = static_cast<size_t>(rgb.rows) * rgb.cols;
  uint8_t* r = out;
  uint8_t* g = out + plane;
  uint8_t* b = out + 2 * plane;
  for (int y = 0; y < rgb.rows; ++y) {
    const uint8_t* s = rgb.ptr<uint8_t>(y);
    for (int x = 0; x < rgb.cols; ++x, s += 3) {
      *r++ = s[0];
      *g++ = s[1];
      *b++ = s[2];
    }
  }
}

std::string encode_image(const cv::Mat& rgb, const std::string& extension, const std::string& name, int jpeg_quality) {
  DPST_CHECK(rgb.type() == CV_8UC3, InternalError, "encode_image: expected CV_8UC3");
  DPST_CHECK(extension == ".png" || extension == ".jpg" || extension == ".jpeg", OutputError,
             name << ": cannot save an image as '" << extension << "' (use .png, .jpg or .jpeg)");
  const cv::Mat continuous = rgb.isContinuous() ? rgb : rgb.clone();
  if (extension == ".png") return encode_png(continuous, name);
  thread_local TjHandle tj(/*compress=*/true);
  DPST_CHECK(tj.h != nullptr, InternalError, "cannot create a TurboJPEG compressor");
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  // 4:2:0 and the standard tables scaled by quality: libjpeg's defaults, as OpenCV wrote them.
  const int rc = tjCompress2(tj.h, continuous.data, continuous.cols, 0, continuous.rows, TJPF_RGB, &buffer, &size,
                             TJSAMP_420, jpeg_quality, 0);
  std::string out;
  if (rc == 0) out.assign(reinterpret_cast<const char*>(buffer), size);
  const std::string why = rc == 0 ? std::string() : tjGetErrorStr2(tj.h);
  tjFree(buffer);
  DPST_CHECK(rc == 0, OutputError, name << ": cannot encode JPEG (" << why << ")");
  return out;
}

void save_image(const cv::Mat& rgb, const fs::path& path, int jpeg_quality) {
  const std::string bytes = encode_image(rgb, lower_extension(path), path.string(), jpeg_quality);
  try {
    write_file_atomically(path, bytes);
  } catch (const OutputError& e) {
    DPST_THROW(OutputError, path.string() << ": cannot write image (" << e.what() << ")");
  }
}

}  // namespace dpst::data
