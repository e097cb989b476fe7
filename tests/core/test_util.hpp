// Helpers shared by the unit tests.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "trib/core/error.hpp"

namespace trib::testing {

// A fresh folder under the system temp dir, removed when the object goes.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ =
        std::filesystem::temp_directory_path() / ("trib-test-" + std::to_string(::getpid()) +
                                                  "-" + std::to_string(counter.fetch_add(1)));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// ../shared/data beside the checkout, or $TRIB_SHARED_DATA (tests skip what is not there).
inline std::filesystem::path shared_data() {
  const char* env = std::getenv("TRIB_SHARED_DATA");
  return env != nullptr ? std::filesystem::path(env) : std::filesystem::path(TRIB_SOURCE_DIR) / "../shared/data";
}

inline std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline void spit(const std::filesystem::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Runs `f`, expecting a trib::Error of `category`; returns its message. Records a test failure
// when nothing or something else is thrown.
template <typename F>
std::string expect_error(F&& f, ErrorCategory category) {
  try {
    f();
  } catch (const Error& e) {
    EXPECT_EQ(to_string(e.category()), to_string(category)) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "expected an Error of category " << to_string(category);
  return "";
}

// The category of the trib::Error `f` throws; records a test failure (and answers kInternal)
// when it throws none.
template <typename F>
ErrorCategory category_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.category();
  }
  ADD_FAILURE() << "expected a trib::Error";
  return ErrorCategory::kInternal;
}

// Runs `body` in a child process, which exits with its return value (1 if it throws).
inline pid_t spawn(const std::function<int()>& body) {
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  int rc = 1;
  try {
    rc = body();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "child %d: %s\n", ::getpid(), e.what());
  }
  ::_exit(rc);
}

// Waits for child `pid`: its exit code, or 128 + the signal that killed it.
inline int exit_code_of(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace trib::testing
