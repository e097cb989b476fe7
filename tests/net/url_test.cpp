#include "trib/net/url.hpp"

#include <gtest/gtest.h>

#include "trib/core/error.hpp"
#include "trib/net/http_date.hpp"

namespace trib::net {
namespace {

TEST(Url, ParsesTheParts) {
  UrlParts p = parse_url("HTTPS://API.Example.com:8443/v2/bars%2Fx?symbol=AAPL&apikey=k#frag");
  EXPECT_EQ(p.scheme, "https");
  EXPECT_EQ(p.host, "api.example.com");
  EXPECT_EQ(p.port, 8443);
  EXPECT_EQ(p.path, "/v2/bars%2Fx");
  EXPECT_EQ(p.query, "symbol=AAPL&apikey=k");

  p = parse_url("http://127.0.0.1");
  EXPECT_EQ(p.port, 80);
  EXPECT_EQ(p.path, "/");
  EXPECT_EQ(p.query, "");
  EXPECT_EQ(parse_url("https://h?x=1").path, "/");
  EXPECT_EQ(parse_url("https://h?x=1").query, "x=1");
  EXPECT_EQ(parse_url("https://h").port, 443);
  EXPECT_EQ(parse_url("http://[::1]:9000/x").host, "[::1]");
  EXPECT_EQ(parse_url("http://[::1]:9000/x").port, 9000);
  EXPECT_EQ(host_of("https://Data.Alpaca.markets/v2/stocks"), "data.alpaca.markets");
}

TEST(Url, RejectsWhatItCannotParse) {
  for (const char* bad : {"", "no-scheme", "://h", "http://", "http://:80/", "http://h:0/",
                          "http://h:99999/", "http://h:8x/", "http://u:p@h/", "http://[::1/"}) {
    EXPECT_THROW(parse_url(bad), Error) << bad;
  }
}

TEST(Url, PercentCoding) {
  EXPECT_EQ(percent_decode("a%20b%2Fc+d"), "a b/c+d");
  EXPECT_EQ(percent_decode("%e2%82%AC"), "\xe2\x82\xac");
  EXPECT_THROW(percent_decode("bad%2"), Error);
  EXPECT_THROW(percent_decode("bad%zz"), Error);
  EXPECT_EQ(percent_encode("a b/c~d.e-f_g&="), "a%20b%2Fc~d.e-f_g%26%3D");
  EXPECT_EQ(percent_encode("dir/my file", true), "dir/my%20file");
  EXPECT_EQ(percent_decode(percent_encode("\x01\xff zz")), "\x01\xff zz");
}

TEST(HttpDate, FormatsImfFixdate) {
  EXPECT_EQ(format_http_date(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(format_http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
  EXPECT_EQ(format_http_date(951782400), "Tue, 29 Feb 2000 00:00:00 GMT");
}

TEST(HttpDate, ParsesAndRoundTrips) {
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777);
  EXPECT_EQ(parse_http_date("  Sun, 06 Nov 1994 08:49:37 GMT "), 784111777);
  for (int64_t t : {int64_t{0}, int64_t{1'700'000'000}, int64_t{4'102'444'799}}) {
    EXPECT_EQ(parse_http_date(format_http_date(t)), t);
  }
}

TEST(HttpDate, RejectsOtherForms) {
  for (const char* bad : {"", "2", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994",
                          "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 31 Feb 2021 08:49:37 GMT",
                          "Sun, 06 Foo 1994 08:49:37 GMT", "Xyz, 06 Nov 1994 08:49:37 GMT",
                          "Sun, 06 Nov 1994 24:00:00 GMT", "Sun, 0x Nov 1994 08:49:37 GMT"}) {
    EXPECT_EQ(parse_http_date(bad), std::nullopt) << bad;
  }
}

}  // namespace
}  // namespace trib::net
