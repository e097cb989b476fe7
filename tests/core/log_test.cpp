// Log redaction: secrets never reach a log line.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_util.hpp"
#include "trib/core/log.hpp"

namespace trib {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(LogRedact, QueryParameters) {
  std::string out =
      log::redact("GET https://www.alphavantage.co/query?symbol=IBM&apikey=SECRET123&x=1");
  EXPECT_THAT(out, Not(HasSubstr("SECRET123")));
  EXPECT_THAT(out, HasSubstr("symbol=IBM"));
  EXPECT_THAT(out, HasSubstr("&x=1"));
  EXPECT_THAT(log::redact("url?api_key=abcd1234"), Not(HasSubstr("abcd1234")));
  EXPECT_THAT(log::redact("url?APIKEY=Abcd1234"), Not(HasSubstr("Abcd1234")));
  EXPECT_THAT(log::redact("password=hunter22 user=bob"), Not(HasSubstr("hunter22")));
  EXPECT_THAT(log::redact("password=hunter22 user=bob"), HasSubstr("user=bob"));
  EXPECT_THAT(log::redact("sig=deadbeef&sv=2021"), Not(HasSubstr("deadbeef")));
}

TEST(LogRedact, JsonFields) {
  std::string out = log::redact(R"({"token": "x9y8z7", "symbol": "AAPL"})");
  EXPECT_THAT(out, Not(HasSubstr("x9y8z7")));
  EXPECT_THAT(out, HasSubstr(R"("symbol": "AAPL")"));
  EXPECT_THAT(log::redact(R"({"token":"x"})"), Not(HasSubstr(R"("x")")));
  EXPECT_THAT(log::redact(R"({"client_secret":"s3cr3t"})"), Not(HasSubstr("s3cr3t")));
}

TEST(LogRedact, AuthorizationHeaders) {
  std::string out = log::redact("Authorization: Bearer abc.def-ghi");
  EXPECT_THAT(out, Not(HasSubstr("abc")));
  EXPECT_THAT(out, HasSubstr("Authorization"));
  EXPECT_THAT(log::redact("authorization: Basic dXNlcjpwYXNz"), Not(HasSubstr("dXNlcjpwYXNz")));
  EXPECT_THAT(log::redact("APCA-API-SECRET-KEY: zzzz9999"), Not(HasSubstr("zzzz9999")));
}

TEST(LogRedact, RegisteredSecretsAnywhere) {
  log::register_secret("PK7REGISTERED42");
  std::string out = log::redact("vendor said: bad key PK7REGISTERED42 (twice: PK7REGISTERED42)");
  EXPECT_THAT(out, Not(HasSubstr("PK7REGISTERED42")));
  EXPECT_THAT(out, HasSubstr("vendor said: bad key"));
  // Too short to register safely: ignored rather than masking every "ab" in every line.
  log::register_secret("ab");
  EXPECT_EQ(log::redact("about abc"), "about abc");
}

TEST(LogRedact, LeavesOrdinaryTextAlone) {
  const std::string text = "fetched 252 bars of AAPL 2019-01-02..2019-12-31 in 0.4 s";
  EXPECT_EQ(log::redact(text), text);
}

TEST(LogLevel, Parse) {
  EXPECT_EQ(log::parse_level("debug"), log::Level::kDebug);
  EXPECT_EQ(log::parse_level("off"), log::Level::kOff);
  EXPECT_THAT(testing::expect_error([] { log::parse_level("loud"); }, ErrorCategory::kInvalidInput),
              HasSubstr("debug, info, warn, error or off"));
}

}  // namespace
}  // namespace trib
