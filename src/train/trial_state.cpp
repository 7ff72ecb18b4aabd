#include "train/trial_state.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <type_traits>
#include <vector>

#include "common/errors.h"
#include "config/flat_yaml.h"
#include "models/weights_io.h"
#include "trial_folder/trial_folder.h"

namespace dpst::train {

namespace fs = std::filesystem;

namespace {

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  out.flush();
  DPST_CHECK(static_cast<bool>(out), OutputError, path.string() << ": write failed");
}

// LibTorch keys Adam's per-parameter state by the parameter's TensorImpl: as a string in
// 1.x, as a pointer in 2.x. Deriving the key from the map's own key type covers both.
using StateMap = std::remove_reference_t<decltype(std::declval<torch::optim::Adam&>().state())>;
using StateKey = typename StateMap::key_type;

template <typename Key>
Key state_key_of(const torch::Tensor& p) {
  if constexpr (std::is_same_v<Key, std::string>) {
    std::ostringstream os;  // what c10::guts::to_string(TensorImpl*) writes
    os << p.unsafeGetTensorImpl();
    return os.str();
  } else {
    return static_cast<Key>(p.unsafeGetTensorImpl());
  }
}

torch::Tensor rng_state() {
  auto generator = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(generator.mutex());
  return generator.get_state();
}

void set_rng_state(const torch::Tensor& state) {
  auto generator = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(generator.mutex());
  generator.set_state(state);
}

}  // namespace

std::vector<std::pair<std::string, torch::Tensor>> adam_state(models::TransformNetImpl& net, torch::optim::Adam& adam) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& item : net.named_parameters()) {
    const auto it = adam.state().find(state_key_of<StateKey>(item.value()));
    if (it == adam.state().end()) continue;  // not optimised, or no step taken yet
    const auto& s = static_cast<const torch::optim::AdamParamState&>(*it->second);
    out.emplace_back(item.key() + ".exp_avg", s.exp_avg().cpu());
    out.emplace_back(item.key() + ".exp_avg_sq", s.exp_avg_sq().cpu());
    out.emplace_back(item.key() + ".step", torch::full({1}, static_cast<int64_t>(s.step()), torch::kLong));
  }
  return out;
}

void write_trial_state(const fs::path& folder, models::TransformNetImpl& net, torch::optim::Adam& adam,
                       const TrialState& state, const std::string& config_yaml, const std::string& progress_yaml) {
  models::save_weights(net, folder / "model.h5", {{"network", "transform"}, {"source", "dpst checkpoint"}});
  auto tensors = adam_state(net, adam);
  tensors.emplace_back("rng_state", rng_state().to(torch::kLong));
  models::write_tensors(folder / "optimizer.h5", tensors, {{"content", "Adam state and CPU RNG state"}});
  std::ostringstream os;
  os << "step: " << state.step << "\nepoch: " << state.cursor.epoch << "\nbatch: " << state.cursor.batch
     << "\nimages_seen: " << state.images_seen << "\n";
  write_text(folder / "state.yml", os.str());
  write_text(folder / trial_folder::kConfigFile, config_yaml);
  write_text(folder / trial_folder::kProgressFile, progress_yaml);
}

TrialState read_trial_state(const fs::path& folder, models::TransformNetImpl& net, torch::optim::Adam& adam) {
  for (const char* name : {"model.h5", "optimizer.h5", "state.yml"}) {
    DPST_CHECK(fs::exists(folder / name), InputError,
               (folder / name).string() << ": missing from the checkpoint; it is incomplete (delete the folder to "
                                           "resume from the one before)");
  }
  models::load_weights(net, folder / "model.h5", "transform");
  const auto saved = models::read_all_tensors(folder / "optimizer.h5");
  auto get = [&](const std::string& name) -> const torch::Tensor& {
    const auto it = saved.find(name);
    DPST_CHECK(it != saved.end(), InputError, (folder / "optimizer.h5").string() << ": no dataset '" << name << "'");
    return it->second;
  };
  for (const auto& item : net.named_parameters()) {
    if (saved.find(item.key() + ".step") == saved.end()) continue;  // had no Adam state when saved
    const torch::Tensor& p = item.value();
    auto s = std::make_unique<torch::optim::AdamParamState>();
    s->step(get(item.key() + ".step").item<int64_t>());
    s->exp_avg(get(item.key() + ".exp_avg").to(p.device(), p.scalar_type()).clone());
    s->exp_avg_sq(get(item.key() + ".exp_avg_sq").to(p.device(), p.scalar_type()).clone());
    adam.state()[state_key_of<StateKey>(p)] = std::move(s);
  }
  set_rng_state(get("rng_state").to(torch::kUInt8));
  TrialState s;
  const fs::path state_file = folder / "state.yml";
  const auto y = config::read_flat_yaml(state_file);
  auto number = [&](const char* key) -> int64_t {
    const auto v = config::flat_yaml_int(y, key);
    DPST_CHECK(v.has_value(), InputError, state_file.string() << ": unreadable: no integer '" << key << "'");
    return *v;
  };
  s.step = number("step");
  s.cursor.epoch = number("epoch");
  s.cursor.batch = number("batch");
  s.images_seen = number("images_seen");
  return s;
}

}  // namespace dpst::train
