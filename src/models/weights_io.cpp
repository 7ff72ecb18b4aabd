#include "models/weights_io.h"

#include <hdf5.h>

#include <cstdint>
#include <set>
#include <sstream>
#include <system_error>
#include <vector>

#include "common/atomic_file.h"
#include "common/errors.h"
#include "data/h5_util.h"

namespace dpst::models {
namespace h5 = dpst::data::h5;
namespace fs = std::filesystem;

namespace {

struct DatasetMeta {
  bool is_dataset = false;
  H5T_class_t type_class = H5T_NO_CLASS;
  size_t type_size = 0;
  bool is_signed = true;
  std::vector<int64_t> shape;
};

std::string type_text(H5T_class_t cls, size_t size, bool is_signed) {
  std::ostringstream os;
  switch (cls) {
    case H5T_FLOAT: os << "float" << size * 8; break;
    case H5T_INTEGER: os << (is_signed ? "int" : "uint") << size * 8; break;
    case H5T_STRING: os << "string"; break;
    default: os << "HDF5 type class " << static_cast<int>(cls); break;
  }
  return os.str();
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::ostringstream os;
  os << "(";
  for (size_t i = 0; i < shape.size(); ++i) os << (i ? ", " : "") << shape[i];
  if (shape.size() == 1) os << ",";
  os << ")";
  return os.str();
}

herr_t collect_link(hid_t, const char* name, const H5L_info_t*, void* data) {
  static_cast<std::vector<std::string>*>(data)->push_back(name);
  return 0;
}

herr_t collect_attribute(hid_t, const char* name, const H5A_info_t*, void* data) {
  static_cast<std::vector<std::string>*>(data)->push_back(name);
  return 0;
}

h5::Handle open_file(const fs::path& path) {
  DPST_CHECK(fs::exists(path), InputError, "weight file '" << path.string() << "' does not exist");
  DPST_CHECK(fs::is_regular_file(path), InputError, "weight file '" << path.string() << "' is not a regular file");
  h5::quiet_errors();
  auto guard = h5::lock();
  h5::Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
  if (!file.valid()) {
    const std::string reason = h5::last_error();
    DPST_THROW(InputError, "cannot read weight file '" << path.string() << "': not a readable HDF5 file"
                                                       << (reason.empty() ? "" : " (" + reason + ")"));
  }
  return file;
}

std::map<std::string, std::string> read_attributes(hid_t file, const fs::path& path) {
  auto guard = h5::lock();
  std::vector<std::string> names;
  hsize_t idx = 0;
  H5Aiterate2(file, H5_INDEX_NAME, H5_ITER_INC, &idx, collect_attribute, &names);
  std::map<std::string, std::string> out;
  for (const auto& name : names) {
    h5::Handle attr(H5Aopen(file, name.c_str(), H5P_DEFAULT));
    h5::Handle type(H5Aget_type(attr.get()));
    if (!attr.valid() || !type.valid()) continue;
    try {
      switch (H5Tget_class(type.get())) {
        case H5T_STRING: out[name] = h5::read_string_attribute(file, name.c_str()); break;
        case H5T_INTEGER: out[name] = std::to_string(h5::read_int_attribute(file, name.c_str())); break;
        case H5T_FLOAT: {
          double v = 0;
          if (H5Aread(attr.get(), H5T_NATIVE_DOUBLE, &v) >= 0) {
            std::ostringstream os;
            os << v;
            out[name] = os.str();
          }
          break;
        }
        default: break;  // other attribute kinds carry nothing the loader uses
      }
    } catch (const std::exception& e) {
      DPST_THROW(InputError, "weight file '" << path.string() << "': " << e.what());
    }
  }
  return out;
}

std::map<std::string, DatasetMeta> list_root(hid_t file) {
  auto guard = h5::lock();
  std::vector<std::string> names;
  hsize_t idx = 0;
  H5Literate(file, H5_INDEX_NAME, H5_ITER_INC, &idx, collect_link, &names);
  std::map<std::string, DatasetMeta> out;
  for (const auto& name : names) {
    DatasetMeta meta;
    h5::Handle obj(H5Oopen(file, name.c_str(), H5P_DEFAULT));
    if (obj.valid() && H5Iget_type(obj.get()) == H5I_DATASET) {
      meta.is_dataset = true;
      h5::Handle type(H5Dget_type(obj.get()));
      h5::Handle space(H5Dget_space(obj.get()));
      meta.type_class = H5Tget_class(type.get());
      meta.type_size = H5Tget_size(type.get());
      meta.is_signed = meta.type_class != H5T_INTEGER || H5Tget_sign(type.get()) == H5T_SGN_2;
      const int ndims = H5Sget_simple_extent_ndims(space.get());
      std::vector<hsize_t> dims(ndims > 0 ? ndims : 0);
      if (ndims > 0) H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
      for (hsize_t d : dims) meta.shape.push_back(static_cast<int64_t>(d));
    }
    h5::last_error();  // clear anything H5Oopen left behind
    out.emplace(name, std::move(meta));
  }
  return out;
}

bool read_dataset(hid_t file, const std::string& name, torch::Tensor& dst) {
  auto guard = h5::lock();
  h5::Handle dset(H5Dopen2(file, name.c_str(), H5P_DEFAULT));
  if (!dset.valid()) return false;
  const hid_t mem = dst.scalar_type() == torch::kFloat32 ? H5T_NATIVE_FLOAT : H5T_NATIVE_INT64;
  return H5Dread(dset.get(), mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, dst.data_ptr()) >= 0;
}

}  // namespace

std::string WeightFileInfo::attribute(const std::string& name, const std::string& fallback) const {
  auto it = attributes.find(name);
  return it == attributes.end() ? fallback : it->second;
}

std::vector<std::pair<std::string, torch::Tensor>> named_state(const torch::nn::Module& module) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& item : module.named_parameters(true)) out.emplace_back(item.key(), item.value());
  for (const auto& item : module.named_buffers(true)) out.emplace_back(item.key(), item.value());
  return out;
}

