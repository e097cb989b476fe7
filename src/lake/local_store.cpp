// ObjectStore over a local folder. Atomicity comes from the file system: every write goes to a
// temp file in the target folder (named ".<name>.tmp-*", never listed), is fsynced (unless the
// write is Durability::kDeferred, see sync()), and then is renamed over (put, put_if kAlways and
// kMatch) or hard-linked into (put_if_absent, put_if kAbsent: link fails if the target exists)
// its key. copy() hard-links the source to a temp name and renames that over the target, so no
// bytes are copied. Nothing ever writes into a published file: a file at a key is immutable, and
// replacing the key always puts a different file (inode) there.
//
// ETags. A key's ETag is "<device>-<inode>-<size>-<mtime ns>" of its file, in hex: one stat, no
// hashing. Replacing a key puts a new inode there. The temp file of the new object is created
// while the old one still exists, so the two inodes differ; an inode number can come back only
// after its file is gone (remove, or a later replacement), and for that case every file this store
// writes gets its modification time stamped, after it was created, with a clock value in ns that
// is unique in this process (strictly increasing): a recycled inode is created after the old file
// was freed, so its stamp is later than the old one's. So the ETag changes on every replacement,
// even by identical bytes, and stays put otherwise (a hard link, i.e. being copy()'s source,
// changes only the ctime). The one case where it may not change is copy() of an unchanged source
// onto a key that already holds a link to that very file: the bytes are the same object, so a
// kMatch against the old ETag is still sound. This relies on the file system keeping mtimes in
// ns (ext4 with 256-byte inodes, xfs, btrfs, tmpfs); on a coarser one a removed-and-rewritten key
// could get its old ETag back only if the same inode, size and timestamp all came back.
//
// Conditional writes. kAbsent needs no lock: link() is atomic and fails when the key exists. A
// kMatch is a check (stat, compare ETags) followed by a rename, so everything that can replace or
// remove an existing object (put, put_if kAlways and kMatch, copy, remove) does it holding an
// exclusive flock(2) on the key's lock file; a kMatch therefore sees no change between its check
// and its rename, and two kMatch writers of one ETag serialize: the second sees the first's new
// ETag and fails. (put_if_absent and kAbsent can only create a key, never replace one, so they
// cannot break a kMatch's check.) flock locks belong to an open file description, and every
// locking call opens the lock file afresh, so the lock excludes the other threads of this process
// as well as other processes; the kernel drops it if the holder dies. The lock files are
// "<root>/.locks/<nnn>", a fixed set of 256 selected by a stable hash (FNV-1a) of the key:
// unrelated keys may share one (they only serialize for the length of a stat and a rename; the
// bytes are written before the lock is taken), but no lock file is created per object, none is
// ever removed (so there is no unlink-while-locked race) and none lives beside the data. Like the
// temp files, they are never listed: listings skip every name that starts with '.', folders
// included. The scheme assumes every writer of the folder is on one machine (flock is not
// reliable over network file systems), which is what the local store is for.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>

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
    if (!segment.empty() && segment.front() == '.') {
      bad("a segment starting with '.' is reserved for the store's temp and lock files");
    }
    start = end + 1;
  }
}

namespace {

constexpr uint64_t kLockStripes = 256;
constexpr const char* kLockFolder = ".locks";

[[noreturn]] void io_error(std::string_view what, const fs::path& path, int err) {
  throw Error::Retryable(fmt::format("{}: {} failed: {}", path.string(), what, std::strerror(err)));
}

int64_t mtime_ns(const struct stat& st) {
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

std::string etag_of(const struct stat& st) {
  return fmt::format("{:x}-{:x}-{:x}-{:x}", static_cast<uint64_t>(st.st_dev),
                     static_cast<uint64_t>(st.st_ino), static_cast<uint64_t>(st.st_size),
                     static_cast<uint64_t>(mtime_ns(st)));
}

// stat(2) of a regular file; nullopt when nothing (or not a regular file) is there.
std::optional<struct stat> stat_file(const fs::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return std::nullopt;
    io_error("stat", path, errno);
  }
  if (!S_ISREG(st.st_mode)) return std::nullopt;
  return st;
}

// A modification time for a file just created: the real-time clock in ns, strictly increasing
// within this process (see the ETag notes above).
struct timespec unique_stamp() {
  static std::atomic<int64_t> last{0};
  struct timespec now {};
  ::clock_gettime(CLOCK_REALTIME, &now);
  int64_t want = static_cast<int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
  int64_t prev = last.load();
  int64_t stamp = 0;
  do {
    stamp = std::max(want, prev + 1);
  } while (!last.compare_exchange_weak(prev, stamp));
  return {static_cast<time_t>(stamp / 1'000'000'000), static_cast<long>(stamp % 1'000'000'000)};
}

TempFileOptions temp_options(Durability durability) {
  TempFileOptions options;
  options.fsync = durability == Durability::kSync;
  options.before_close = [](int fd) {
    struct timespec times[2];
    times[0].tv_sec = 0;
    times[0].tv_nsec = UTIME_OMIT;  // atime: leave it
    times[1] = unique_stamp();
    if (::futimens(fd, times) != 0) {
      throw Error::Retryable(fmt::format("futimens failed: {}", std::strerror(errno)));
    }
  };
  return options;
}

void fsync_path(const fs::path& path, bool directory) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | (directory ? O_DIRECTORY : 0));
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return;  // gone since: nothing to make durable
    io_error("open", path, errno);
  }
  if (::fsync(fd) != 0) {
    int err = errno;
    ::close(fd);
    io_error("fsync", path, err);
  }
  ::close(fd);
}

