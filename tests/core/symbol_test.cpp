// Symbol validation and its path-component encoding.
#include <unordered_set>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_util.hpp"
#include "trib/core/symbol.hpp"

namespace trib {
namespace {

using testing::expect_error;
using ::testing::HasSubstr;

TEST(Symbol, AcceptsRealTickers) {
  EXPECT_EQ(Symbol::parse("AAPL").str(), "AAPL");
  EXPECT_EQ(Symbol::parse("brk.b").str(), "BRK.B");
  EXPECT_EQ(Symbol::parse("^GSPC").str(), "^GSPC");
  EXPECT_EQ(Symbol::parse("EUR/USD").str(), "EUR/USD");
  EXPECT_EQ(Symbol::parse("CON").str(), "CON");  // a reserved device name on Windows, still valid
  EXPECT_EQ(Symbol::parse("BRK-B").str(), "BRK-B");
  for (const char* ok : {"A", "ES=F", "BTC-USD", "7203.T", "SPY.US", "X:BTCUSD", "M&T", "VOO+",
                         "SIM0001", "^N225", "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"}) {
    EXPECT_TRUE(Symbol::is_valid(ok)) << ok;
    EXPECT_NO_THROW(Symbol::parse(ok)) << ok;
  }
}

TEST(Symbol, RejectsUnsafeText) {
  const std::string control = std::string("AB") + '\x01' + "C";
  const std::string nul = std::string("AB\0C", 4);
  for (const std::string& bad : {std::string("../x"),
                                 std::string(""),
                                 std::string("a b"),
                                 std::string("x/../y"),
                                 std::string("%41"),
                                 control,
                                 nul,
                                 std::string("AB\nC"),
                                 std::string("AB\tC"),
                                 std::string(".hidden"),
                                 std::string("/etc"),
                                 std::string("-x"),
                                 std::string("a\\b"),
                                 std::string("x.."),
                                 std::string("a;b"),
                                 std::string("a'b"),
                                 std::string("a\"b"),
                                 std::string("a*b"),
                                 std::string("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456"),
                                 std::string("é")}) {
    EXPECT_FALSE(Symbol::is_valid(bad)) << bad;
    std::string message = expect_error([&] { Symbol::parse(bad); }, ErrorCategory::kInvalidInput);
    // The message never echoes a control character back into a log line.
    for (char c : message) EXPECT_GE(static_cast<unsigned char>(c), 0x20) << bad;
  }
  EXPECT_THAT(expect_error([] { Symbol::parse(""); }, ErrorCategory::kInvalidInput),
              HasSubstr("empty"));
  EXPECT_THAT(expect_error([] { Symbol::parse("x/../y"); }, ErrorCategory::kInvalidInput),
              HasSubstr(".."));
}

TEST(Symbol, ComparesAndHashesByText) {
  EXPECT_EQ(Symbol::parse("aapl"), Symbol::parse("AAPL"));
  EXPECT_LT(Symbol::parse("AAPL"), Symbol::parse("MSFT"));
  std::unordered_set<Symbol> set{Symbol::parse("aapl"), Symbol::parse("AAPL")};
  EXPECT_EQ(set.size(), 1u);
  EXPECT_TRUE(Symbol().empty());
}

TEST(Symbol, PathComponentIsOneSafeComponentAndRoundTrips) {
  EXPECT_EQ(Symbol::parse("EUR/USD").path_component(), "EUR%2FUSD");
  EXPECT_EQ(Symbol::parse("AAPL").path_component(), "AAPL");
  EXPECT_EQ(Symbol::parse("^GSPC").path_component(), "^GSPC");
  for (const char* text : {"AAPL", "BRK.B", "^GSPC", "EUR/USD", "CON", "BRK-B", "X:BTCUSD", "M&T",
                           "VOO+", "ES=F", "A/B/C", "A_B"}) {
    const Symbol symbol = Symbol::parse(text);
    const std::string component = symbol.path_component();
    EXPECT_EQ(component.find('/'), std::string::npos) << text;
    EXPECT_EQ(component.find('\\'), std::string::npos) << text;
    EXPECT_NE(component, ".");
    EXPECT_NE(component, "..");
    EXPECT_FALSE(component.empty());
    EXPECT_EQ(Symbol::from_path_component(component), symbol) << component;
  }
}

TEST(Symbol, FromPathComponentRejectsWhatItCouldNotProduce) {
  for (const char* bad : {"..", "%2E%2E", "a%2Fb%", "%zz", "EUR/USD", "%41APL", "aapl", ""}) {
    expect_error([&] { Symbol::from_path_component(bad); }, ErrorCategory::kInvalidInput);
  }
}

}  // namespace
}  // namespace trib
