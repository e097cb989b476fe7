// ObjectStore over a local folder. Atomicity comes from the file system: every write goes to a
// temp file in the target folder (named ".<name>.tmp-*", never listed), is fsynced, and then is
// renamed over (put) or hard-linked into (put_if_absent: link fails if the target exists) its key.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

#include "trib/core/error.hpp"
#include "trib/core/fs.hpp"
#include "trib/lake/object_store.hpp"

namespace trib::lake {
namespace fs = std::filesystem;

void validate_key(std::string_view key) {
  auto bad = [&](std::string_view why) {
    throw Error::InvalidInput(fmt::format("object key '{}' is invalid: {}", key, why));
  };
  if (key.empty()) bad("it is empty");
  if (key.front() == '/') bad("it must be relative");
  if (key.find('\\') != std::string_view::npos) bad("backslashes are not allowed");
  if (key.find('\0') != std::string_view::npos) bad("NUL is not allowed");
  size_t start = 0;
  while (start <= key.size()) {
    size_t end = key.find('/', start);
    if (end == std::string_view::npos) end = key.size();
    std::string_view segment = key.substr(start, end - start);
    if (segment.empty() && end != key.size()) bad("empty path segment");
    if (segment == "." || segment == "..") bad("'.' and '..' segments are not allowed");
    start = end + 1;
  }
}

namespace {

bool is_temp_name(const std::string& name) {
  return !name.empty() && name[0] == '.' && name.find(".tmp-") != std::string::npos;
}

class LocalStore final : public ObjectStore {
 public:
  explicit LocalStore(fs::path root) : root_(std::move(root)) {
    std::error_code ec;
    fs::create_directories(root_, ec);
    if (ec) {
      throw Error::Retryable(fmt::format("lake folder '{}' cannot be created: {}", root_.string(),
                                         ec.message()));
    }
  }

  bool put_if_absent(std::string_view key, std::string_view bytes) override {
    fs::path target = path_of(key);
    if (fs::exists(target)) return false;
    fs::path tmp = write_temp_file(target, bytes);
    int rc = ::link(tmp.c_str(), target.c_str());
    int err = errno;
    ::unlink(tmp.c_str());
    if (rc != 0) {
      if (err == EEXIST) return false;
      throw Error::Retryable(fmt::format("{}: link failed: {}", target.string(), std::strerror(err)));
    }
    fsync_dir(target.parent_path());
    return true;
  }

  void put(std::string_view key, std::string_view bytes) override {
    write_file_atomic(path_of(key), bytes);
  }

  std::string get(std::string_view key) const override {
    fs::path p = path_of(key);
    try {
      return read_file(p);
    } catch (const Error& e) {
      if (e.category() == ErrorCategory::kNotFound) {
        throw Error::NotFound(fmt::format("lake object '{}' does not exist", key));
      }
      throw;
    }
  }

  bool exists(std::string_view key) const override { return fs::exists(path_of(key)); }

  std::optional<uint64_t> size(std::string_view key) const override {
    std::error_code ec;
    auto n = fs::file_size(path_of(key), ec);
    if (ec) return std::nullopt;
    return n;
  }

  std::vector<std::string> list(std::string_view prefix) const override {
    std::vector<std::string> out;
    fs::path base = root_;
    if (!prefix.empty()) {
      std::string_view dir = prefix;
      if (dir.back() == '/') dir.remove_suffix(1);
      validate_key(dir);
      base = root_ / std::string(dir);
    }
    std::error_code ec;
    if (!fs::is_directory(base, ec)) return out;
    for (auto it = fs::recursive_directory_iterator(base, ec); !ec && it != fs::end(it);
         it.increment(ec)) {
      if (!it->is_regular_file()) continue;
      if (is_temp_name(it->path().filename().string())) continue;
      out.push_back(it->path().lexically_relative(root_).generic_string());
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  bool remove(std::string_view key) override {
    std::error_code ec;
    bool removed = fs::remove(path_of(key), ec);
    if (ec) {
      throw Error::Retryable(fmt::format("lake object '{}' cannot be removed: {}", key, ec.message()));
    }
    return removed;
  }

  std::string describe(std::string_view key) const override { return path_of(key).string(); }

  std::optional<fs::path> local_path(std::string_view key) const override { return path_of(key); }

 private:
  fs::path path_of(std::string_view key) const {
    validate_key(key);
    return root_ / std::string(key);
  }

  fs::path root_;
};

}  // namespace

std::unique_ptr<ObjectStore> open_local_store(const fs::path& root) {
  return std::make_unique<LocalStore>(fs::absolute(root).lexically_normal());
}

}  // namespace trib::lake
