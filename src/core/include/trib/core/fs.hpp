// Small file-system helpers shared by the modules that touch local files.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

namespace trib {

// Reads a whole file. Throws Error::NotFound / Error::Retryable (I/O) naming the path.
std::string read_file(const std::filesystem::path& path);

// Writes `bytes` to a new temp file beside `target` (".<name>.tmp-<pid>-<n>", never a name a
// lake listing returns), fsynced, and returns its path. The caller renames or links it into place
// and removes it on failure. Creates missing parent folders.
std::filesystem::path write_temp_file(const std::filesystem::path& target, std::string_view bytes);

struct TempFileOptions {
  // false: the file is not fsynced here; the caller makes it durable later (an fsync of the file
  // once it is in place, e.g. one round of fsyncs for many files).
  bool fsync = true;
  // When set, called with the open file once the bytes are written, before the fsync and the
  // close (e.g. to stamp its modification time). If it throws, the temp file is removed.
  std::function<void(int fd)> before_close;
};

// write_temp_file with options; the two-argument form is write_temp_file(target, bytes, {}).
std::filesystem::path write_temp_file(const std::filesystem::path& target, std::string_view bytes,
                                      const TempFileOptions& options);

// A fresh temp-file name beside `target` in write_temp_file's scheme (".<name>.tmp-<pid>-<n>"),
// for callers that create the file themselves (e.g. as a hard link). Like write_temp_file it
// creates missing parent folders and sweeps the stale temp files of `target` first; nothing is
// created at the returned name.
std::filesystem::path new_temp_path(const std::filesystem::path& target);

// Removes the temp files of `target` (see write_temp_file) whose writing process no longer
// exists on this machine: what a writer killed mid-write leaves behind. Temp files of live
// processes, this one included, are left alone. Returns how many were removed. write_temp_file
// calls it, so retrying a killed writer's work cleans up after it.
size_t remove_stale_temp_files(const std::filesystem::path& target);

// Writes `bytes` to `path` atomically: a temp file in the same folder, fsync, rename over the
// target, fsync of the folder. Readers see the old or the new content, never a torn file.
// Creates missing parent folders.
void write_file_atomic(const std::filesystem::path& path, std::string_view bytes);

// fsync a folder so a rename or create inside it is durable.
void fsync_dir(const std::filesystem::path& dir);

}  // namespace trib
