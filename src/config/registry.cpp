#include "config/registry.h"

#include <algorithm>
#include <sstream>

#include "common/errors.h"
#include "config/net_facts.h"

namespace dpst::config {
namespace {

// Fluent declaration so each key reads as one statement in Registry::Registry().
class Declare {
 public:
  Declare(std::vector<KeySpec>& out, std::string key, KeyType type, std::string default_yaml)
      : out_(out) {
    spec_.key = std::move(key);
    spec_.type = type;
    spec_.default_yaml = std::move(default_yaml);
  }
  ~Declare() { out_.push_back(std::move(spec_)); }
  Declare& at_least(double v) { spec_.min = v; return *this; }
  Declare& above(double v) { spec_.min = v; spec_.min_exclusive = true; return *this; }
  Declare& at_most(double v) { spec_.max = v; return *this; }
  Declare& multiple_of(int64_t v) { spec_.multiple_of = v; return *this; }
  Declare& one_of(std::vector<std::string> c) { spec_.choices = std::move(c); return *this; }
  Declare& required() { spec_.required = true; return *this; }
  Declare& must_exist() { spec_.must_exist = true; return *this; }
  Declare& not_sweepable() { spec_.sweepable = false; return *this; }
  Declare& pack_wide() { spec_.pack_wide = true; return *this; }
  Declare& help(std::string h) { spec_.help = std::move(h); return *this; }

