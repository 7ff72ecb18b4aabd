#include "data/h5_util.h"

#include <stdexcept>
#include <vector>

namespace dpst::data::h5 {

void Handle::reset() {
  if (id_ >= 0) {
    auto guard = lock();
    H5Idec_ref(id_);
    id_ = H5I_INVALID_HID;
  }
}

namespace {

bool library_threadsafe() {
  static const bool threadsafe = [] {
    hbool_t ts = 0;
    return H5is_library_threadsafe(&ts) >= 0 && ts;
  }();
  return threadsafe;
}

herr_t collect_message(unsigned n, const H5E_error2_t* err, void* client) {
  auto* messages = static_cast<std::vector<std::string>*>(client);
  (void)n;
  if (err->desc != nullptr && err->desc[0] != '\0') messages->push_back(err->desc);
  return 0;
}

}  // namespace

std::unique_lock<std::recursive_mutex> lock() {
  static std::recursive_mutex mutex;
  if (library_threadsafe()) return std::unique_lock<std::recursive_mutex>(mutex, std::defer_lock);
  return std::unique_lock<std::recursive_mutex>(mutex);
}

void quiet_errors() {
  static std::once_flag once;
  std::call_once(once, [] {
    auto guard = lock();
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  });
}

std::string last_error() {
  auto guard = lock();
  std::vector<std::string> messages;
  // Walk from the innermost call outwards: the innermost message is the specific one
  // ("truncated file", "wrong B-tree signature"), the outer ones are generic.
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, collect_message, &messages);
  H5Eclear2(H5E_DEFAULT);
  return messages.empty() ? std::string() : messages.front();
}

std::string read_string_attribute(hid_t obj, const char* name) {
  auto guard = lock();
  if (H5Aexists(obj, name) <= 0) throw std::runtime_error(std::string("no attribute '") + name + "'");
  Handle attr(H5Aopen(obj, name, H5P_DEFAULT));
  Handle type(H5Aget_type(attr.get()));
  if (!attr.valid() || !type.valid() || H5Tget_class(type.get()) != H5T_STRING)
    throw std::runtime_error(std::string("attribute '") + name + "' is not a string");
  if (H5Tis_variable_str(type.get()) > 0) {
    Handle mem(H5Tcopy(H5T_C_S1));
    H5Tset_size(mem.get(), H5T_VARIABLE);
    H5Tset_cset(mem.get(), H5Tget_cset(type.get()));  // HDF5 will not convert UTF-8 to ASCII
    char* value = nullptr;
    if (H5Aread(attr.get(), mem.get(), &value) < 0 || value == nullptr)
      throw std::runtime_error(std::string("cannot read attribute '") + name + "'");
    std::string out(value);
    Handle space(H5Aget_space(attr.get()));
    H5Dvlen_reclaim(mem.get(), space.get(), H5P_DEFAULT, &value);
    return out;
  }
  const size_t size = H5Tget_size(type.get());
  std::string out(size, '\0');
  if (H5Aread(attr.get(), type.get(), out.data()) < 0)
    throw std::runtime_error(std::string("cannot read attribute '") + name + "'");
  out.resize(out.find('\0') == std::string::npos ? size : out.find('\0'));
  return out;
}

long long read_int_attribute(hid_t obj, const char* name) {
  auto guard = lock();
  if (H5Aexists(obj, name) <= 0) throw std::runtime_error(std::string("no attribute '") + name + "'");
  Handle attr(H5Aopen(obj, name, H5P_DEFAULT));
  Handle type(H5Aget_type(attr.get()));
  if (!attr.valid() || !type.valid() || H5Tget_class(type.get()) != H5T_INTEGER)
    throw std::runtime_error(std::string("attribute '") + name + "' is not an integer");
  long long value = 0;
  if (H5Aread(attr.get(), H5T_NATIVE_LLONG, &value) < 0)
    throw std::runtime_error(std::string("cannot read attribute '") + name + "'");
  return value;
}

bool write_string_attribute(hid_t obj, const char* name, const std::string& value) {
  auto guard = lock();
  Handle type(H5Tcopy(H5T_C_S1));
  H5Tset_size(type.get(), H5T_VARIABLE);
  H5Tset_cset(type.get(), H5T_CSET_UTF8);
  Handle space(H5Screate(H5S_SCALAR));
  Handle attr(H5Acreate2(obj, name, type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT));
  const char* data = value.c_str();
  return attr.valid() && H5Awrite(attr.get(), type.get(), &data) >= 0;
}

bool write_int_attribute(hid_t obj, const char* name, long long value) {
  auto guard = lock();
  Handle space(H5Screate(H5S_SCALAR));
  Handle attr(H5Acreate2(obj, name, H5T_STD_I64LE, space.get(), H5P_DEFAULT, H5P_DEFAULT));
  return attr.valid() && H5Awrite(attr.get(), H5T_NATIVE_LLONG, &value) >= 0;
}

}  // namespace dpst::data::h5
