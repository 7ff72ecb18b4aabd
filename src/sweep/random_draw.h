// Seeded draws for random search. The generator is splitmix64 and every transformation
// is spelled out here, because std::uniform_*_distribution differ across standard
// libraries and the same seed must expand to the same trials everywhere.
#pragma once

#include <cstdint>

#include "config/config.h"

namespace dpst::sweep {

class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t next();
  double uniform01();             // [0, 1), 53 random bits
  uint64_t below(uint64_t n);     // [0, n), n >= 1

 private:
  uint64_t state_;
};

// The generator of a random search seeded by run.seed: a stream of its own, so it does
// not repeat the draws other users of run.seed make from the same number.
SplitMix64 sweep_generator(int64_t run_seed);

// v rounded to `digits` significant decimal digits.
double round_significant(double v, int digits);

// One value of `axis` (a list or a range of spec's type), canonical for the key.
config::Value draw(const config::KeySpec& spec, const config::SweepAxis& axis, SplitMix64& rng);

// Significant digits kept by float draws from a range.
inline constexpr int kDrawDigits = 4;

}  // namespace dpst::sweep
