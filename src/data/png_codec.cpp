#include "data/png_codec.h"

#include <png.h>

#include <csetjmp>
#include <cstdint>
#include <cstring>
#include <vector>

#include "data/image_io.h"

namespace dpst::data {

namespace {

// libpng reports errors by longjmp; the message is kept here and thrown after the jump,
// so no C++ object's destructor is skipped by it.
struct PngErrors {
  std::string message;
};

void on_error(png_structp png, png_const_charp message) {
  static_cast<PngErrors*>(png_get_error_ptr(png))->message = message;
  png_longjmp(png, 1);
}
void on_warning(png_structp, png_const_charp) {}  // benign (e.g. unknown chunks), as OpenCV ignores them

struct MemoryReader {
  const std::string* bytes;
  size_t offset = 0;
};

void read_from_memory(png_structp png, png_bytep out, png_size_t length) {
  auto* r = static_cast<MemoryReader*>(png_get_io_ptr(png));
  if (r->offset + length > r->bytes->size()) png_error(png, "read past the end of the data");
  std::memcpy(out, r->bytes->data() + r->offset, length);
  r->offset += length;
}

void write_to_string(png_structp png, png_bytep data, png_size_t length) {
  static_cast<std::string*>(png_get_io_ptr(png))->append(reinterpret_cast<const char*>(data), length);
}
void flush_nothing(png_structp) {}

// Every C++ object that a longjmp out of libpng would skip lives in the caller; this
// function holds only plain C state.
bool read_rows(png_structp png, png_infop info, std::vector<uint8_t>& pixels, std::vector<png_bytep>& rows,
               uint32_t* width, uint32_t* height, int* bit_depth, PngErrors& errors) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_read_info(png, info);
  *width = png_get_image_width(png, info);
  *height = png_get_image_height(png, info);
  if (static_cast<long long>(*width) * *height > kMaxDecodedPixels) {
    errors.message = "too large: " + std::to_string(*width) + "x" + std::to_string(*height) + " pixels";
    return false;
  }
  const int color = png_get_color_type(png, info);
  *bit_depth = png_get_bit_depth(png, info);
  if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (color == PNG_COLOR_TYPE_GRAY && *bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
  if (color == PNG_COLOR_TYPE_GRAY || color == PNG_COLOR_TYPE_GRAY_ALPHA) png_set_gray_to_rgb(png);
  if (color & PNG_COLOR_MASK_ALPHA) png_set_strip_alpha(png);
  if (*bit_depth == 16) png_set_swap(png);  // host (little-endian) order, then v/257 below
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  const size_t row_bytes = png_get_rowbytes(png, info);
  pixels.resize(row_bytes * *height);
  rows.resize(*height);
  for (uint32_t y = 0; y < *height; ++y) rows[y] = pixels.data() + y * row_bytes;
  png_read_image(png, rows.data());
  png_read_end(png, nullptr);
  return true;
}

// As read_rows: plain C state only between setjmp and the last libpng call.
bool write_rows(png_structp png, png_infop info, std::vector<png_bytep>& rows, int width, int height, std::string* out) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_set_write_fn(png, out, write_to_string, flush_nothing);
  // Level 1: OpenCV's default too; stylized photos and grids barely shrink further.
  png_set_compression_level(png, 1);
  png_set_IHDR(png, info, static_cast<png_uint_32>(width), static_cast<png_uint_32>(height), 8, PNG_COLOR_TYPE_RGB,
               PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  png_write_image(png, rows.data());
  png_write_end(png, nullptr);
  return true;
}

}  // namespace

cv::Mat decode_png(const std::string& bytes, const std::string& name) {
  PngErrors errors;
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &errors, on_error, on_warning);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  if (info == nullptr) {
    png_destroy_read_struct(&png, nullptr, nullptr);
    throw DecodeError(DecodeFailure::kCorrupt, name + ": corrupt (cannot start libpng)");
  }
  MemoryReader reader{&bytes};
  png_set_read_fn(png, &reader, read_from_memory);
  std::vector<uint8_t> pixels;
  std::vector<png_bytep> rows;
  uint32_t width = 0, height = 0;
  int bit_depth = 8;
  const bool ok = read_rows(png, info, pixels, rows, &width, &height, &bit_depth, errors);
  png_destroy_read_struct(&png, &info, nullptr);
  if (!ok) {
    const bool too_large = errors.message.rfind("too large", 0) == 0;
    throw DecodeError(too_large ? DecodeFailure::kTooLarge : DecodeFailure::kCorrupt,
                      name + ": " + (too_large ? errors.message : "corrupt (PNG data: " + errors.message + ")"));
  }
  cv::Mat rgb(static_cast<int>(height), static_cast<int>(width), CV_8UC3);
  const size_t values = static_cast<size_t>(width) * height * 3;
  if (bit_depth == 16) {
    const auto* wide = reinterpret_cast<const uint16_t*>(pixels.data());
    // round(v / 257) = floor((v + 128) / 257): exactly OpenCV's 16 -> 8-bit conversion.
    for (size_t i = 0; i < values; ++i) rgb.data[i] = static_cast<uint8_t>((wide[i] + 128u) / 257u);
  } else {
    std::memcpy(rgb.data, pixels.data(), values);
  }
  return rgb;
}

std::string encode_png(const cv::Mat& rgb, const std::string& name) {
  DPST_CHECK(rgb.type() == CV_8UC3 && rgb.isContinuous(), InternalError, "encode_png: expected continuous CV_8UC3");
  PngErrors errors;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &errors, on_error, on_warning);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  std::string out;
  std::vector<png_bytep> rows(static_cast<size_t>(rgb.rows));
  for (int y = 0; y < rgb.rows; ++y) rows[static_cast<size_t>(y)] = const_cast<png_bytep>(rgb.ptr<uint8_t>(y));
  const bool ok = info != nullptr && write_rows(png, info, rows, rgb.cols, rgb.rows, &out);
  png_destroy_write_struct(&png, &info);
  DPST_CHECK(ok, OutputError, name << ": cannot encode PNG (" << (errors.message.empty() ? "libpng failed to start" : errors.message) << ")");
  return out;
}

}  // namespace dpst::data
