#include "config/cross_checks.h"

#include <cstdint>
#include <string>
#include <variant>

namespace dpst::config {
namespace {

// Values a key takes across the sweep: its own, or every axis value when swept.
std::vector<Value> values_across_sweep(const Config& c, const std::string& key) {
  for (const auto& axis : c.sweep_axes()) {
    if (axis.key == key) return axis.values;
  }
  return {c.value(key)};
}

bool any_positive(const Config& c, const std::string& key) {
  for (const auto& v : values_across_sweep(c, key)) {
    if (as_number(v) > 0) return true;
  }
  return false;
}

bool any_empty_list(const Config& c, const std::string& key) {
  for (const auto& v : values_across_sweep(c, key)) {
    if (std::get<std::vector<std::string>>(v).empty()) return true;
  }
  return false;
}

}  // namespace

std::vector<Problem> cross_field_problems(const Config& c, int world_size, bool for_run) {
  std::vector<Problem> out;
  auto add = [&](const std::string& key, const std::string& msg) { out.push_back({c.origin(key), key, msg}); };
  const bool random_ok = c.get_bool("loss_nets.allow_random_init");

  if (for_run && any_positive(c, "loss.depth_weight") && c.get_path("loss_nets.depth_weights").empty() && !random_ok) {
    add("loss.depth_weight",
        "is > 0 but loss_nets.depth_weights is not set; give the hourglass weight file, or set "
        "loss_nets.allow_random_init: true to train against a random depth network");
  }
  if (for_run && (any_positive(c, "loss.content_weight") || any_positive(c, "loss.style_weight")) &&
      c.get_path("loss_nets.vgg16_weights").empty() && !random_ok) {
    add("loss_nets.vgg16_weights",
        "is not set but the content/style losses need VGG16; give the weight file, or set "
        "loss_nets.allow_random_init: true to train against a random VGG16");
  }
  const std::pair<const char*, const char*> weight_and_layers[] = {
      {"loss.content_weight", "loss.content_layers"},
      {"loss.style_weight", "loss.style_layers"},
      {"loss.depth_weight", "loss.depth_layers"}};
  for (const auto& [weight, layers] : weight_and_layers) {
    if (any_positive(c, weight) && any_empty_list(c, layers)) {
      add(layers, std::string("is empty but ") + weight + " is > 0; list at least one layer");
    }
  }

  const int64_t ranks_per_trial = c.get_int("sweep.ranks_per_trial");
  if (ranks_per_trial > 0 && world_size % ranks_per_trial != 0) {
    add("sweep.ranks_per_trial", "is " + std::to_string(ranks_per_trial) + " but the job has " +
                                     std::to_string(world_size) +
                                     " ranks; the world size must be a multiple of it");
  }
  const std::string method = c.get_string("sweep.method");
  const bool has_axes = !c.sweep_axes().empty();
  if (method == "none" && has_axes) {
    add("sweep.axes", "lists axes but sweep.method is none; set sweep.method: grid or random");
  }
  if (method != "none" && !has_axes) {
    add("sweep.method", "is " + method + " but sweep.axes is empty; list at least one axis");
  }
  if (method == "random" && c.get_int("sweep.num_trials") < 1) {
    add("sweep.num_trials", "must be >= 1 when sweep.method is random");
  }
  if (method != "random" && c.get_int("sweep.num_trials") > 0) {
    add("sweep.num_trials", "is only used by sweep.method: random (method is " + method + ")");
  }

  if (c.get_string("data.train_split") == c.get_string("data.val_split")) {
    add("data.val_split", "is the same split as data.train_split ('" + c.get_string("data.train_split") +
                              "'); evaluation must use held-out images");
  }
  return out;
}

}  // namespace dpst::config