 private:
  std::vector<KeySpec>& out_;
  KeySpec spec_;
};

const std::vector<std::string>& kVggTaps = vgg16_tap_names();
const std::vector<std::string>& kDepthTaps = hourglass_tap_names();
const std::string kSizeMultiple = std::to_string(kDepthNetSizeMultiple);

}  // namespace

const char* type_name(KeyType type) {
  switch (type) {
    case KeyType::Bool: return "bool";
    case KeyType::Int: return "int";
    case KeyType::Float: return "float";
    case KeyType::String: return "string";
    case KeyType::Path: return "path";
    case KeyType::PathOrList: return "path|list";
    case KeyType::Choice: return "choice";
    case KeyType::StringList: return "list";
    case KeyType::IntOrAuto: return "int|auto";
    case KeyType::AxisMap: return "axes";
  }
  return "?";
}

Registry::Registry() {
  using T = KeyType;
  auto& k = keys_;
  // --- run ---------------------------------------------------------------------
  Declare(k, "run.name", T::String, "dpst").not_sweepable()
      .help("Name of the run (or sweep); its folder is <run.output_dir>/<run.name>.");
  Declare(k, "run.output_dir", T::Path, "runs").not_sweepable()
      .help("Folder that holds run folders: checkpoints, logs, metrics, exported models.");
  Declare(k, "run.seed", T::Int, "42").at_least(0).pack_wide()
      .help("Seed for f_W initialisation, data order and random sweeps.");
  // --- data --------------------------------------------------------------------
  Declare(k, "data.path", T::Path, "\"\"").required().must_exist().not_sweepable()
      .help("HDF5 dataset written by dataprep/pack_coco.");
  Declare(k, "data.train_split", T::String, "train2014").not_sweepable()
      .help("Group in data.path used for training.");
  Declare(k, "data.val_split", T::String, "val2014").not_sweepable()
      .help("Group in data.path used for evaluation.");
  Declare(k, "data.image_size", T::Int, "256").at_least(kDepthNetSizeMultiple).at_most(4096)
      .multiple_of(kDepthNetSizeMultiple).not_sweepable()
      .help("Training images are image_size x image_size; a multiple of " + kSizeMultiple +
            " (the depth net pools 4 times).");
  Declare(k, "data.loader_threads", T::Int, "2").at_least(1).at_most(64).not_sweepable()
      .help("Background threads per rank that read and decode batches.");
  Declare(k, "data.prefetch", T::Int, "4").at_least(1).at_most(1024).not_sweepable()
      .help("Batches each rank's loader keeps ready ahead of the training step.");
  // --- model -------------------------------------------------------------------
  Declare(k, "model.width", T::Int, "32").at_least(1).at_most(1024)
      .help("Channels of f_W's first conv (the paper: 32); later layers scale with it.");
  Declare(k, "model.residual_blocks", T::Int, "5").at_least(0).at_most(64)
      .help("Residual blocks in f_W (the paper: 5).");
  Declare(k, "model.extend_from", T::Path, "\"\"").must_exist()
      .help("Add styles to a trained f_W (a model.h5 of one or several styles): the trial starts from its weights "
            "and style rows, which stay frozen, and trains only one new InstanceNorm row per loss.style_image "
            "(Dumoulin et al. 2017). model.width and model.residual_blocks must match the file. \"\" = train "
            "every weight from the start.");
  // --- loss_nets ---------------------------------------------------------------
  Declare(k, "loss_nets.vgg16_weights", T::Path, "\"\"").must_exist().not_sweepable()
      .help("HDF5 weight file of the VGG16 loss network (dataprep/convert_weights.py vgg16).");
  Declare(k, "loss_nets.depth_weights", T::Path, "\"\"").must_exist().not_sweepable()
      .help("HDF5 weight file of the hourglass depth network (dataprep/convert_weights.py hourglass-t7, "
            "hourglass-megadepth or hourglass).");
  Declare(k, "loss_nets.depth_net", T::Choice, "hourglass3").one_of({"hourglass3", "megadepth"}).not_sweepable()
      .help("Which published depth network loss_nets.depth_weights holds: hourglass3 (Chen et al.'s "
            "Torch7 weights, relative depth; convert_weights.py hourglass-t7) or megadepth (MegaDepth's "
            "best_generalization_net_G.pth, log depth, made a depth map with exp; convert_weights.py "
            "hourglass-megadepth). Must match the file's depth_variant attribute.");
  Declare(k, "loss_nets.allow_random_init", T::Bool, "false").not_sweepable()
      .help("Let a loss network without a weight file start from random weights. Flagged in "
            "logs and in every results table; only for smoke tests and demos.");
  // --- loss --------------------------------------------------------------------
  Declare(k, "loss.content_weight", T::Float, "1.0e5").at_least(0)
      .help("lambda1: weight of the content loss (pytorch/examples scale).");
  Declare(k, "loss.style_weight", T::Float, "1.0e10").at_least(0)
      .help("lambda2: weight of the style loss (pytorch/examples scale).");
  Declare(k, "loss.depth_weight", T::Float, "2.8e5").at_least(0)
      .help("lambda3: weight of the depth loss; 0 is the Johnson et al. baseline. The default makes the "
            "weighted depth term about equal to the weighted content term at the start of training: "
            "raw content / raw depth = 2.84 for an untrained f_W on mini-coco at 256x256 "
            "(bench_networks_loss_ratio, results/networks.md; measured with random-init loss networks, "
            "re-measure with pretrained ones).");
  Declare(k, "loss.tv_weight", T::Float, "0.0").at_least(0)
      .help("Weight of the total-variation loss on the output.");
  Declare(k, "loss.content_layers", T::StringList, "[relu2_2]").one_of(kVggTaps)
      .help("VGG16 taps whose features the output must keep.");
  Declare(k, "loss.style_layers", T::StringList, "[relu1_2, relu2_2, relu3_3, relu4_3]")
      .one_of(kVggTaps)
      .help("VGG16 taps whose Gram matrices must match the style image's.");
  Declare(k, "loss.depth_layers", T::StringList, "[output]").one_of(kDepthTaps)
      .help("Hourglass taps whose features must be the same for output and input "
            "(output = the depth map, the paper's choice).");
  Declare(k, "loss.style_image", T::PathOrList, "\"\"").required().must_exist()
      .help("The style image (any size; resized to loss.style_size on the short side), or a list of style "
            "images [a.jpg, b.jpg, ...]: one f_W for all of them, its InstanceNorms conditional (one weight and "
            "bias row per style, Dumoulin et al. 2017), each batch element trained on one style in turn. As a "
            "sweep axis every value is one trial: [a.jpg, b.jpg] is two one-style trials, [[a.jpg, b.jpg], "
            "c.jpg] a two-style trial and a one-style trial.");
  Declare(k, "loss.style_size", T::Int, "256").at_least(16).at_most(4096)
      .help("Short side, in pixels, of the style image for its Gram targets.");
  // --- optim -------------------------------------------------------------------
  Declare(k, "optim.lr", T::Float, "1.0e-3").above(0).at_most(1)
      .help("Adam learning rate.");
  // --- train -------------------------------------------------------------------
  Declare(k, "train.iterations", T::Int, "40000").at_least(1).pack_wide()
      .help("Optimizer steps per trial.");
  Declare(k, "train.batch_size", T::Int, "3").at_least(1).at_most(4096).not_sweepable()
      .help("Images per rank per step; the global batch is batch_size x ranks_per_trial.");
  Declare(k, "train.precision", T::Choice, "fp32").one_of({"fp32", "bf16"}).not_sweepable()
      .help("fp32, or bf16: autocast to bfloat16 for the forward passes, fp32 master weights, Adam and loss "
            "terms. Meant for GPUs; on CPUs it runs too, slower unless the CPU has native bf16.");
  Declare(k, "train.threads", T::IntOrAuto, "auto").at_least(1).at_most(1024).not_sweepable()
      .help("Intra-op threads per rank; auto = cores on the node / ranks on the node.");
  Declare(k, "train.log_every", T::Int, "100").at_least(1).not_sweepable()
      .help("Steps between progress lines and metrics.jsonl records.");
  Declare(k, "train.checkpoint_every", T::Int, "2000").at_least(1).not_sweepable()
      .help("Steps between checkpoints.");
  Declare(k, "train.keep_checkpoints", T::Int, "3").at_least(1).not_sweepable()
      .help("Complete checkpoints kept per trial; older ones are deleted.");
  Declare(k, "train.collective_timeout_s", T::Float, "600").above(0).not_sweepable()
      .help("A collective that takes longer ends the job with an error naming rank and operation.");
  Declare(k, "train.bucket_mb", T::Float, "25").above(0).at_most(4096).not_sweepable()
      .help("Size of the flat gradient buckets that are all-reduced during backward.");
  Declare(k, "train.phase_timing", T::Bool, "false").not_sweepable()
      .help("Time each phase of a step (CUDA events on a GPU) and count its host synchronisations; "
            "metrics.jsonl gets phase_<name>_ms and host_syncs. Adds one host sync per step.");
  Declare(k, "train.device", T::Choice, "auto").one_of({"auto", "cpu", "cuda"}).not_sweepable()
      .help("auto = the GPU of this rank's local rank when CUDA is available, else cpu.");
  // --- sweep -------------------------------------------------------------------
  Declare(k, "sweep.method", T::Choice, "none").one_of({"none", "grid", "random"}).not_sweepable()
      .help("none = one trial; grid = Cartesian product of the axes; random = num_trials draws.");
  Declare(k, "sweep.ranks_per_trial", T::Int, "0").at_least(0).not_sweepable()
      .help("Ranks that train one pack data-parallel; 0 = all ranks form one group.");
  Declare(k, "sweep.trials_per_pack", T::Int, "1").at_least(1).at_most(64).not_sweepable()
      .help("Trials co-trained on the same batches by one group.");
  Declare(k, "sweep.pack_frozen_pass", T::Choice, "auto").one_of({"auto", "joint", "per_trial"}).not_sweepable()
      .help("How a pack's outputs go through VGG16 and the depth net: joint = one batch for the whole pack and one "
            "backward; per_trial = each trial's slice in turn, its backward right after (memory does not grow with "
            "the pack); auto = joint on cuda, per_trial on cpu (results/sweep_pack.md).");
  Declare(k, "sweep.num_trials", T::Int, "0").at_least(0).not_sweepable()
      .help("random: how many trials to draw (seeded by run.seed).");
  Declare(k, "sweep.axes", T::AxisMap, "{}").not_sweepable()
      .help("Swept keys and their values, e.g. {loss.depth_weight: [0, 1.0e5]}.");
  // --- eval --------------------------------------------------------------------
  Declare(k, "eval.after_training", T::Bool, "true").not_sweepable()
      .help("Evaluate each trial on the val split when it finishes.");
  Declare(k, "eval.images", T::Int, "100").at_least(1).not_sweepable()
      .help("Val images used for metrics.");
  Declare(k, "eval.pairs", T::Int, "5000").at_least(1).not_sweepable()
      .help("Random point pairs per image for the ordinal depth agreement.");
}

const Registry& Registry::instance() {
  static const Registry registry;
  return registry;
}

const KeySpec* Registry::find(const std::string& key) const {
  for (const auto& spec : keys_) {
    if (spec.key == key) return &spec;
  }
  return nullptr;
}

bool Registry::is_section(const std::string& name) const {
  for (const auto& spec : keys_) {
    if (spec.section() == name) return true;
  }
  return false;
}

std::vector<std::string> Registry::sections() const {
  std::vector<std::string> out;
  for (const auto& spec : keys_) {
    if (std::find(out.begin(), out.end(), spec.section()) == out.end()) out.push_back(spec.section());
  }
  return out;
}

std::string Registry::suggest(const std::string& key) const {
  std::vector<std::string> all;
  for (const auto& spec : keys_) all.push_back(spec.key);
  const auto dot = key.rfind('.');
  const std::string leaf = dot == std::string::npos ? key : key.substr(dot + 1);
  // A right name in the wrong section ("train.lr" -> "optim.lr").
  for (const auto& spec : keys_) {
    if (spec.key.substr(spec.key.rfind('.') + 1) == leaf) return spec.key;
  }
  std::string best = closest(key, all);
  if (!best.empty()) return best;
  // A misspelt section with a right leaf ("los.style_weight").
  std::vector<std::string> leaves;
  for (const auto& spec : keys_) leaves.push_back(spec.key.substr(spec.key.rfind('.') + 1));
  const std::string leaf_match = closest(leaf, leaves);
  if (!leaf_match.empty()) {
    for (const auto& spec : keys_) {
      if (spec.key.substr(spec.key.rfind('.') + 1) == leaf_match) return spec.key;
    }
  }
  // A section name on its own.
  return closest(key, sections());
}

std::string KeySpec::range_text() const {
  std::ostringstream os;
  auto num = [](double v) {
    std::ostringstream n;
    n << v;
    return n.str();
  };
  std::vector<std::string> parts;
  if (min) parts.push_back((min_exclusive ? "> " : ">= ") + num(*min));
  if (max) parts.push_back("<= " + num(*max));
  if (multiple_of > 0) parts.push_back("multiple of " + std::to_string(multiple_of));
  if (!choices.empty()) {
    std::string c = (type == KeyType::StringList ? "items from: " : "one of: ");
    for (size_t i = 0; i < choices.size(); ++i) c += (i ? ", " : "") + choices[i];
    parts.push_back(c);
  }
  if (required) parts.push_back("required");
  if (parts.empty()) return "";
  os << "(";
  for (size_t i = 0; i < parts.size(); ++i) os << (i ? ", " : "") << parts[i];
  os << ")";
  return os.str();
}

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string closest(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_d = std::string::npos;
  for (const auto& c : candidates) {
    const size_t d = edit_distance(word, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  // A typo changes a few characters; beyond a third of the word it is another word.
  const size_t limit = std::max<size_t>(2, word.size() / 3);
  return best_d <= limit ? best : std::string();
}

}  // namespace dpst::config
