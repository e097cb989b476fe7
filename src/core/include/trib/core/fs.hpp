// Small file-system helpers shared by the modules that touch local files.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

namespace trib {

// Reads a whole file. Throws Error::NotFound / Error::Retryable (I/O) naming the path.
std::string read_file(const std::filesystem::path& path);

// Writes `bytes` to a new temp file beside `target` (".<name>.tmp-<pid>-<n>", never a name a
// lake listing returns), fsynced, and returns its path. The caller renames or links it into place
// and removes it on failure. Creates missing parent folders.
std::filesystem::path write_temp_file(const std::filesystem::path& target, std::string_view bytes);

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
