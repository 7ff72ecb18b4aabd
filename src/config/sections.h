// The typed sections of a configuration, in the spirit of torchtitan's JobConfig: one
// struct per YAML section, one field per registry key, filled from the registry-checked
// values by Config (config.h). Code outside src/config reads these fields, never a key
// string, so a misspelt or mistyped key fails to compile instead of failing when a line
// first runs.
//
// The fields have no defaults of their own: the registry (registry.cpp) holds the one
// set of defaults, ranges and help. for_each_field() is the one place where a field
// meets its key; binding checks name and type against the registry, and
// tests/config/test_config_sections.cpp checks that both stay in step.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace dpst::config {

// A canonical value of one key, by the key's type:
//   Bool: bool · Int: int64_t · Float: double · String, Path, Choice: std::string
//   StringList: std::vector<std::string> · IntOrAuto: int64_t, or the string "auto"
//   PathOrList: std::string for one path (or unset), std::vector<std::string> for two or more.
using Value = std::variant<bool, int64_t, double, std::string, std::vector<std::string>>;

// One sweep axis as written in sweep.axes: a list of values, or (sweep.method: random,
// int and float keys) a range {uniform: [lo, hi]} or {log_uniform: [lo, hi]}.
struct SweepAxis {
  std::string key;
  std::string distribution;   // "" for a list; else "uniform" or "log_uniform"
  std::vector<Value> values;  // canonical for `key`: the list, or {lo, hi}
  bool is_range() const { return !distribution.empty(); }
};

struct RunConfig {
  std::string name;
  std::filesystem::path output_dir;
  int64_t seed;
};

struct DataConfig {
  std::filesystem::path path;
  std::string train_split;
  std::string val_split;
  int64_t image_size;
  int64_t loader_threads;
  int64_t prefetch;
};

struct ModelConfig {
  int64_t width;
  int64_t residual_blocks;
  std::filesystem::path extend_from;  // empty = train every weight
};

struct LossNetsConfig {
  std::filesystem::path vgg16_weights;  // empty = not given
  std::filesystem::path depth_weights;  // empty = not given
  std::string depth_net;
  bool allow_random_init;
};

struct LossConfig {
  double content_weight;  // lambda1
  double style_weight;    // lambda2
  double depth_weight;    // lambda3
  double tv_weight;
  std::vector<std::string> content_layers;
  std::vector<std::string> style_layers;
  std::vector<std::string> depth_layers;
  // loss.style_image: one path, or several for a multi-style trial (one f_W with a
  // conditional InstanceNorm row per style, in this order); empty when unset.
  std::vector<std::filesystem::path> style_images;
  int64_t style_size;
};

struct OptimConfig {
  double lr;
};

struct TrainConfig {
  int64_t iterations;
  int64_t batch_size;
  std::string precision;
  std::optional<int64_t> threads;  // nullopt = auto
  int64_t log_every;
  int64_t checkpoint_every;
  int64_t keep_checkpoints;
  double collective_timeout_s;
  double bucket_mb;
  bool phase_timing;
  std::string device;
};

struct SweepConfig {
  std::string method;
  int64_t ranks_per_trial;
  int64_t trials_per_pack;
  std::string pack_frozen_pass;
  int64_t num_trials;
  std::vector<SweepAxis> axes;
};

struct EvalConfig {
  bool after_training;
  int64_t images;
  int64_t pairs;
};

struct Sections {
  RunConfig run;
  DataConfig data;
  ModelConfig model;
  LossNetsConfig loss_nets;
  LossConfig loss;
  OptimConfig optim;
  TrainConfig train;
  SweepConfig sweep;
  EvalConfig eval;
};

// Calls visit(key, field) for every field of `s` (Sections or const Sections), in
// registry order.
template <typename S, typename Visit>
void for_each_field(S& s, Visit&& visit) {
  visit("run.name", s.run.name);
  visit("run.output_dir", s.run.output_dir);
  visit("run.seed", s.run.seed);
  visit("data.path", s.data.path);
  visit("data.train_split", s.data.train_split);
  visit("data.val_split", s.data.val_split);
  visit("data.image_size", s.data.image_size);
  visit("data.loader_threads", s.data.loader_threads);
  visit("data.prefetch", s.data.prefetch);
  visit("model.width", s.model.width);
  visit("model.residual_blocks", s.model.residual_blocks);
  visit("model.extend_from", s.model.extend_from);
  visit("loss_nets.vgg16_weights", s.loss_nets.vgg16_weights);
  visit("loss_nets.depth_weights", s.loss_nets.depth_weights);
  visit("loss_nets.depth_net", s.loss_nets.depth_net);
  visit("loss_nets.allow_random_init", s.loss_nets.allow_random_init);
  visit("loss.content_weight", s.loss.content_weight);
  visit("loss.style_weight", s.loss.style_weight);
  visit("loss.depth_weight", s.loss.depth_weight);
  visit("loss.tv_weight", s.loss.tv_weight);
  visit("loss.content_layers", s.loss.content_layers);
  visit("loss.style_layers", s.loss.style_layers);
  visit("loss.depth_layers", s.loss.depth_layers);
  visit("loss.style_image", s.loss.style_images);
  visit("loss.style_size", s.loss.style_size);
  visit("optim.lr", s.optim.lr);
  visit("train.iterations", s.train.iterations);
  visit("train.batch_size", s.train.batch_size);
  visit("train.precision", s.train.precision);
  visit("train.threads", s.train.threads);
  visit("train.log_every", s.train.log_every);
  visit("train.checkpoint_every", s.train.checkpoint_every);
  visit("train.keep_checkpoints", s.train.keep_checkpoints);
  visit("train.collective_timeout_s", s.train.collective_timeout_s);
  visit("train.bucket_mb", s.train.bucket_mb);
  visit("train.phase_timing", s.train.phase_timing);
  visit("train.device", s.train.device);
  visit("sweep.method", s.sweep.method);
  visit("sweep.ranks_per_trial", s.sweep.ranks_per_trial);
  visit("sweep.trials_per_pack", s.sweep.trials_per_pack);
  visit("sweep.pack_frozen_pass", s.sweep.pack_frozen_pass);
  visit("sweep.num_trials", s.sweep.num_trials);
  visit("sweep.axes", s.sweep.axes);
  visit("eval.after_training", s.eval.after_training);
  visit("eval.images", s.eval.images);
  visit("eval.pairs", s.eval.pairs);
}

}  // namespace dpst::config
