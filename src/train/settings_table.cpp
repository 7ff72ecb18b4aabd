#include "train/settings_table.h"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "models/provenance_text.h"

namespace dpst::train {

namespace {

std::string provenance_text(const models::Provenance& p) {
  return p.random_init ? models::random_init_entry(p.variant) : p.describe();
}

}  // namespace

std::vector<std::pair<std::string, std::string>> settings_rows(const PackFacts& f) {
  const config::Config& base = *f.base;
  const GroupContext& ctx = *f.context;
  const models::LossNets& nets = *f.nets;
  const int64_t batch = base.train().batch_size;
  const size_t trials = f.runs->size();
  std::vector<std::pair<std::string, std::string>> rows = {
      {"world size", std::to_string(ctx.world_size)},
      {"rank groups", std::to_string(ctx.num_groups) + " x " + std::to_string(f.comm->size()) + " ranks"},
      {"this group", std::to_string(ctx.group_index)},
      {"batch per rank", std::to_string(batch)},
      {"global batch", std::to_string(batch * f.comm->size())},
      {"threads per rank", std::to_string(ctx.threads)},
      {"device", ctx.device_text},
      {"backend", f.comm->backend()},
      {"trials in pack", std::to_string(trials)},
      {"pack frozen pass", trials > 1 ? (f.joint ? "joint (one batch)" : "per trial") : "-"},
      {"precision", f.bf16 ? "bf16 autocast (fp32 weights, Adam and loss terms)" : "fp32"},
      {"iterations", std::to_string(base.train().iterations)},
      {"start", f.start},
      {"dataset", base.data().path.string() + " [" + base.data().train_split + "], " +
                      std::to_string(f.dataset_images) + " images"},
      {"VGG16 weights", provenance_text(nets.vgg.provenance)},
      {"depth network", nets.depth.net ? nets.depth.provenance.variant + " (loss_nets.depth_net)"
                                       : std::string("not used (lambda3 = 0)")},
      {"depth weights", nets.depth.net ? provenance_text(nets.depth.provenance) : std::string("not used (lambda3 = 0)")},
      {"random-init loss nets", nets.random_init() ? "YES: results are not comparable with pretrained ones" : "no"},
  };
  for (const auto& r : *f.runs) {
    rows.emplace_back("trial " + r.label(), r.spec->dir.string());
    if (!r.multi_style()) continue;
    // Which rows this trial trains, and which it took frozen from model.extend_from.
    std::string styles;
    for (size_t s = 0; s < r.style_names.size(); ++s)
      styles += (s ? ", " : "") + r.style_names[s] +
                (static_cast<int64_t>(s) < r.first_trained_style ? " (frozen)" : "");
    rows.emplace_back("  styles", std::to_string(r.style_names.size()) + ": " + styles);
  }
  return rows;
}

void print_settings(const PackFacts& facts) {
  const auto rows = settings_rows(facts);
  size_t width = 0;
  for (const auto& [k, v] : rows) width = std::max(width, k.size());
  spdlog::info("effective settings:");
  for (const auto& [k, v] : rows) spdlog::info("  {}{}  {}", k, std::string(width - k.size(), ' '), v);
  if (facts.nets->random_init()) spdlog::warn("a loss network runs on random weights: this run is a smoke test, not a result");
}

}  // namespace dpst::train
