// The test FaultProxy (tests/support/fault_proxy.hpp) itself, in front of a local server and seen
// through our curl client: each kind of fault reaches the client as it should (a status, or a
// connection closed without an answer), the target sees a request exactly when the fault says it
// was forwarded, and the counters add up.
#include <gtest/gtest.h>

#include <atomic>
#include <string>

#include "../support/fault_proxy.hpp"
#include "local_server.hpp"
#include "trib/core/error.hpp"
#include "trib/net/http_client.hpp"

namespace trib::net {
namespace {

class FaultProxyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    target_.server().Get("/x", [this](const httplib::Request&, httplib::Response& res) {
      ++hits_;
      res.set_content("payload", "text/plain");
    });
    target_.server().Put("/x", [this](const httplib::Request& req, httplib::Response& res) {
      ++hits_;
      res.status = 201;
      res.set_content(req.body, "text/plain");
    });
    target_.server().Get("/q/messages", [this](const httplib::Request&, httplib::Response& res) {
      ++hits_;
      res.set_content("<QueueMessagesList><QueueMessage><DequeueCount>1</DequeueCount></QueueMessage>"
                      "<QueueMessage><DequeueCount>3</DequeueCount></QueueMessage></QueueMessagesList>",
                      "application/xml");
    });
    target_.start();
  }

  HttpRequest get(const trib::testing::FaultProxy& proxy, const std::string& path) const {
    HttpRequest r;
    r.method = "GET";
    r.url = "http://127.0.0.1:" + std::to_string(proxy.port()) + path;
    return r;
  }

  testing::LocalServer target_;
  std::atomic<int> hits_{0};
};

TEST_F(FaultProxyTest, DroppedConnectionsGiveNoAnswerAndForwardOnlyAfter) {
  trib::testing::FaultProxy proxy(0, 0, 7, /*drop=*/1);
  proxy.start("127.0.0.1", target_.port());
  auto client = make_curl_client();
  constexpr int kRequests = 40;
  for (int i = 0; i < kRequests; ++i) {
    try {
      const HttpResponse res = client->send(get(proxy, "/x"));
      ADD_FAILURE() << "request " << i << " got an answer: HTTP " << res.status;
    } catch (const Error& e) {
      // curl: "Empty reply from server" (or a reset): a transport error, retryable.
      EXPECT_EQ(e.category(), ErrorCategory::kRetryable) << e.what();
    }
  }
  const auto& s = proxy.stats();
  EXPECT_EQ(s.dropped_before + s.dropped_after, kRequests);
  EXPECT_GT(s.dropped_before, 0);
  EXPECT_GT(s.dropped_after, 0);
  // Dropped after forwarding: the target applied it. Before: it never saw it.
  EXPECT_EQ(hits_, s.dropped_after);
  EXPECT_EQ(s.forwarded, s.dropped_after);
  EXPECT_EQ(s.failed_before + s.lost_answers + s.upstream_errors, 0);

  // The proxy keeps serving, and a clean pass-through answers with the target's bytes.
  proxy.set_rates(0, 0);
  const HttpResponse res = client->send(get(proxy, "/x"));
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body, "payload");
}

TEST_F(FaultProxyTest, EachFaultAsItSays) {
  trib::testing::FaultProxy proxy(0.25, 0.25, 11, 0.25);
  proxy.start("127.0.0.1", target_.port());
  int answered = 0, injected_status = 0, no_answer = 0;
  constexpr int kRequests = 200;
  for (int i = 0; i < kRequests; ++i) {
    HttpRequest r = get(proxy, "/x");
    r.method = "PUT";
    r.body = "body " + std::to_string(i);
    try {
      // A fresh connection each time: libcurl resends a request by itself when a connection it
      // reused closes without an answer, which would hide drops from this count.
      const HttpResponse res = make_curl_client()->send(r);
      if (res.status == 201) {
        EXPECT_EQ(res.body, r.body);
        ++answered;
      } else {
        EXPECT_TRUE(res.status == 500 || res.status == 503 || res.status == 429) << res.status;
        ++injected_status;
      }
    } catch (const Error& e) {
      EXPECT_EQ(e.category(), ErrorCategory::kRetryable) << e.what();
      ++no_answer;
    }
  }
  const auto& s = proxy.stats();
  EXPECT_EQ(answered + injected_status + no_answer, kRequests);
  EXPECT_EQ(injected_status, s.failed_before + s.lost_answers);
  EXPECT_EQ(no_answer, s.dropped_before + s.dropped_after);
  EXPECT_EQ(hits_, s.forwarded);
  EXPECT_EQ(s.forwarded, answered + s.lost_answers + s.dropped_after);
  for (int n : {s.failed_before.load(), s.lost_answers.load(), s.dropped_before.load(), s.dropped_after.load()}) {
    EXPECT_GT(n, 10);
  }
  EXPECT_GT(answered, 20);
}

TEST_F(FaultProxyTest, CountsQueueDeliveriesThatReachedTheClient) {
  trib::testing::FaultProxy proxy(0, 0, 1);
  proxy.start("127.0.0.1", target_.port());
  auto client = make_curl_client();
  EXPECT_EQ(client->send(get(proxy, "/q/messages?numofmessages=2&visibilitytimeout=5")).status, 200);
  EXPECT_EQ(client->send(get(proxy, "/q/messages?peekonly=true&numofmessages=2")).status, 200);  // a peek
  EXPECT_EQ(proxy.stats().deliveries, 2);
  EXPECT_EQ(proxy.stats().redeliveries, 1);
}

}  // namespace
}  // namespace trib::net