// Removes a temp file when it goes out of scope (a no-op once it was renamed away).
class TempFile {
 public:
  explicit TempFile(fs::path path) : path_(std::move(path)) {}
  ~TempFile() { ::unlink(path_.c_str()); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

uint64_t fnv1a(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

// An exclusive flock on the lock file of a key, held for the object's lifetime (see above).
class KeyLock {
 public:
  KeyLock(const fs::path& root, std::string_view key) {
    const fs::path dir = root / kLockFolder;
    const fs::path file = dir / fmt::format("{:03}", fnv1a(key) % kLockStripes);
    fd_ = ::open(file.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0 && errno == ENOENT) {
      std::error_code ec;
      fs::create_directories(dir, ec);
      fd_ = ::open(file.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0644);
    }
    if (fd_ < 0) io_error("open lock file", file, errno);
    while (::flock(fd_, LOCK_EX) != 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd_);
      io_error("flock", file, err);
    }
  }
  ~KeyLock() { ::close(fd_); }  // releases the lock
  KeyLock(const KeyLock&) = delete;
  KeyLock& operator=(const KeyLock&) = delete;

 private:
  int fd_ = -1;
};

// From this many keys on, sync() flushes the whole file system once instead of each file.
constexpr size_t kSyncfsThreshold = 16;

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

  bool put_if_absent(std::string_view key, std::string_view bytes,
                     Durability durability) override {
    return put_if(key, bytes, WriteCondition::absent(), durability).has_value();
  }

  void put(std::string_view key, std::string_view bytes, Durability durability) override {
    put_if(key, bytes, WriteCondition::always(), durability);
  }

  std::optional<std::string> put_if(std::string_view key, std::string_view bytes,
                                    const WriteCondition& condition,
                                    Durability durability) override {
    const fs::path target = path_of(key);
    if (condition.when == WriteIf::kMatch && condition.etag.empty()) {
      throw Error::InvalidInput(
          fmt::format("conditional write of '{}': WriteIf::kMatch needs an etag", key));
    }
    // Cheap early answers; the authoritative check comes after the bytes are written.
    if (condition.when == WriteIf::kAbsent && fs::exists(target)) return std::nullopt;
    if (condition.when == WriteIf::kMatch) {
      auto st = stat_file(target);
      if (!st || etag_of(*st) != condition.etag) return std::nullopt;
    }

    TempFile tmp(write_temp_file(target, bytes, temp_options(durability)));
    auto written = stat_file(tmp.path());
    if (!written) io_error("stat", tmp.path(), ENOENT);
    std::string etag = etag_of(*written);

    if (condition.when == WriteIf::kAbsent) {
      if (::link(tmp.path().c_str(), target.c_str()) != 0) {
        if (errno == EEXIST) return std::nullopt;
        io_error("link", target, errno);
      }
    } else {
      KeyLock lock(root_, key);
      if (condition.when == WriteIf::kMatch) {
        auto st = stat_file(target);
        if (!st || etag_of(*st) != condition.etag) return std::nullopt;
      }
      if (::rename(tmp.path().c_str(), target.c_str()) != 0) io_error("rename", target, errno);
    }
    if (durability == Durability::kSync) fsync_dir(target.parent_path());
    return etag;
  }

  std::string get(std::string_view key) const override {
    fs::path p = path_of(key);
    try {
      return read_file(p);
    } catch (const Error& e) {
      if (e.category() == ErrorCategory::kNotFound) throw not_found(key);
      throw;
    }
  }

  std::optional<ObjectInfo> head(std::string_view key) const override {
    auto st = stat_file(path_of(key));
    if (!st) return std::nullopt;
    return ObjectInfo{std::string(key), static_cast<uint64_t>(st->st_size), etag_of(*st)};
  }

  std::string get_range(std::string_view key, uint64_t offset, uint64_t length) const override {
    const fs::path p = path_of(key);
    int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT || errno == ENOTDIR) throw not_found(key);
      io_error("open", p, errno);
    }
    struct Closer {
      int fd;
      ~Closer() { ::close(fd); }
    } closer{fd};
    struct stat st {};
    if (::fstat(fd, &st) != 0) io_error("fstat", p, errno);
    if (!S_ISREG(st.st_mode)) throw not_found(key);
    const uint64_t size = static_cast<uint64_t>(st.st_size);
    if (offset > size) {
      throw Error::InvalidInput(
          fmt::format("range read of lake object '{}': offset {} is past its end ({} bytes)", key,
                      offset, size));
    }
    // The file behind fd never changes (writers replace, never modify), so size holds.
    std::string out(static_cast<size_t>(std::min(length, size - offset)), '\0');
    size_t done = 0;
    while (done < out.size()) {
      ssize_t n = ::pread(fd, out.data() + done, out.size() - done,
                          static_cast<off_t>(offset + done));
      if (n < 0) {
        if (errno == EINTR) continue;
        io_error("read", p, errno);
      }
      if (n == 0) break;  // changed outside the store: return what is there
      done += static_cast<size_t>(n);
    }
    out.resize(done);
    return out;
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
    walk(prefix, [&](const fs::path& path, std::string key) {
      (void)path;
      out.push_back(std::move(key));
    });
    std::sort(out.begin(), out.end());
    return out;
  }

  std::vector<ObjectInfo> list_info(std::string_view prefix) const override {
    std::vector<ObjectInfo> out;
    walk(prefix, [&](const fs::path& path, std::string key) {
      auto st = stat_file(path);
      if (!st) return;  // removed since the folder was read
      out.push_back({std::move(key), static_cast<uint64_t>(st->st_size), etag_of(*st)});
    });
    std::sort(out.begin(), out.end(),
              [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
    return out;
  }

  std::string copy(std::string_view from, std::string_view to, Durability durability) override {
    const fs::path source = path_of(from);
    const fs::path target = path_of(to);
    if (!stat_file(source)) throw not_found(from);
    TempFile tmp(new_temp_path(target));
    if (::link(source.c_str(), tmp.path().c_str()) != 0) {
      if (errno == ENOENT) throw not_found(from);  // removed since the stat
      io_error(fmt::format("link from {}", source.string()), tmp.path(), errno);
    }
    auto st = stat_file(tmp.path());
    if (!st) io_error("stat", tmp.path(), ENOENT);
    if (durability == Durability::kSync) fsync_path(tmp.path(), false);  // a deferred source
    {
      KeyLock lock(root_, to);
      // When the target already is a link to the same file, rename() does nothing and leaves
      // the temp name behind; TempFile removes it.
      if (::rename(tmp.path().c_str(), target.c_str()) != 0) io_error("rename", target, errno);
    }
    if (durability == Durability::kSync) fsync_dir(target.parent_path());
    return etag_of(*st);
  }

  void sync(const std::vector<std::string>& keys) override {
    std::set<fs::path> files;
    for (const auto& key : keys) files.insert(path_of(key));  // refuse bad keys before any I/O
    if (files.size() >= kSyncfsThreshold) {
      // A group commit of many files (an ingest touching thousands of partitions): one syncfs()
      // makes every file, folder and new folder entry of the file system durable at once, where
      // one fsync per file and folder would cost thousands of journal commits.
      const int fd = ::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (fd < 0) {
        throw Error::Retryable(fmt::format("lake folder '{}' cannot be opened to sync: {}",
                                           root_.string(), std::strerror(errno)));
      }
      const int rc = ::syncfs(fd);
      const int err = errno;
      ::close(fd);
      if (rc != 0) {
        throw Error::Retryable(fmt::format("lake folder '{}': syncfs failed: {}", root_.string(),
                                           std::strerror(err)));
      }
      return;
    }
    std::set<fs::path> folders;
    for (const auto& file : files) {
      fsync_path(file, false);
      folders.insert(file.parent_path());
    }
    for (const auto& folder : folders) fsync_path(folder, true);
  }

  bool remove(std::string_view key) override {
    const fs::path p = path_of(key);
    KeyLock lock(root_, key);
    std::error_code ec;
    bool removed = fs::remove(p, ec);
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

  static Error not_found(std::string_view key) {
    return Error::NotFound(fmt::format("lake object '{}' does not exist", key));
  }

  // Calls visit(path, key) for every regular file under `prefix` whose name, and every folder
  // on the way to it, does not start with '.' (temp files, lock files).
  template <typename Visit>
  void walk(std::string_view prefix, Visit&& visit) const {
    fs::path base = root_;
    if (!prefix.empty()) {
      std::string_view dir = prefix;
      if (dir.back() == '/') dir.remove_suffix(1);
      validate_key(dir);
      // A folder of the store's own (".locks/") holds nothing to list either.
      if (dir.front() == '.' || dir.find("/.") != std::string_view::npos) return;
      base = root_ / std::string(dir);
    }
    std::error_code ec;
    if (!fs::is_directory(base, ec)) return;
    for (auto it = fs::recursive_directory_iterator(base, ec); !ec && it != fs::end(it);
         it.increment(ec)) {
      const std::string name = it->path().filename().string();
      if (!name.empty() && name[0] == '.') {
        it.disable_recursion_pending();
        continue;
      }
      std::error_code type_ec;
      if (!it->is_regular_file(type_ec)) continue;
      visit(it->path(), it->path().lexically_relative(root_).generic_string());
    }
  }

  fs::path root_;
};

}  // namespace

std::unique_ptr<ObjectStore> open_local_store(const fs::path& root) {
  return std::make_unique<LocalStore>(fs::absolute(root).lexically_normal());
}

}  // namespace trib::lake
