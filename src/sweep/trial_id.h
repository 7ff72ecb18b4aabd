// Trial ids: readable and stable. "<style-stem>-<short key+value parts>-<hash>", e.g.
// "candy-d2.8e5-tv1e-7-dl_output.L2-3f2a91c0":
//  - parts in axis order; a path contributes its file stem (the style image's name), a
//    list of style images (a multi-style trial) its stems joined by '+': candy+mosaic+wave;
//  - the hash is FNV-1a (32 bits, 8 hex digits) of "key=value;..." over the swept values,
//    with format_value() text, except that paths contribute their file name only: the id
//    stays the same when the sweep is restarted from another checkout or machine. Two
//    style images with the same name in different folders therefore get the same id;
//    expand() rejects that;
//  - only [A-Za-z0-9._+-] ('+' only from a list of styles); never starting with '.' or '-'; at most kMaxIdLength
//    characters (the readable part is cut, the hash keeps ids unique).
#pragma once

#include "common/hash.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "config/config.h"

namespace dpst::sweep {

inline constexpr size_t kMaxIdLength = 80;

// swept: (registered key, canonical value) in axis order; at least one.
std::string make_trial_id(const std::vector<std::pair<std::string, config::Value>>& swept);

// FNV-1a, 32 bits.
using dpst::fnv1a32;  // common/hash.h
// 8 lowercase hex digits.
using dpst::hex8;

// Short name of a key in ids: loss.depth_weight -> "d", optim.lr -> "lr", ...
std::string id_abbreviation(const std::string& key);

}  // namespace dpst::sweep
