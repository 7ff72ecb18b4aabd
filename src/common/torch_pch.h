// Precompiled header for the library and the tests: LibTorch's C++ API is by far the
// most expensive include, so it is parsed once per target instead of once per file.
#pragma once

#include <torch/torch.h>