WeightFileInfo read_weight_file_info(const fs::path& path) {
  h5::Handle file = open_file(path);
  return WeightFileInfo{path, read_attributes(file.get(), path)};
}

WeightFileInfo load_weights(torch::nn::Module& module, const fs::path& path, const std::string& network) {
  h5::Handle file = open_file(path);
  WeightFileInfo info{path, read_attributes(file.get(), path)};
  const auto in_file = list_root(file.get());
  const auto expected = named_state(module);

  std::vector<std::string> missing, unexpected, shape_bad, dtype_bad, unreadable;
  std::set<std::string> expected_names;
  for (const auto& [name, tensor] : expected) {
    expected_names.insert(name);
    auto it = in_file.find(name);
    if (it == in_file.end()) {
      missing.push_back(name);
      continue;
    }
    const DatasetMeta& meta = it->second;
    if (!meta.is_dataset) {
      unexpected.push_back(name + " (not a dataset)");
      continue;
    }
    const bool want_float = tensor.is_floating_point();
    const bool dtype_ok = want_float ? (meta.type_class == H5T_FLOAT && meta.type_size == 4)
                                     : (meta.type_class == H5T_INTEGER && meta.type_size == 8 && meta.is_signed);
    if (!dtype_ok)
      dtype_bad.push_back(name + ": " + type_text(meta.type_class, meta.type_size, meta.is_signed) + " in the file, " +
                          (want_float ? "float32" : "int64") + " expected");
    const std::vector<int64_t> want_shape(tensor.sizes().begin(), tensor.sizes().end());
    if (meta.shape != want_shape)
      shape_bad.push_back(name + ": " + shape_text(meta.shape) + " in the file, " + shape_text(want_shape) +
                          " expected");
  }
  for (const auto& [name, meta] : in_file)
    if (!expected_names.count(name)) unexpected.push_back(meta.is_dataset ? name : name + " (a group)");

  std::vector<torch::Tensor> loaded;
  if (missing.empty() && unexpected.empty() && shape_bad.empty() && dtype_bad.empty()) {
    for (const auto& [name, tensor] : expected) {
      torch::Tensor buf = torch::empty(tensor.sizes(), torch::TensorOptions().dtype(tensor.scalar_type()));
      if (!read_dataset(file.get(), name, buf)) {
        const std::string reason = h5::last_error();
        unreadable.push_back(name + (reason.empty() ? "" : " (" + reason + ")"));
      }
      loaded.push_back(buf);
    }
  }

  const size_t problems = missing.size() + unexpected.size() + shape_bad.size() + dtype_bad.size() + unreadable.size();
  if (problems > 0) {
    std::ostringstream os;
    os << "weight file '" << path.string() << "' does not match the " << network << " network (" << problems
       << " problem" << (problems == 1 ? "" : "s") << "):";
    auto section = [&](const char* title, const std::vector<std::string>& items) {
      if (items.empty()) return;
      os << "\n  " << title << " (" << items.size() << "):";
      for (const auto& item : items) os << "\n    " << item;
    };
    section("missing keys", missing);
    section("unexpected keys", unexpected);
    section("shape mismatches", shape_bad);
    section("dtype mismatches", dtype_bad);
    section("unreadable datasets (damaged or truncated file?)", unreadable);
    DPST_THROW(InputError, os.str());
  }

  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < expected.size(); ++i) {
    torch::Tensor dst = expected[i].second;
    dst.copy_(loaded[i]);
  }
  return info;
}

