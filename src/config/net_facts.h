// Facts about the frozen loss networks that both the configuration (which checks
// loss.*_layers and data.image_size) and src/models (which implements the networks)
// need. Named once, here, because src/models already depends on src/config.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace dpst::config {

// The VGG16 taps loss.content_layers and loss.style_layers can name, in network order.
inline const std::vector<std::string>& vgg16_tap_names() {
  static const std::vector<std::string> kNames = {"relu1_2", "relu2_2", "relu3_3", "relu4_3"};
  return kNames;
}

// The hourglass taps loss.depth_layers can name, in network order.
inline const std::vector<std::string>& hourglass_tap_names() {
  static const std::vector<std::string> kNames = {"stem", "L1", "L2", "L3", "L4", "output"};
  return kNames;
}

// The hourglass pools four times: image sides it sees must be multiples of this.
inline constexpr int64_t kDepthNetSizeMultiple = 16;

}  // namespace dpst::config
