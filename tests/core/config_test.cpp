// Workspace configuration: defaults, loading, round trip and errors.
#include <string>
#include <string_view>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_util.hpp"
#include "trib/core/config.hpp"
#include "trib/core/fs.hpp"
#include "trib/core/error.hpp"

namespace trib {
namespace {

namespace fs = std::filesystem;
using testing::expect_error;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::spit;
using ::testing::StartsWith;
using testing::TempDir;

// Writes `toml` as the workspace's trib.toml and loads it.
Config load_text(const TempDir& dir, std::string_view toml) {
  spit(dir.path() / "trib.toml", toml);
  return Config::load(dir.path());
}

// Writes `toml`, expects load() to throw InvalidInput starting "trib.toml: ", returns the message.
std::string load_error(const TempDir& dir, std::string_view toml) {
  spit(dir.path() / "trib.toml", toml);
  std::string message =
      expect_error([&] { Config::load(dir.path()); }, ErrorCategory::kInvalidInput);
  EXPECT_THAT(message, StartsWith("trib.toml: ")) << toml;
  return message;
}

TEST(Config, Defaults) {
  TempDir dir;
  Config c = Config::defaults(dir.path());
  EXPECT_TRUE(c.workspace.is_absolute());
  EXPECT_EQ(c.lake.kind, "local");
  EXPECT_EQ(c.lake.path, c.workspace / "lake");
  EXPECT_EQ(c.catalog.kind, "sqlite");
  EXPECT_EQ(c.catalog.path, c.workspace / "catalog.db");
  EXPECT_EQ(c.queue.kind, "embedded");
  EXPECT_EQ(c.catalog.url, "");
  EXPECT_EQ(c.queue.visibility_timeout_s, 60);
  EXPECT_EQ(c.queue.max_attempts, 5);
  EXPECT_EQ(c.queue.url, "");
  EXPECT_EQ(c.hot_cache.sessions, 300);
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
  c.hot_cache.sessions = 0;
  c.prices.bar_precedence = "yahoo,csv";
  c.quality.jump_threshold = 0.25;
  c.quality.stale_sessions = 9;
  c.quality.max_volume = 2e9;
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
  EXPECT_EQ(back.hot_cache.sessions, 0);
  EXPECT_EQ(back, c);
  EXPECT_EQ(back.to_toml(), toml);
}

TEST(Config, LlmSectionRoundTripsAndRefusesBadValues) {
  TempDir dir;
  Config c = Config::defaults(dir.path());
  EXPECT_EQ(c.llm.kind, "none");  // the embedded default needs no model
  c.llm.kind = "azure";
  c.llm.url = "https://research.openai.azure.com";
  c.llm.model = "gpt4o-deploy";
  c.llm.auth = "bearer";
  c.llm.key_env = "MY_TOKEN";
  c.llm.max_tokens = 5000;
  c.llm.temperature = 0.25;
  c.llm.stream = false;
  spit(dir.path() / "trib.toml", c.to_toml());
  EXPECT_EQ(Config::load(dir.path()), c);
  EXPECT_THAT(load_error(dir, "[llm]\nkind = \"gpt\"\n"), HasSubstr("[llm] kind"));
  EXPECT_THAT(load_error(dir, "[llm]\nkind = \"openai\"\nurl = \"api.openai.com\"\n"),
              HasSubstr("[llm] url = 'api.openai.com' must be an http(s) URL"));
  EXPECT_THAT(load_error(dir, "[llm]\ntemperature = 3.0\n"), HasSubstr("temperature"));
  EXPECT_THAT(load_error(dir, "[llm]\nmax_tokens = 10\n"), HasSubstr("max_tokens"));
  EXPECT_THAT(load_error(dir, "[llm]\napi_key = \"sk-x\"\n"), HasSubstr("api_key"));  // keys live in the environment
}

TEST(Config, DefaultsWriteEverySectionAndNoUrl) {
  TempDir dir;
  Config c = Config::defaults(dir.path());
  const std::string toml = c.to_toml();
  for (const char* section :
       {"[lake]", "[catalog]", "[queue]", "[hot_cache]", "[broker]", "[risk]", "[strategy]"}) {
    EXPECT_THAT(toml, HasSubstr(section));
  }
  EXPECT_THAT(toml, HasSubstr("[hot_cache]\nsessions = 300\n"));
  EXPECT_THAT(toml, HasSubstr("initial_cash = 100000.00\n"));
  EXPECT_THAT(toml, Not(HasSubstr("url")));
  EXPECT_EQ(load_text(dir, toml), c);
}

TEST(Config, RoundTripsPostgresUrlsExactFloatsAndOddStrings) {
  TempDir dir;
  Config c = Config::defaults(dir.path());
  c.catalog.kind = "postgres";
  c.catalog.url = "postgresql://trib@127.0.0.1:5432/trib";
  c.queue.kind = "postgres";
  c.queue.url = "host=10.0.0.7 port=5433 dbname='trib queue' user=worker";
  c.queue.visibility_timeout_s = 604'800;
  c.queue.max_attempts = 100;
  c.hot_cache.sessions = 100'000;
  c.broker.initial_cash = 100'000.125;  // more decimals than the 2 written by default
  c.broker.commission_per_share = 0;
  c.broker.min_commission = 0.1 + 0.2;  // not exactly 0.3
  c.broker.slippage_bps = 9'999.5;
  c.risk.max_position_notional = 1e18;
  c.risk.max_order_notional = 1e-3;
  c.strategy.model = "quote\" back\\slash\ttab";
  c.strategy.symbol = "BRK.B";
  c.lake.path = "/srv/lake with space";
  const std::string toml = c.to_toml();
  EXPECT_THAT(toml, HasSubstr("[catalog]\nkind = \"postgres\"\npath = \"catalog.db\"\n"
                              "url = \"postgresql://trib@127.0.0.1:5432/trib\"\n"));
  Config back = load_text(dir, toml);
  EXPECT_EQ(back, c);
  EXPECT_EQ(back.strategy.model, c.strategy.model);
  EXPECT_EQ(back.broker.min_commission, 0.1 + 0.2);
  EXPECT_EQ(back.to_toml(), toml);
}

TEST(Config, TradingKeysLoadAndRoundTrip) {
  TempDir dir;
  const Config c = load_text(dir, "[broker]\naccount_type = \"margin\"\nallow_short = true\nborrow_bps = 75\nslippage_model = \"volume_share\"\n"
         "[risk]\nmax_gross_leverage = 2\nrestricted = \"GME,AMC\"\n"
         "[strategy]\nname = \"momentum\"\nuniverse = \"all\"\nlookback = 126\nskip = 5\ntop_k = 20\n");
  EXPECT_EQ(c.broker.account_type, "margin");
  EXPECT_TRUE(c.broker.allow_short);
  EXPECT_EQ(c.broker.borrow_bps, 75.0);
  EXPECT_EQ(c.broker.slippage_model, "volume_share");
  EXPECT_EQ(c.risk.max_gross_leverage, 2.0);
  EXPECT_EQ(c.risk.restricted, "GME,AMC");
  EXPECT_EQ(c.strategy.name, "momentum");
  EXPECT_EQ(c.strategy.universe, "all");
  EXPECT_EQ(c.strategy.lookback, 126);
  EXPECT_EQ(c.strategy.skip, 5);
  EXPECT_EQ(c.strategy.top_k, 20);
  EXPECT_EQ(load_text(dir, c.to_toml()), c);
}

TEST(Config, NewKeysLoad) {
  TempDir dir;
  Config c = load_text(dir,
                       "[catalog]\nkind = \"postgres\"\nurl = \"host=127.0.0.1 dbname=trib\"\n"
                       "[queue]\nkind = \"postgres\"\nurl = \"postgresql:///q?host=/run/pg\"\n"
                       "[hot_cache]\nsessions = 0\n");
  EXPECT_EQ(c.catalog.kind, "postgres");
  EXPECT_EQ(c.catalog.url, "host=127.0.0.1 dbname=trib");
  EXPECT_EQ(c.queue.kind, "postgres");
  EXPECT_EQ(c.queue.url, "postgresql:///q?host=/run/pg");
  EXPECT_EQ(c.hot_cache.sessions, 0);
  // A url beside a sqlite catalog or an embedded queue is kept (and unused).
  c = load_text(dir, "[catalog]\nurl = \"postgresql://trib@db/trib\"\n");
  EXPECT_EQ(c.catalog.kind, "sqlite");
  EXPECT_EQ(c.catalog.url, "postgresql://trib@db/trib");
  EXPECT_EQ(c.queue.url, "");
}

TEST(Config, PostgresQueueUrlDefaultsToTheCatalogs) {
  TempDir dir;
  const std::string catalog =
      "[catalog]\nkind = \"postgres\"\nurl = \"postgresql://trib@127.0.0.1:5432/trib\"\n";
  Config c = load_text(dir, catalog + "[queue]\nkind = \"postgres\"\n");
  EXPECT_EQ(c.queue.url, "postgresql://trib@127.0.0.1:5432/trib");
  EXPECT_EQ(load_text(dir, c.to_toml()), c);
  // Its own url wins.
  c = load_text(dir, catalog + "[queue]\nkind = \"postgres\"\nurl = \"dbname=q\"\n");
  EXPECT_EQ(c.queue.url, "dbname=q");
  // An embedded queue gets none.
  c = load_text(dir, catalog);
  EXPECT_EQ(c.queue.kind, "embedded");
  EXPECT_EQ(c.queue.url, "");
  // A postgres queue beside a sqlite catalog may name its own database...
  c = load_text(dir, "[queue]\nkind = \"postgres\"\nurl = \"dbname=q\"\n");
  EXPECT_EQ(c.catalog.kind, "sqlite");
  EXPECT_EQ(c.queue.url, "dbname=q");
  // ...but must.
  std::string message = load_error(dir, "[queue]\nkind = \"postgres\"\n");
  EXPECT_THAT(message, HasSubstr("[queue] kind = 'postgres' needs a url"));
  EXPECT_THAT(message, HasSubstr("postgresql://"));
  message = load_error(dir, "[queue]\nkind = \"postgres\"\nurl = \"\"\n");
  EXPECT_THAT(message, HasSubstr("[queue] kind = 'postgres' needs a url"));
  // A sqlite catalog's (unused) url is not borrowed: the queue would not share its database.
  message = load_error(dir,
                       "[catalog]\nkind = \"sqlite\"\nurl = \"dbname=trib\"\n"
                       "[queue]\nkind = \"postgres\"\n");
  EXPECT_THAT(message, HasSubstr("[queue] kind = 'postgres' needs a url when the catalog is not "
                                 "postgres"));
}

TEST(Config, PostgresCatalogNeedsAUrl) {
  TempDir dir;
  for (const char* toml :
       {"[catalog]\nkind = \"postgres\"\n", "[catalog]\nkind = \"postgres\"\nurl = \"\"\n"}) {
    std::string message = load_error(dir, toml);
    EXPECT_THAT(message, HasSubstr("[catalog] kind = 'postgres' needs a url"));
    EXPECT_THAT(message, HasSubstr("url = \"postgresql://trib@127.0.0.1:5432/trib\""));
    EXPECT_THAT(message, HasSubstr("PGPASSWORD"));
  }
}

TEST(Config, KindsComeFromTheAvailableList) {
  TempDir dir;
  EXPECT_THAT(load_error(dir, "[catalog]\nkind = \"mysql\"\n"),
              HasSubstr("[catalog] kind = 'mysql' is not available in this build; use one of: "
                        "sqlite, postgres"));
  EXPECT_THAT(load_error(dir, "[queue]\nkind = \"sqs\"\n"),
              HasSubstr("use one of: embedded, postgres, azure"));
  EXPECT_THAT(load_error(dir, "[lake]\nkind = \"postgres\"\n"), HasSubstr("use one of: local, azure"));
}

TEST(Config, AzureLakeAndQueueSettingsAreCheckedAndNeverHoldSecrets) {
  TempDir dir;
  EXPECT_THAT(load_error(dir, "[lake]\nkind = \"azure\"\n"), HasSubstr("[lake] kind = 'azure' needs a container"));
  EXPECT_THAT(load_error(dir, "[lake]\nkind = \"azure\"\ncontainer = \"lake\"\nendpoint = \"ftp://x\"\n"),
              HasSubstr("[lake] endpoint = 'ftp://x' must be an http(s) URL"));
  const std::string sas = load_error(
      dir, "[queue]\nkind = \"azure\"\nendpoint = \"https://a.queue.core.windows.net/?sv=2021&sig=abc\"\n");
  EXPECT_THAT(sas, HasSubstr("must not carry a query"));
  EXPECT_THAT(sas, HasSubstr("AZURE_STORAGE_SAS_TOKEN"));
  write_file_atomic(dir.path() / "trib.toml",
                    "[lake]\nkind = \"azure\"\naccount = \"acct\"\ncontainer = \"lake\"\nprefix = \"p\"\n"
                    "[queue]\nkind = \"azure\"\nname = \"tasks\"\n"
                    "[update]\nvendor = \"sim\"\nsymbols = \"5\"\nstart = \"2020-01-01\"\n");
  const Config c = Config::load(dir.path());
  EXPECT_EQ(c.lake.container, "lake");
  EXPECT_EQ(c.lake.prefix, "p");
  EXPECT_EQ(c.queue.kind, "azure");
  EXPECT_EQ(c.update.symbols, "5");
  // What to_toml writes loads back to the same configuration.
  write_file_atomic(dir.path() / "trib.toml", c.to_toml());
  EXPECT_EQ(Config::load(dir.path()), c);
  EXPECT_THAT(load_error(dir, "[update]\nstart = \"yesterday\"\n"), HasSubstr("[update] start = 'yesterday' is not a date"));
  EXPECT_THAT(load_error(dir, "[broker]\nkind = \"ibkr\"\n"), HasSubstr("use one of: paper, alpaca"));
  EXPECT_THAT(load_error(dir, "[broker]\nkind = \"alpaca\"\nurl = \"paper-api.alpaca.markets\"\n"),
              HasSubstr("[broker] url = 'paper-api.alpaca.markets' must be an http(s) URL"));
}

TEST(Config, PasswordInAUrlIsRefusedWithoutRepeatingIt) {
  TempDir dir;
  const char* urls[] = {
      "postgresql://trib:Hunter2Secret@127.0.0.1:5432/trib",
      "postgres://trib:Hunter2Secret@db.example.com/trib",
      "POSTGRESQL://trib:Hunter2Secret@db/trib",
      "postgresql://trib:Hunter2Secret@host1:5432,host2:5433/trib?sslmode=require",
      "postgresql://trib:Hunter2Secret@ss@db/trib",  // an unescaped '@' in the password
      "postgresql://trib:@db/trib",                  // an empty one is still a password field
      "postgresql://db/trib?sslmode=require&password=Hunter2Secret",
      "host=127.0.0.1 password=Hunter2Secret dbname=trib",
      "password=Hunter2Secret",
      "host=db user=trib password = 'Hunter2Secret with spaces'",
      "mysql://trib:Hunter2Secret@db/trib",
  };
  for (const char* section : {"catalog", "queue"}) {
    for (const char* kind :
         {"postgres", section == std::string("catalog") ? "sqlite" : "embedded"}) {
      for (const char* url : urls) {
        const std::string toml =
            fmt::format("[{}]\nkind = \"{}\"\nurl = \"{}\"\n", section, kind, url);
        std::string message = load_error(dir, toml);
        EXPECT_THAT(message, HasSubstr(fmt::format("[{}] url contains a password", section)))
            << toml;
        EXPECT_THAT(message, HasSubstr("PGPASSWORD")) << toml;
        EXPECT_THAT(message, HasSubstr("~/.pgpass")) << toml;
        EXPECT_THAT(message, Not(HasSubstr("Hunter2"))) << toml;
        EXPECT_THAT(message, Not(HasSubstr(url))) << toml;
      }
    }
  }
}

TEST(Config, UrlsWithoutAPasswordAreAccepted) {
  TempDir dir;
  for (const char* url : {
           "postgresql://trib@127.0.0.1:5432/trib",
           "postgres://127.0.0.1/trib",
           "postgresql://",
           "postgresql:///trib?host=/var/run/postgresql",
           "postgresql://trib@db/trib?sslmode=require&passfile=/home/trib/.pgpass",
           "postgresql://%5B%3A%3A1%5D@[::1]:5432/trib",
           "host=127.0.0.1 port=5432 dbname=trib user=trib",
           "host = db  dbname = 'a \\' b' passfile=/x",
       }) {
    const std::string toml = fmt::format("[catalog]\nkind = \"postgres\"\nurl = '''{}'''\n", url);
    EXPECT_EQ(load_text(dir, toml).catalog.url, url) << toml;
  }
}

TEST(Config, MalformedUrlSaysWhatIsExpectedWithoutRepeatingIt) {
  TempDir dir;
  for (const char* url :
       {"localhost", "mysql://trib@db/trib", "host=db dbname", "   ", "host='db unterminated"}) {
    const std::string toml = fmt::format("[catalog]\nkind = \"postgres\"\nurl = \"{}\"\n", url);
    std::string message = load_error(dir, toml);
    EXPECT_THAT(message, HasSubstr("[catalog] url is neither a postgresql:// URL nor key=value "
                                   "conninfo"))
        << toml;
    EXPECT_THAT(message, HasSubstr("postgresql://trib@127.0.0.1:5432/trib")) << toml;
  }
}

TEST(Config, UnknownKeyIsNamedWithTheSectionsKnownKeys) {
  TempDir dir;
  EXPECT_EQ(load_error(dir, "[queue]\nvisiblity_timeout_s = 30\n"),
            "trib.toml: [queue] visiblity_timeout_s is not a known key; known: kind, name, url, "
            "account, endpoint, visibility_timeout_s, max_attempts");
  EXPECT_EQ(load_error(dir, "[catalog]\nkind = \"sqlite\"\npassword = \"x\"\n"),
            "trib.toml: [catalog] password is not a known key; known: kind, path, url");
  EXPECT_EQ(load_error(dir, "[hot_cache]\nsession = 10\n"),
            "trib.toml: [hot_cache] session is not a known key; known: sessions");
  EXPECT_THAT(load_error(dir, "[broker]\ncommission = 0.01\n"),
              HasSubstr("known: kind, url, initial_cash, commission_per_share, min_commission, "
                        "max_commission_pct"));
  EXPECT_THAT(load_error(dir, "[risk]\nmax_notional = 1\n"),
              HasSubstr("known: max_position_notional, max_order_notional"));
  EXPECT_THAT(load_error(dir, "[strategy]\nfast = 5\nslow = 9\nmedium = 7\n"),
              HasSubstr("[strategy] medium is not a known key; known: name, symbol, universe, benchmark, fast, slow"));
  EXPECT_THAT(load_error(dir, "[lake]\nbucket = \"b\"\n"),
              HasSubstr("[lake] bucket is not a known key; known: kind, path"));
  // A sub-table is a key of its section too.
  EXPECT_THAT(load_error(dir, "[queue.retry]\nbackoff = 2\n"),
              HasSubstr("[queue] retry is not a known key"));
}

TEST(Config, UnknownSectionIsNamedWithTheKnownSections) {
  TempDir dir;
  EXPECT_EQ(load_error(dir, "[queues]\nname = \"x\"\n"),
            "trib.toml: [queues] is not a known section; known: lake, catalog, queue, hot_cache, "
            "broker, risk, strategy, update, prices, quality, llm, vendors");
  EXPECT_THAT(load_error(dir, "[hotcache]\nsessions = 3\n"),
              HasSubstr("[hotcache] is not a known section"));
  // A key outside any section.
  EXPECT_EQ(load_error(dir, "sessions = 3\n[hot_cache]\n"),
            "trib.toml: sessions is outside any section and not a known section; known sections: "
            "lake, catalog, queue, hot_cache, broker, risk, strategy, update, prices, quality, llm, vendors");
  // A known section that is not a table.
  EXPECT_THAT(load_error(dir, "queue = \"tasks\"\n"),
              HasSubstr("[queue] must be a table, found a string"));
  EXPECT_THAT(load_error(dir, "[[risk]]\nmax_order_notional = 1\n"),
              HasSubstr("[risk] must be a table, found an array"));
}

TEST(Config, WrongTypeNamesTheKeyTheExpectedAndTheFoundType) {
  TempDir dir;
  struct Case {
    const char* toml;
    const char* message;
  };
  const Case cases[] = {
      {"[queue]\nmax_attempts = 2.5\n",
       "trib.toml: [queue] max_attempts must be an integer, found a float (2.5)"},
      {"[queue]\nmax_attempts = 3.0\n",  // whole, but still a float
       "trib.toml: [queue] max_attempts must be an integer, found a float (3.0)"},
      {"[queue]\nvisibility_timeout_s = \"60\"\n",
       "trib.toml: [queue] visibility_timeout_s must be an integer, found a string"},
      {"[hot_cache]\nsessions = true\n",
       "trib.toml: [hot_cache] sessions must be an integer, found a boolean (true)"},
      {"[broker]\ninitial_cash = \"lots\"\n",
       "trib.toml: [broker] initial_cash must be a number, found a string"},
      {"[risk]\nmax_order_notional = [1, 2]\n",
       "trib.toml: [risk] max_order_notional must be a number, found an array"},
      {"[catalog]\nurl = 5432\n",
       "trib.toml: [catalog] url must be a string, found an integer (5432)"},
      {"[queue]\nurl = { host = \"db\" }\n",
       "trib.toml: [queue] url must be a string, found a table"},
      {"[lake]\npath = 3\n", "trib.toml: [lake] path must be a string, found an integer (3)"},
      {"[strategy]\nsymbol = 2024-01-02\n",
       "trib.toml: [strategy] symbol must be a string, found a date"},
      {"[catalog]\nkind = false\n",
       "trib.toml: [catalog] kind must be a string, found a boolean (false)"},
  };
  for (const Case& c : cases) EXPECT_EQ(load_error(dir, c.toml), c.message) << c.toml;
  // An integer where a float is expected is fine.
  Config c = load_text(dir,
                       "[broker]\ncommission_per_share = 0\nmin_commission = 2\nslippage_bps = 0\n"
                       "[risk]\nmax_position_notional = 1000\nmax_order_notional = 500\n");
  EXPECT_EQ(c.broker.commission_per_share, 0.0);
  EXPECT_EQ(c.broker.min_commission, 2.0);
  EXPECT_EQ(c.broker.slippage_bps, 0.0);
  EXPECT_EQ(c.risk.max_position_notional, 1000.0);
  EXPECT_EQ(c.risk.max_order_notional, 500.0);
}

TEST(Config, OutOfRangeNamesTheKeyTheValueAndTheRange) {
  TempDir dir;
  struct Case {
    const char* toml;
    const char* message;
  };
  const Case cases[] = {
      {"[broker]\ninitial_cash = 0\n", "[broker] initial_cash = 0 is out of range; allowed: > 0"},
      {"[broker]\ninitial_cash = -5.5\n",
       "[broker] initial_cash = -5.5 is out of range; allowed: > 0"},
      {"[broker]\ncommission_per_share = -0.001\n",
       "[broker] commission_per_share = -0.001 is out of range; allowed: >= 0"},
      {"[broker]\nmin_commission = -1\n",
       "[broker] min_commission = -1 is out of range; allowed: >= 0"},
      {"[broker]\nslippage_bps = -0.5\n",
       "[broker] slippage_bps = -0.5 is out of range; allowed: [0, 10000)"},
      {"[broker]\nslippage_bps = 10000\n",
       "[broker] slippage_bps = 10000 is out of range; allowed: [0, 10000)"},
      {"[risk]\nmax_position_notional = 0\n",
       "[risk] max_position_notional = 0 is out of range; allowed: > 0"},
      {"[broker]\nvolume_participation = 0\n",
       "[broker] volume_participation = 0 is out of range; allowed: (0, 1]"},
      {"[risk]\nmax_position_weight = 11\n",
       "[risk] max_position_weight = 11 is out of range; allowed: (0, 10]"},
      {"[risk]\nmax_gross_leverage = 2\n",
       "[risk] max_gross_leverage = 2 needs [broker] account_type = 'margin' (a cash account cannot hold more than its equity)"},
      {"[broker]\nallow_short = true\n",
       "[broker] allow_short = true needs account_type = 'margin' (a cash account cannot borrow shares)"},
      {"[broker]\nslippage_model = \"sqrt\"\n",
       "[broker] slippage_model = 'sqrt' is not known; use one of: bps, volume_share"},
      {"[strategy]\nname = \"magic\"\n",
       "[strategy] name = 'magic' is not known; use one of: sma_cross, momentum, topk_dropout, buy_and_hold"},
      {"[strategy]\nlookback = 20\nskip = 20\n",
       "[strategy] skip = 20 is out of range; needs 0 <= skip < lookback (lookback = 20)"},
      {"[strategy]\ntop_k = 3\ndrop_n = 4\n",
       "[strategy] drop_n = 4 is out of range; needs 0 <= drop_n <= top_k (top_k = 3)"},
      {"[risk]\nmax_orders_per_day = 0\n",
       "[risk] max_orders_per_day = 0 is out of range; allowed: [1, 1000000000]"},
      {"[risk]\nmax_position_notional = -100\n",
       "[risk] max_position_notional = -100 is out of range; allowed: > 0"},
      {"[risk]\nmax_order_notional = 0.0\n",
       "[risk] max_order_notional = 0 is out of range; allowed: > 0"},
      {"[quality]\njump_threshold = 0\n",
       "[quality] jump_threshold = 0 is out of range; allowed: > 0"},
      {"[quality]\nstale_sessions = 1\n",
       "[quality] stale_sessions = 1 is out of range; allowed: [2, 10000]"},
      {"[risk]\nmax_order_notional = -1\n",
       "[risk] max_order_notional = -1 is out of range; allowed: > 0"},
      {"[queue]\nvisibility_timeout_s = 0\n",
       "[queue] visibility_timeout_s = 0 is out of range; allowed: [1, 604800]"},
      {"[queue]\nvisibility_timeout_s = 604801\n",
       "[queue] visibility_timeout_s = 604801 is out of range; allowed: [1, 604800]"},
      {"[queue]\nvisibility_timeout_s = 9999999999\n",  // beyond int: no silent wrap
       "[queue] visibility_timeout_s = 9999999999 is out of range; allowed: [1, 604800]"},
      {"[queue]\nmax_attempts = 0\n",
       "[queue] max_attempts = 0 is out of range; allowed: [1, 100]"},
      {"[queue]\nmax_attempts = 101\n",
       "[queue] max_attempts = 101 is out of range; allowed: [1, 100]"},
      {"[hot_cache]\nsessions = -1\n",
       "[hot_cache] sessions = -1 is out of range; allowed: [0, 100000]"},
      {"[hot_cache]\nsessions = 100001\n",
       "[hot_cache] sessions = 100001 is out of range; allowed: [0, 100000]"},
      {"[strategy]\nfast = 0\nslow = 10\n",
       "[strategy] fast = 0 is out of range; needs 1 <= fast < slow"},
      {"[strategy]\nfast = -3\n", "[strategy] fast = -3 is out of range; needs 1 <= fast < slow"},
      {"[strategy]\nfast = 20\nslow = 20\n",
       "[strategy] slow = 20 is out of range; needs 1 <= fast < slow (fast = 20)"},
      {"[strategy]\nfast = 20\nslow = 10\n",
       "[strategy] slow = 10 is out of range; needs 1 <= fast < slow (fast = 20)"},
      {"[strategy]\nslow = 3000000000\n",
       "[strategy] slow = 3000000000 is out of range; allowed: [-2147483648, 2147483647]"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(load_error(dir, c.toml), std::string("trib.toml: ") + c.message) << c.toml;
  }
  // The edges that are in range load.
  Config c = load_text(dir,
                       "[queue]\nvisibility_timeout_s = 1\nmax_attempts = 100\n"
                       "[hot_cache]\nsessions = 100000\n"
                       "[broker]\ninitial_cash = 0.01\ncommission_per_share = 0\n"
                       "min_commission = 0\nslippage_bps = 9999.99\n"
                       "[risk]\nmax_position_notional = 0.01\nmax_order_notional = 0.01\n"
                       "[strategy]\nfast = 1\nslow = 2\n");
  EXPECT_EQ(c.queue.visibility_timeout_s, 1);
  EXPECT_EQ(c.queue.max_attempts, 100);
  EXPECT_EQ(c.hot_cache.sessions, 100'000);
  EXPECT_EQ(c.broker.slippage_bps, 9999.99);
  EXPECT_EQ(c.strategy.fast, 1);
  EXPECT_EQ(c.strategy.slow, 2);
  c = load_text(dir,
                "[queue]\nvisibility_timeout_s = 604800\nmax_attempts = 1\n"
                "[hot_cache]\nsessions = 0\n");
  EXPECT_EQ(c.queue.visibility_timeout_s, 604'800);
  EXPECT_EQ(c.queue.max_attempts, 1);
  EXPECT_EQ(c.hot_cache.sessions, 0);
}

TEST(Config, NonFiniteFloatsAreRefusedEverywhere) {
  TempDir dir;
  const char* keys[][2] = {
      {"broker", "initial_cash"},        {"broker", "commission_per_share"},
      {"broker", "min_commission"},      {"broker", "slippage_bps"},
      {"risk", "max_position_notional"}, {"risk", "max_order_notional"},
  };
  for (const auto& [section, key] : keys) {
    for (const char* value : {"nan", "+nan", "-nan", "inf", "+inf", "-inf"}) {
      const std::string toml = fmt::format("[{}]\n{} = {}\n", section, key, value);
      std::string message = load_error(dir, toml);
      EXPECT_THAT(message, HasSubstr(fmt::format("[{}] {} = ", section, key))) << toml;
      EXPECT_THAT(message, HasSubstr("is not a finite number")) << toml;
    }
  }
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

namespace trib {
namespace {

TEST(Config, VendorSectionsRoundTripAndAreChecked) {
  TempDir dir;
  Config c = Config::defaults(dir.path());
  VendorConfig alpaca;
  alpaca.requests_per_minute = 1000;
  alpaca.requests_per_day = 0;  // no daily cap
  alpaca.burst = 20;
  alpaca.base_url = "http://127.0.0.1:8080/alpaca";
  alpaca.options["feed"] = "sip";
  c.vendors["alpaca"] = alpaca;
  VendorConfig yahoo;
  yahoo.publish_delay_minutes = 90;
  c.vendors["yahoo"] = yahoo;
  const std::string toml = c.to_toml();
  EXPECT_THAT(toml, HasSubstr("[vendors.alpaca]\n"));
  const Config back = load_text(dir, toml);
  EXPECT_EQ(back, c);
  EXPECT_EQ(back.vendors.at("alpaca").requests_per_hour, -1);  // left out: the vendor's default
  EXPECT_EQ(back.vendors.at("yahoo").publish_delay_minutes, 90);

  EXPECT_THAT(load_error(dir, "[vendors.alpaca]\nrequests_per_minute = -5\n"),
              HasSubstr("[vendors.alpaca] requests_per_minute = -5 is out of range"));
  EXPECT_THAT(load_error(dir, "[vendors.alpaca]\nrate = 5\n"),
              HasSubstr("[vendors.alpaca] rate is not a known key; known: requests_per_minute"));
  EXPECT_THAT(load_error(dir, "[vendors]\nalpaca = 5\n"), HasSubstr("vendors.alpaca must be a table"));
  EXPECT_THAT(load_error(dir, "[vendors.alpaca]\nbase_url = \"data.alpaca.markets\"\n"),
              HasSubstr("absolute http(s) URL"));
  EXPECT_THAT(load_error(dir, "[vendors.alpaca]\nburst = 0\n"), HasSubstr("burst = 0 is out of range"));
}

}  // namespace
}  // namespace trib
