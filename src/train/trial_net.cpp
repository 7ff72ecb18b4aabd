#include "train/trial_net.h"

#include <algorithm>
#include <filesystem>

#include "common/errors.h"
#include "models/loss_nets.h"
#include "trial_folder/trial_folder.h"

namespace dpst::train {

namespace fs = std::filesystem;

TrialNet make_trial_net(const config::Config& c) {
  TrialNet t;
  std::vector<std::string> added;
  for (const auto& image : c.loss().style_images) added.push_back(image.stem().string());
  const models::TransformNetOptions options{c.model().width, c.model().residual_blocks,
                                            static_cast<int64_t>(added.size())};
  const fs::path& base_file = c.model().extend_from;
  if (base_file.empty()) {
    if (added.size() > 1) t.style_names = added;
    t.net = models::TransformNet(options);
    return t;
  }
  std::vector<std::string> base_names;
  const models::TransformNet base = models::load_transform_net(base_file, &base_names);
  DPST_CHECK(base->options().width == options.width && base->options().residual_blocks == options.residual_blocks,
             ConfigError,
             "model.extend_from: " << base_file.string() << " is an f_W of width " << base->options().width << " and "
                                   << base->options().residual_blocks << " residual blocks, but model.width is "
                                   << options.width << " and model.residual_blocks " << options.residual_blocks);
  // A one-style file stores no name: its style is called after its file (or trial folder).
  if (base_names.empty())
    base_names = {base_file.filename() == trial_folder::kModelFile ? base_file.parent_path().filename().string()
                                                                  : base_file.stem().string()};
  for (const auto& name : added)
    DPST_CHECK(std::find(base_names.begin(), base_names.end(), name) == base_names.end(), ConfigError,
               "loss.style_image: " << base_file.string() << " already holds a style called '" << name
                                    << "' (model.extend_from); rename the new style image");
  t.style_names = base_names;
  t.style_names.insert(t.style_names.end(), added.begin(), added.end());
  t.first_trained_style = static_cast<int64_t>(base_names.size());
  t.net = models::with_added_styles(*base, static_cast<int64_t>(added.size()));
  return t;
}

std::vector<torch::Tensor> freeze_untrained(TrialNet& t, bool extending) {
  // Parameters that cannot change the output are left alone (transform_net.h says why);
  // so is everything but the new style rows when styles are added to a trained net.
  const auto skip = t.net->normalised_away_parameters();
  const auto rows = t.net->style_row_parameters();
  const auto listed = [](const std::vector<std::string>& names, const std::string& name) {
    return std::find(names.begin(), names.end(), name) != names.end();
  };
  for (const auto& item : t.net->named_parameters()) {
    const bool frozen = listed(skip, item.key()) || (extending && !listed(rows, item.key()));
    if (frozen) item.value().set_requires_grad(false);
    if (!frozen && extending) {
      const int64_t first = t.first_trained_style;
      item.value().register_hook([first](torch::Tensor grad) {
        grad = grad.clone();
        grad.narrow(0, 0, first).zero_();
        return grad;
      });
    }
  }
  std::vector<torch::Tensor> trained;
  for (const auto& p : t.net->trained_parameters())
    if (p.requires_grad()) trained.push_back(p);
  return trained;
}

}  // namespace dpst::train
