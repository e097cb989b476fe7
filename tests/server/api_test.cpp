// The API's routing, errors and authorisation in-process (Api::handle), on an empty workspace;
// tests/interop/api.test.mjs drives a running `trib serve` on real data.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "../core/test_util.hpp"
#include "trib/catalog/catalog.hpp"
#include "trib/runtime/backends.hpp"
#include "trib/server/api.hpp"

namespace trib::server {
namespace {

using nlohmann::json;
using trib::testing::TempDir;

class ApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    runtime::init_workspace(dir_.path());
    config_ = Config::load(dir_.path());
  }
  ApiResponse get(Api& api, const std::string& path, std::multimap<std::string, std::string> params = {}) {
    ApiRequest r;
    r.path = path;
    r.params = std::move(params);
    return api.handle(r);
  }
  ApiResponse post(Api& api, const std::string& path, const std::string& token, const std::string& body = "") {
    ApiRequest r;
    r.method = "POST";
    r.path = path;
    if (!token.empty()) r.headers["authorization"] = "Bearer " + token;
    r.body = body;
    return api.handle(r);
  }
  static std::string code(const ApiResponse& r) { return json::parse(r.body)["error"]["code"]; }
  TempDir dir_;
  Config config_;
};

TEST_F(ApiTest, HealthReadinessAndErrorsAsJson) {
  Api api(config_, {});
  EXPECT_EQ(get(api, "/healthz").status, 200);
  const auto ready = get(api, "/readyz");
  EXPECT_EQ(ready.status, 200) << ready.body;
  EXPECT_EQ(json::parse(ready.body)["checks"]["queue"], "ok");
  const auto missing = get(api, "/api/v1/nothing");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(code(missing), "not_found");
  EXPECT_EQ(code(get(api, "/api/v1/bars/AAPL")), "not_found");  // no bars yet
  EXPECT_EQ(code(get(api, "/api/v1/bars/AAPL", {{"from", "2020-02-30"}})), "invalid_input");
  EXPECT_EQ(code(get(api, "/api/v1/bars/..")), "invalid_input");
  EXPECT_EQ(code(get(api, "/api/v1/instruments", {{"limit", "0"}})), "invalid_input");
  EXPECT_EQ(code(get(api, "/api/v1/instruments", {{"cursor", "x"}})), "invalid_input");
  EXPECT_EQ(code(get(api, "/api/v1/backtests/bt-zz")), "invalid_input");
  EXPECT_EQ(json::parse(get(api, "/api/v1/instruments").body)["total"], 0);
  ApiRequest put;
  put.method = "PUT";
  put.path = "/api/v1/instruments";
  EXPECT_EQ(api.handle(put).status, 405);
}

TEST_F(ApiTest, ChangesNeedTheTokenAndAReadOnlyServerRefusesThem) {
  Api read_only(config_, {});
  EXPECT_EQ(post(read_only, "/api/v1/trading/halt", "anything").status, 403);
  Api api(config_, {"a-long-enough-token-123", 1000, 10000});
  EXPECT_EQ(post(api, "/api/v1/trading/halt", "").status, 401);
  EXPECT_EQ(post(api, "/api/v1/trading/halt", "a-long-enough-token-124").status, 401);
  EXPECT_EQ(post(api, "/api/v1/trading/halt", "a-long-enough-token-12").status, 401);
  EXPECT_EQ(json::parse(get(api, "/api/v1/trading/state").body)["state"], "ACTIVE");
  const auto bad = post(api, "/api/v1/trading/halt", "a-long-enough-token-123", R"({"account": "../x"})");
  EXPECT_EQ(bad.status, 400);
  const auto halted = post(api, "/api/v1/trading/halt", "a-long-enough-token-123", R"({"reason": "test"})");
  ASSERT_EQ(halted.status, 200) << halted.body;
  EXPECT_EQ(json::parse(halted.body)["state"], "HALTED");
  // Persisted in the catalog: another server (or the CLI) sees it.
  Api other(config_, {});
  EXPECT_EQ(json::parse(get(other, "/api/v1/trading/state").body)["state"], "HALTED");
  EXPECT_EQ(json::parse(post(api, "/api/v1/trading/resume", "a-long-enough-token-123").body)["state"], "ACTIVE");
}

TEST_F(ApiTest, MetricsCountRequestsByRouteAndStatus) {
  Api api(config_, {});
  const auto r = get(api, "/api/v1/bars/AAPL");
  api.observe("GET", r.route, r.status, 0.02);
  api.observe("GET", r.route, r.status, 3.0);
  const std::string text = api.metrics_text();
  EXPECT_NE(text.find("trib_http_requests_total{method=\"GET\",route=\"/api/v1/bars/{symbol}\",status=\"404\"} 2"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("trib_http_request_duration_seconds_bucket{route=\"/api/v1/bars/{symbol}\",le=\"0.025\"} 1"),
            std::string::npos);
  EXPECT_NE(text.find("trib_http_request_duration_seconds_count{route=\"/api/v1/bars/{symbol}\"} 2"), std::string::npos);
  EXPECT_NE(text.find("trib_queue_messages{queue=\"tasks\"} 0"), std::string::npos) << text;
  EXPECT_NE(text.find("trib_instruments 0"), std::string::npos);
}

}  // namespace
}  // namespace trib::server
