// Workspace configuration: defaults, loading, round trip and errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_util.hpp"
#include "trib/core/config.hpp"
#include "trib/core/error.hpp"

namespace trib {
namespace {

namespace fs = std::filesystem;
using testing::expect_error;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::spit;
using testing::TempDir;

TEST(Config, Defaults) {
  TempDir dir;
  Config c = Config::defaults(dir.path());
  EXPECT_TRUE(c.workspace.is_absolute());
  EXPECT_EQ(c.lake.kind, "local");
  EXPECT_EQ(c.lake.path, c.workspace / "lake");
  EXPECT_EQ(c.catalog.kind, "sqlite");
  EXPECT_EQ(c.catalog.path, c.workspace / "catalog.db");
  EXPECT_EQ(c.queue.kind, "embedded");
  EXPECT_EQ(c.queue.visibility_timeout_s, 60);
  EXPECT_EQ(c.broker.kind, "paper");
  EXPECT_EQ(c.strategy.fast, 50);
  EXPECT_EQ(c.strategy.slow, 200);
}

TEST(Config, ToTomlRoundTrips) {
  TempDir dir;
  Config c = Config::defaults(dir.path());
  c.queue.max_attempts = 7;
  c.broker.commission_per_share = 0.0035;
  c.broker.initial_cash = 250'000;
  c.strategy.symbol = "SIM0001";
  c.strategy.fast = 10;
  c.strategy.slow = 30;
  c.risk.max_order_notional = 12'345.5;
  const std::string toml = c.to_toml();
  // Paths inside the workspace are written relative, so a workspace can be moved.
  EXPECT_THAT(toml, HasSubstr("path = \"lake\""));
  EXPECT_THAT(toml, Not(HasSubstr(dir.path().string())));
  spit(dir.path() / "trib.toml", toml);
  Config back = Config::load(dir.path());
  EXPECT_EQ(back.workspace, c.workspace);
  EXPECT_EQ(back.lake.path, c.lake.path);
  EXPECT_EQ(back.catalog.path, c.catalog.path);
  EXPECT_EQ(back.queue.max_attempts, 7);
  EXPECT_EQ(back.broker.commission_per_share, 0.0035);
  EXPECT_EQ(back.broker.initial_cash, 250'000);
  EXPECT_EQ(back.strategy.symbol, "SIM0001");
  EXPECT_EQ(back.strategy.fast, 10);
  EXPECT_EQ(back.strategy.slow, 30);
  EXPECT_EQ(back.risk.max_order_notional, 12'345.5);
  EXPECT_EQ(back.to_toml(), toml);
}

TEST(Config, LoadFillsMissingKeysWithDefaultsAndResolvesPaths) {
  TempDir dir;
  spit(dir.path() / "trib.toml",
       "[lake]\npath = \"data/lake\"\n[catalog]\npath = \"/tmp/elsewhere/cat.db\"\n"
       "[broker]\ninitial_cash = 5000\n");
  Config c = Config::load(dir.path());
  EXPECT_EQ(c.lake.path, c.workspace / "data/lake");
  EXPECT_EQ(c.catalog.path, fs::path("/tmp/elsewhere/cat.db"));
  EXPECT_EQ(c.broker.initial_cash, 5000);  // an integer where a float is expected is fine
  EXPECT_EQ(c.queue.name, "tasks");
  EXPECT_THAT(c.to_toml(), HasSubstr("path = \"/tmp/elsewhere/cat.db\""));
}

TEST(Config, MissingWorkspaceOrFileSaysToRunInit) {
  TempDir dir;
  std::string message =
      expect_error([&] { Config::load(dir.path() / "nowhere"); }, ErrorCategory::kNotFound);
  EXPECT_THAT(message, HasSubstr("does not exist"));
  EXPECT_THAT(message, HasSubstr("trib init"));
  message = expect_error([&] { Config::load(dir.path()); }, ErrorCategory::kNotFound);
  EXPECT_THAT(message, HasSubstr("trib.toml"));
  EXPECT_THAT(message, HasSubstr("trib init"));
  EXPECT_FALSE(fs::exists(dir.path() / "nowhere"));
}

TEST(Config, BadTypesAndValuesNameTheKey) {
  TempDir dir;
  struct Case {
    const char* toml;
    const char* in_message;
  };
  const Case cases[] = {
      {"[strategy]\nfast = \"ten\"\n", "[strategy] fast"},
      {"[queue]\nmax_attempts = 2.5\n", "[queue] max_attempts"},
      {"[broker]\ninitial_cash = \"lots\"\n", "[broker] initial_cash"},
      {"[lake]\npath = 3\n", "[lake] path"},
      {"[lake]\nkind = \"s3\"\n", "local"},
      {"[queue]\nvisibility_timeout_s = 0\n", "visibility_timeout_s"},
      {"[strategy]\nfast = 20\nslow = 10\n", "fast < slow"},
      {"[lake\nkind = 1\n", "trib.toml"},  // not TOML at all
  };
  for (const Case& c : cases) {
    spit(dir.path() / "trib.toml", c.toml);
    EXPECT_THAT(expect_error([&] { Config::load(dir.path()); }, ErrorCategory::kInvalidInput),
                HasSubstr(c.in_message))
        << c.toml;
  }
}

TEST(Config, CodeVersionIsStamped) { EXPECT_FALSE(code_version().empty()); }

}  // namespace
}  // namespace trib
