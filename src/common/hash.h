// FNV-1a hashes: trial ids, config hashes in results tables, weight checksums across
// ranks and the deterministic weight scheme all use these (and must keep their values).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace dpst {

uint64_t fnv1a64(const void* data, size_t size, uint64_t seed = 0xcbf29ce484222325ull);
inline uint64_t fnv1a64(const std::string& text) { return fnv1a64(text.data(), text.size()); }
uint32_t fnv1a32(const std::string& text);
std::string hex8(uint32_t value);  // "0badf00d"

}  // namespace dpst