std::map<std::string, torch::Tensor> read_all_tensors(const fs::path& path) {
  h5::Handle file = open_file(path);
  std::map<std::string, torch::Tensor> out;
  for (const auto& [name, meta] : list_root(file.get())) {
    if (!meta.is_dataset) continue;
    const bool is_float = meta.type_class == H5T_FLOAT;
    DPST_CHECK(is_float || meta.type_class == H5T_INTEGER, InputError,
               "weight file '" << path.string() << "': dataset '" << name << "' is not numeric");
    torch::Tensor t = torch::empty(meta.shape, is_float ? torch::kFloat32 : torch::kInt64);
    if (!read_dataset(file.get(), name, t))
      DPST_THROW(InputError, "weight file '" << path.string() << "': cannot read dataset '" << name << "' ("
                                             << h5::last_error() << ")");
    out.emplace(name, t);
  }
  return out;
}

void write_tensors(const fs::path& path, const std::vector<std::pair<std::string, torch::Tensor>>& tensors,
                   const std::map<std::string, std::string>& attributes) {
  h5::quiet_errors();
  if (path.has_parent_path()) {
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
  }
  write_atomically(path, [&](const fs::path& tmp) {
    auto guard = h5::lock();
    h5::Handle file(H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT));
    DPST_CHECK(file.valid(), OutputError,
               "cannot create weight file '" << tmp.string() << "' (" << h5::last_error() << ")");
    for (const auto& [name, tensor] : tensors) {
      const bool is_float = tensor.is_floating_point();
      torch::Tensor t = tensor.detach().to(torch::kCPU, is_float ? torch::kFloat32 : torch::kInt64).contiguous();
      std::vector<hsize_t> dims(t.sizes().begin(), t.sizes().end());
      h5::Handle space(dims.empty() ? H5Screate(H5S_SCALAR)
                                    : H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr));
      h5::Handle dset(H5Dcreate2(file.get(), name.c_str(), is_float ? H5T_IEEE_F32LE : H5T_STD_I64LE, space.get(),
                                 H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
      const bool ok = dset.valid() && H5Dwrite(dset.get(), is_float ? H5T_NATIVE_FLOAT : H5T_NATIVE_INT64, H5S_ALL,
                                               H5S_ALL, H5P_DEFAULT, t.data_ptr()) >= 0;
      DPST_CHECK(ok, OutputError,
                 "cannot write '" << name << "' to weight file '" << tmp.string() << "' (" << h5::last_error() << ")");
    }
    for (const auto& [key, value] : attributes)
      DPST_CHECK(h5::write_string_attribute(file.get(), key.c_str(), value), OutputError,
                 "cannot write attribute '" << key << "' to '" << tmp.string() << "'");
    DPST_CHECK(H5Fflush(file.get(), H5F_SCOPE_GLOBAL) >= 0, OutputError,
               "cannot flush weight file '" << tmp.string() << "' (" << h5::last_error() << ")");
  });
}

void save_weights(const torch::nn::Module& module, const fs::path& path,
                  const std::map<std::string, std::string>& attributes) {
  std::map<std::string, std::string> attrs = attributes;
  attrs.emplace("format", "dpst-weights-1");
  write_tensors(path, named_state(module), attrs);
}

}  // namespace dpst::models
