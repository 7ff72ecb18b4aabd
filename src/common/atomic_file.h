// The one way dpst puts a file in place: everything is written to a temporary beside the
// target (".<name>.<tag>-<pid>", so concurrent processes never share one), fsynced,
// renamed over the target (atomic on POSIX filesystems), and then the folder is fsynced
// so the rename itself survives a power cut. A failure at any step removes the
// temporary, leaves the old target as it was and throws OutputError naming the path.
#pragma once

#include <filesystem>
#include <functional>
#include <string>

namespace dpst {

// The temporary beside `target`: "<folder>/.<name>.<tag>-<pid>".
std::filesystem::path temporary_beside(const std::filesystem::path& target, const std::string& tag);

// fsync of one file or folder; throws OutputError naming it.
void fsync_path(const std::filesystem::path& path);

// fsyncs `temporary`, renames it to `target` and fsyncs target's folder. On failure the
// temporary is removed. The building block of the two functions below.
void commit_temporary(const std::filesystem::path& temporary, const std::filesystem::path& target);

// write(tmp) creates the file tmp (e.g. an HDF5 file); it is then committed to `target`.
// If write throws, the temporary is removed and the exception goes on.
void write_atomically(const std::filesystem::path& target,
                      const std::function<void(const std::filesystem::path& temporary)>& write);

// Text (or bytes) to `target`, atomically.
void write_file_atomically(const std::filesystem::path& target, const std::string& contents);

// Creates `dir` and its parents; OutputError "<dir>: cannot create folder: <why>" (exit 6)
// instead of std::filesystem's exception, which would end a tool as an internal error.
void create_folder(const std::filesystem::path& dir);

// Removes the file `path` if it is there; OutputError "<path>: cannot remove: <why>".
void remove_if_present(const std::filesystem::path& path);

}  // namespace dpst
