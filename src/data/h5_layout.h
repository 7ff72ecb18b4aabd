// The HDF5 layout pack_coco writes and Dataset reads (DESIGN.md §4). Names of the image
// datasets match fast-neural-style's reader; the rest is ours. Bump kFormatVersion on
// any change a reader could trip over.
#pragma once

namespace dpst::data::layout {

inline constexpr long long kFormatVersion = 1;

// Per split group "<split>/":
inline constexpr const char* kImages = "images";        // uint8 (N, 3, H, W), chunk (1, 3, H, W)
inline constexpr const char* kIds = "ids";              // int64 (N,): COCO image id or -1
inline constexpr const char* kFilenames = "filenames";  // variable-length UTF-8 strings (N,)

// Root attributes.
inline constexpr const char* kAttrFormatVersion = "format_version";  // int
inline constexpr const char* kAttrImageSize = "image_size";          // int, H == W
inline constexpr const char* kAttrResize = "resize_policy";          // "center-crop" | "squash"
inline constexpr const char* kAttrCreated = "created";               // ISO-8601 UTC
inline constexpr const char* kAttrTool = "tool";                     // "pack_coco (dpst X.Y.Z)"
inline constexpr const char* kAttrSource = "source";                 // absolute input folder
inline constexpr const char* kAttrSplits = "splits";                 // "train2014,val2014"
// Counts, on the root (all splits) and on each split group.
inline constexpr const char* kAttrImagesRead = "images_read";
inline constexpr const char* kAttrImagesWritten = "images_written";
inline constexpr const char* kAttrImagesSkipped = "images_skipped";
inline constexpr const char* kAttrSkippedByReason = "skipped_by_reason";  // "truncated=1,empty=2"

}  // namespace dpst::data::layout
