#include "config/flat_yaml.h"

#include <yaml-cpp/yaml.h>

#include "common/errors.h"

namespace dpst::config {

std::map<std::string, std::string> read_flat_yaml(const std::filesystem::path& file) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(file.string());
  } catch (const YAML::BadFile&) {
    DPST_THROW(InputError, file.string() << ": cannot be read");
  } catch (const YAML::Exception& e) {
    DPST_THROW(InputError, file.string() << ":" << e.mark.line + 1 << ": not valid YAML: " << e.msg);
  }
  DPST_CHECK(root.IsMap(), InputError, file.string() << ": expected 'key: value' lines");
  std::map<std::string, std::string> out;
  for (const auto& kv : root) {
    if (kv.second.IsScalar()) out[kv.first.Scalar()] = kv.second.Scalar();
  }
  return out;
}

}  // namespace dpst::config
