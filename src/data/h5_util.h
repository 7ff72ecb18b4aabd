// Small RAII and error helpers over the HDF5 C API, shared by the dataset reader and
// the pack_coco writer. Not part of the public data API.
#pragma once

#include <hdf5.h>

#include <mutex>
#include <string>
#include <utility>

namespace dpst::data::h5 {

// Owns one HDF5 identifier (file, group, dataset, dataspace, datatype, property list,
// attribute) and closes it with H5Idec_ref, which works for every identifier kind.
class Handle {
 public:
  Handle() = default;
  explicit Handle(hid_t id) : id_(id) {}
  ~Handle() { reset(); }
  Handle(Handle&& other) noexcept : id_(std::exchange(other.id_, H5I_INVALID_HID)) {}
  Handle& operator=(Handle&& other) noexcept {
    if (this != &other) {
      reset();
      id_ = std::exchange(other.id_, H5I_INVALID_HID);
    }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;

  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  void reset();
  // Gives up ownership without closing (after the caller closed it explicitly).
  hid_t release() { return std::exchange(id_, H5I_INVALID_HID); }

 private:
  hid_t id_ = H5I_INVALID_HID;
};

// Debian's libhdf5 is built without thread safety, so every HDF5 call in the process
// must be serialised. The lock is a no-op when the library is thread-safe. Recursive,
// so helpers can call each other while holding it.
std::unique_lock<std::recursive_mutex> lock();

// Silences HDF5's automatic error printing (our messages say what went wrong) once per
// process, and returns the most specific message on HDF5's error stack, e.g.
// "truncated file: eof = 1024, ...", or "" when the stack is empty. Clears the stack.
void quiet_errors();
std::string last_error();

// Attributes on an object (file root, group). Missing or mistyped attributes throw
// std::runtime_error with a short reason that callers wrap with the file path.
std::string read_string_attribute(hid_t obj, const char* name);
long long read_int_attribute(hid_t obj, const char* name);
// Writers: return false on failure (the caller raises OutputError with context).
bool write_string_attribute(hid_t obj, const char* name, const std::string& value);
bool write_int_attribute(hid_t obj, const char* name, long long value);

}  // namespace dpst::data::h5
