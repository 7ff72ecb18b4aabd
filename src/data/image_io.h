// Image files in and out: decode any file to RGB uint8, resize, save. Decode and resize
// are separate so pack_coco (fixed square size), the style image and dpst-stylize
// (arbitrary sizes) share them. JPEG goes through TurboJPEG (with DCT-domain scaling),
// PNG through libpng (png_codec.h), other formats through other_formats.h (OpenCV's
// imgcodecs, or none in the GPU bundle's build).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include <opencv2/core.hpp>

#include "common/errors.h"

namespace dpst::data {

// Why a file could not be decoded; pack_coco counts skips by these.
enum class DecodeFailure {
  kMissing,     // no such file, or a dangling symlink
  kUnreadable,  // exists but cannot be read (permissions, I/O error, a folder)
  kEmpty,       // zero bytes
  kTruncated,   // a JPEG/PNG that ends early
  kNotAnImage,  // no known image signature and OpenCV cannot decode it either
  kCorrupt,     // an image signature, but the data does not decode
  kTooLarge,    // decoded size would exceed kMaxDecodedPixels
};
const char* to_string(DecodeFailure reason);  // "missing", "unreadable", ...

// An InputError that also says which kind of failure it was.
class DecodeError : public InputError {
 public:
  DecodeError(DecodeFailure reason, const std::string& message, std::string where = {})
      : InputError(message, std::move(where)), reason_(reason) {}
  DecodeFailure reason() const { return reason_; }

 private:
  DecodeFailure reason_;
};

// Refuse to materialise more pixels than this in one decode (after JPEG scaling).
inline constexpr long long kMaxDecodedPixels = 1LL << 28;  // 268 Mpx, ~800 MB of RGB

struct DecodeOptions {
  // 0: full resolution. > 0: a JPEG may be decoded at the smallest M/8 scale whose
  // shorter side is still >= this (the caller's resize then only shrinks, or matches).
  int min_short_side = 0;
};

// Decodes a file to 8-bit RGB (CV_8UC3, rows of R,G,B). Grayscale is replicated to 3
// channels, alpha is dropped, CMYK is converted (Adobe inverted convention, as
// Photoshop writes it), 16-bit is scaled to 8. EXIF orientation is not applied (as in
// fast-neural-style). Throws DecodeError "<path>: <reason>".
cv::Mat decode_image(const std::filesystem::path& path, const DecodeOptions& options = {});
// The same for bytes already in memory; `name` is used in messages.
cv::Mat decode_image_bytes(const std::string& bytes, const std::string& name, const DecodeOptions& options = {});

enum class ResizePolicy {
  kCenterCrop,  // the largest centered square, then an area resize to size x size
  kSquash,      // the whole image, area-resized to size x size (fast-neural-style)
};
ResizePolicy parse_resize_policy(const std::string& name);  // "center-crop" | "squash"; ConfigError otherwise
const char* to_string(ResizePolicy policy);

// Square output for datasets. Center crop: side s = min(w, h), offsets
// ((w - s) / 2, (h - s) / 2) rounded down, then cv::resize INTER_AREA to size x size
// (INTER_AREA is linear when enlarging).
cv::Mat resize_square(const cv::Mat& image, int size, ResizePolicy policy);
// Scales so that the shorter side is `short_side`, keeping the aspect ratio (longer
// side rounded to nearest). For stylizing photos and for the style image.
cv::Mat resize_shorter_side(const cv::Mat& image, int short_side);

// Planar copy of an RGB CV_8UC3 image: out[c*H*W + y*W + x]. `out` holds 3*H*W bytes.
void to_planar(const cv::Mat& rgb, uint8_t* out);

// The file bytes of an RGB CV_8UC3 image in the format of `extension` (".png", ".jpg",
// ".jpeg"; JPEG 4:2:0 at jpeg_quality). Throws OutputError naming `name`.
std::string encode_image(const cv::Mat& rgb, const std::string& extension, const std::string& name, int jpeg_quality = 95);

// Writes an RGB CV_8UC3 image atomically (common/atomic_file.h); the format follows the
// extension. Throws OutputError naming the path.
void save_image(const cv::Mat& rgb, const std::filesystem::path& path, int jpeg_quality = 95);

}  // namespace dpst::data
