// src/data: everything between image files on disk and a batch tensor.
//  - image_tensor.h  decoded images <-> RGB [0,1] tensors (the style image, stylizing);
//  - image_io.h      decode any image file to RGB uint8 (TurboJPEG with DCT scaling for
//                    JPEG, libpng for PNG: png_codec.h, other formats: other_formats.h),
//                    square/short-side resize, save PNG/JPEG;
//  - pack.h          pack_coco's work: folders -> one HDF5 file, decoded on all threads,
//                    written by one writer, atomically (atomic_output.h, h5_writer.h);
//  - h5_layout.h     the HDF5 layout and its format version (DESIGN.md §4);
//  - dataset.h       read-only, validated access to one split; batches as float NCHW;
//  - sampler.h       per-epoch permutation, one lane of each global batch per rank,
//                    a checkpointable cursor;
//  - loader.h        background threads prefetching batches; errors surface in next().
#pragma once

#include "data/dataset.h"
#include "data/image_io.h"
#include "data/loader.h"
#include "data/pack.h"
#include "data/sampler.h"
