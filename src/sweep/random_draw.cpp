#include "sweep/random_draw.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <variant>

namespace dpst::sweep {

uint64_t SplitMix64::next() {
  // Steele, Lea, Flood: "Fast splittable pseudorandom number generators" (2014).
  uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

double SplitMix64::uniform01() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

uint64_t SplitMix64::below(uint64_t n) {
  DPST_CHECK(n >= 1, InternalError, "SplitMix64::below(0)");
  // Rejection removes the modulo bias; the loop almost never repeats.
  const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  uint64_t x = next();
  while (x >= limit) x = next();
  return x % n;
}

SplitMix64 sweep_generator(int64_t run_seed) {
  // "dpst-swp" in ASCII, mixed into the seed.
  return SplitMix64(static_cast<uint64_t>(run_seed) ^ 0x6470737434737770ull);
}

double round_significant(double v, int digits) {
  // printf/strtod round correctly (glibc, musl, libc++ alike), unlike pow-based rounding.
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*e", digits - 1, v);
  return std::strtod(buf, nullptr);
}

namespace {

double draw_real(const std::string& distribution, double lo, double hi, SplitMix64& rng) {
  const double u = rng.uniform01();
  if (distribution == "log_uniform") return std::exp(std::log(lo) + u * (std::log(hi) - std::log(lo)));
  return lo + u * (hi - lo);
}

}  // namespace

config::Value draw(const config::KeySpec& spec, const config::SweepAxis& axis, SplitMix64& rng) {
  if (!axis.is_range()) {
    DPST_CHECK(!axis.values.empty(), InternalError, "sweep axis " << axis.key << " has no values");
    return axis.values[rng.below(axis.values.size())];
  }
  DPST_CHECK(axis.values.size() == 2, InternalError, "range axis " << axis.key << " is not [lo, hi]");
  const double lo = config::as_number(axis.values[0]);
  const double hi = config::as_number(axis.values[1]);
  if (spec.type == config::KeyType::Int) {
    const auto ilo = std::get<int64_t>(axis.values[0]);
    const auto ihi = std::get<int64_t>(axis.values[1]);
    if (axis.distribution == "uniform") {
      // Each integer of [lo, hi] equally likely (rounding a real draw would halve the ends).
      return int64_t{ilo + static_cast<int64_t>(rng.below(static_cast<uint64_t>(ihi - ilo) + 1))};
    }
    const auto v = static_cast<int64_t>(std::llround(draw_real(axis.distribution, lo, hi, rng)));
    return std::clamp(v, ilo, ihi);
  }
  DPST_CHECK(spec.type == config::KeyType::Float, InternalError,
             "range axis " << axis.key << " is a " << config::type_name(spec.type));
  // Rounding (and exp/log's last bit) may step just outside the range: clamp to its ends,
  // which the loader checked are valid values.
  const double v = round_significant(draw_real(axis.distribution, lo, hi, rng), kDrawDigits);
  return std::clamp(v, lo, hi);
}

}  // namespace dpst::sweep
