#include "trib/core/fs.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstring>

#include <fmt/format.h>

#include "trib/core/error.hpp"

namespace trib {
namespace fs = std::filesystem;

std::string read_file(const fs::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) throw Error::NotFound(fmt::format("{}: no such file", path.string()));
    throw Error::Retryable(fmt::format("{}: cannot open: {}", path.string(), std::strerror(errno)));
  }
  std::string out;
  char buf[1 << 16];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      throw Error::Retryable(fmt::format("{}: read failed: {}", path.string(), std::strerror(err)));
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

void fsync_dir(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

namespace {

// The writer's pid in "<prefix><pid>-<n>" (prefix ".<name>.tmp-"), or -1 when `file` is not
// such a temp file.
long temp_file_pid(std::string_view file, std::string_view prefix) {
  if (file.substr(0, prefix.size()) != prefix) return -1;
  const std::string_view rest = file.substr(prefix.size());
  long pid = -1;
  auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), pid);
  if (ec != std::errc() || end == rest.data() || end == rest.data() + rest.size() || *end != '-' || pid <= 0) {
    return -1;
  }
  return pid;
}

}  // namespace

size_t remove_stale_temp_files(const fs::path& target) {
  const fs::path dir = target.parent_path();
  const std::string prefix = fmt::format(".{}.tmp-", target.filename().string());
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) return 0;  // no folder yet: nothing to sweep
  size_t removed = 0;
  for (const auto& entry : it) {
    const long pid = temp_file_pid(entry.path().filename().string(), prefix);
    if (pid < 0 || pid == static_cast<long>(::getpid())) continue;
    // ESRCH: no such process. EPERM means it exists (as another user): leave its file alone.
    if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;
    if (::unlink(entry.path().c_str()) == 0) ++removed;
  }
  return removed;
}

fs::path new_temp_path(const fs::path& target) {
  static std::atomic<uint64_t> counter{0};
  fs::path dir = target.parent_path();
  std::error_code ec;
  const bool created = fs::create_directories(dir, ec);
  if (ec) {
    throw Error::Retryable(fmt::format("{}: cannot create folder: {}", dir.string(), ec.message()));
  }
  // A writer killed mid-write (the retried task comes back to this same target) left its temp
  // file here; nothing else would ever remove it. A folder created just now holds none.
  if (!created) remove_stale_temp_files(target);
  return dir / fmt::format(".{}.tmp-{}-{}", target.filename().string(), ::getpid(),
                           counter.fetch_add(1));
}

fs::path write_temp_file(const fs::path& target, std::string_view bytes) {
  return write_temp_file(target, bytes, TempFileOptions{});
}

fs::path write_temp_file(const fs::path& target, std::string_view bytes,
                         const TempFileOptions& options) {
  fs::path tmp = new_temp_path(target);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    throw Error::Retryable(fmt::format("{}: cannot create: {}", tmp.string(), std::strerror(errno)));
  }
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      throw Error::Retryable(fmt::format("{}: write failed: {}", target.string(), std::strerror(err)));
    }
    done += static_cast<size_t>(n);
  }
  if (options.before_close) {
    try {
      options.before_close(fd);
    } catch (...) {
      ::close(fd);
      ::unlink(tmp.c_str());
      throw;
    }
  }
  if ((options.fsync && ::fsync(fd) != 0) || ::close(fd) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    throw Error::Retryable(fmt::format("{}: fsync failed: {}", target.string(), std::strerror(err)));
  }
  return tmp;
}

void write_file_atomic(const fs::path& path, std::string_view bytes) {
  fs::path tmp = write_temp_file(path, bytes);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    throw Error::Retryable(fmt::format("{}: rename failed: {}", path.string(), std::strerror(err)));
  }
  fsync_dir(path.parent_path());
}

}  // namespace trib
