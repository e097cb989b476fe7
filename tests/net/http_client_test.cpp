#include "trib/net/http_client.hpp"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "local_server.hpp"
#include "trib/core/error.hpp"
#include "trib/core/log.hpp"

namespace trib::net {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// A loopback port nobody listens on: bind an ephemeral port, then release it.
int unused_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    return -1;
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::string header_or(const httplib::Request& req, const char* name, const char* fallback) {
  return req.has_header(name) ? req.get_header_value(name) : fallback;
}

// g++ 12 warns (-Wmissing-field-initializers) on designated initializers that omit members, so
// requests are built here.
HttpRequest req(std::string method, std::string url, HeaderList headers = {}, std::string body = "",
                int64_t timeout_ms = 0) {
  HttpRequest request;
  request.method = std::move(method);
  request.url = std::move(url);
  request.headers = std::move(headers);
  request.body = std::move(body);
  request.timeout_ms = timeout_ms;
  return request;
}

class CurlClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto& svr = local_.server();
    svr.Get("/hello", [](const httplib::Request&, httplib::Response& res) {
      res.set_header("X-Reply-Header", "yes");
      res.set_content("hello world", "text/plain");
    });
    // Echoes what the server saw, one fact per line.
    auto echo = [](const httplib::Request& req, httplib::Response& res) {
      std::string out = "method=" + req.method + "\n";
      out += "x-test=" + header_or(req, "X-Test", "<none>") + "\n";
      out += "content-type=" + header_or(req, "Content-Type", "<none>") + "\n";
      out += "expect=" + header_or(req, "Expect", "<none>") + "\n";
      out += "user-agent=" + header_or(req, "User-Agent", "<none>") + "\n";
      out += "query-a=" + (req.has_param("a") ? req.get_param_value("a") : "<none>") + "\n";
      out += "body-size=" + std::to_string(req.body.size()) + "\n";
      res.set_content(out, "text/plain");
    };
    svr.Get("/echo", echo);
    svr.Post("/echo", echo);
    svr.Put("/echo", echo);
    svr.Patch("/echo", echo);
    svr.Delete("/echo", echo);
    svr.Post("/raw", [](const httplib::Request& req, httplib::Response& res) {
      res.set_content(req.body, "application/octet-stream");
    });
    svr.Get(R"(/status/(\d+))", [](const httplib::Request& req, httplib::Response& res) {
      res.status = std::stoi(req.matches[1]);
      res.set_content("status body " + std::string(req.matches[1]), "text/plain");
    });
    svr.Get("/slow", [](const httplib::Request&, httplib::Response& res) {
      std::this_thread::sleep_for(std::chrono::milliseconds(600));
      res.set_content("late", "text/plain");
    });
    svr.Get("/big", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(std::string(64 * 1024, 'x'), "application/octet-stream");
    });
    local_.start();
  }

  testing::LocalServer local_;
};

TEST_F(CurlClientTest, GetReturnsBodyStatusAndHeaders) {
  auto client = make_curl_client();
  const HttpResponse response = client->send(req("GET", local_.url("/hello")));
  EXPECT_EQ(response.status, 200);
  EXPECT_TRUE(response.ok());
  EXPECT_EQ(response.body, "hello world");
  // Case-insensitive lookup, whatever case the server used.
  ASSERT_TRUE(response.header("x-reply-header"));
  EXPECT_EQ(*response.header("x-reply-header"), "yes");
  EXPECT_EQ(*response.header("X-REPLY-HEADER"), "yes");
  EXPECT_FALSE(response.header("X-Absent"));
  EXPECT_GE(response.elapsed_ms, 0);
}

TEST_F(CurlClientTest, SendsHeadersQueryAndUserAgent) {
  CurlOptions options;
  options.user_agent = "trib-test/1";
  auto client = make_curl_client(options);
  const HttpResponse response =
      client->send(req("GET", local_.url("/echo?a=1%202"), {{"X-Test", "value 1"}}));
  EXPECT_THAT(response.body, HasSubstr("method=GET\n"));
  EXPECT_THAT(response.body, HasSubstr("x-test=value 1\n"));
  EXPECT_THAT(response.body, HasSubstr("user-agent=trib-test/1\n"));
  EXPECT_THAT(response.body, HasSubstr("query-a=1 2\n"));
}

TEST_F(CurlClientTest, PostSendsBodyWithOnlyTheCallersContentType) {
  auto client = make_curl_client();
  HttpResponse response = client->send(
      req("POST", local_.url("/echo"), {{"Content-Type", "application/json"}}, R"({"k":1})"));
  EXPECT_EQ(response.status, 200);
  EXPECT_THAT(response.body, HasSubstr("method=POST\n"));
  EXPECT_THAT(response.body, HasSubstr("content-type=application/json\n"));
  EXPECT_THAT(response.body, HasSubstr("body-size=7\n"));

  // Without a Content-Type, libcurl's form-urlencoded default must not be sent (it would change
  // what an Azure signature covers), and neither must Expect: 100-continue on a large body.
  response = client->send(req("POST", local_.url("/echo"), {}, std::string(300 * 1024, 'b')));
  EXPECT_THAT(response.body, HasSubstr("content-type=<none>\n"));
  EXPECT_THAT(response.body, HasSubstr("expect=<none>\n"));
  EXPECT_THAT(response.body, HasSubstr("body-size=307200\n"));
}

TEST_F(CurlClientTest, BinaryBodyRoundTrips) {
  auto client = make_curl_client();
  std::string body;
  for (int i = 0; i < 1024; ++i) body.push_back(static_cast<char>(i % 256));  // NULs included
  const HttpResponse response = client->send(req("POST", local_.url("/raw"), {}, body));
  EXPECT_EQ(response.body, body);
}

TEST_F(CurlClientTest, OtherMethods) {
  auto client = make_curl_client();
  for (const char* method : {"PUT", "PATCH", "DELETE"}) {
    SCOPED_TRACE(method);
    const HttpResponse response = client->send(req(method, local_.url("/echo"), {}, "abc"));
    EXPECT_EQ(response.status, 200);
    EXPECT_THAT(response.body, HasSubstr(std::string("method=") + method + "\n"));
    EXPECT_THAT(response.body, HasSubstr("body-size=3\n"));
  }
  const HttpResponse empty_put = client->send(req("PUT", local_.url("/echo")));
  EXPECT_THAT(empty_put.body, HasSubstr("body-size=0\n"));

  const HttpResponse head = client->send(req("HEAD", local_.url("/hello")));
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.body, "");
}

TEST_F(CurlClientTest, ErrorStatusesAreValuesNotExceptions) {
  auto client = make_curl_client();
  for (int status : {201, 404, 429, 500, 503}) {
    SCOPED_TRACE(status);
    HttpResponse response;
    ASSERT_NO_THROW(response =
                        client->send(req("GET", local_.url("/status/" + std::to_string(status)))));
    EXPECT_EQ(response.status, status);
    EXPECT_EQ(response.body, "status body " + std::to_string(status));
  }
}

TEST_F(CurlClientTest, ReusesTheHandleAcrossRequests) {
  auto client = make_curl_client();
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(client->send(req("GET", local_.url("/hello"))).body, "hello world");
  }
}

TEST_F(CurlClientTest, TimeoutIsRetryableAndRedactsSecrets) {
  auto client = make_curl_client();
  const auto start = std::chrono::steady_clock::now();
  try {
    client->send(
        req("GET", local_.url("/slow?apikey=SUPERSECRET123&token=tok456789&x=1"), {}, "", 100));
    FAIL() << "expected a timeout";
  } catch (const Error& error) {
    EXPECT_EQ(error.category(), ErrorCategory::kRetryable);
    const std::string message = error.what();
    EXPECT_THAT(message, HasSubstr("127.0.0.1"));
    EXPECT_THAT(message, HasSubstr("/slow"));
    EXPECT_THAT(message, Not(HasSubstr("SUPERSECRET123")));
    EXPECT_THAT(message, Not(HasSubstr("tok456789")));
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(550));
}

TEST_F(CurlClientTest, OversizedBodyIsRefused) {
  CurlOptions options;
  options.max_response_bytes = 1024;
  auto client = make_curl_client(options);
  try {
    client->send(req("GET", local_.url("/big")));
    FAIL() << "expected the size limit to trip";
  } catch (const Error& error) {
    EXPECT_EQ(error.category(), ErrorCategory::kPermanent);
    EXPECT_THAT(error.what(), HasSubstr("1024"));
  }
}

TEST(CurlClient, ConnectionRefusedIsRetryableAndRedactsRegisteredSecrets) {
  const int port = unused_port();
  ASSERT_GT(port, 0);
  log::register_secret("registered-secret-value");
  auto client = make_curl_client();
  const std::string url = "http://127.0.0.1:" + std::to_string(port) +
                          "/v1/registered-secret-value/bars?api_key=abcdef123456";
  try {
    client->send(req("GET", url));
    FAIL() << "expected connection refused";
  } catch (const Error& error) {
    EXPECT_EQ(error.category(), ErrorCategory::kRetryable);
    EXPECT_TRUE(error.retryable());
    const std::string message = error.what();
    EXPECT_THAT(message, HasSubstr(std::to_string(port)));
    EXPECT_THAT(message, Not(HasSubstr("registered-secret-value")));
    EXPECT_THAT(message, Not(HasSubstr("abcdef123456")));
  }
}

// Reads one request (headers, then Content-Length bytes of body) from `fd`; "" on EOF.
std::string read_request(int fd) {
  std::string data;
  char buf[4096];
  size_t header_end = std::string::npos;
  while ((header_end = data.find("\r\n\r\n")) == std::string::npos) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) return "";
    data.append(buf, static_cast<size_t>(n));
  }
  size_t length = 0;
  if (const size_t at = data.find("Content-Length: "); at != std::string::npos && at < header_end) {
    length = std::stoul(data.substr(at + 16));
  }
  while (data.size() < header_end + 4 + length) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) return "";
    data.append(buf, static_cast<size_t>(n));
  }
  return data;
}

void answer(int fd, const std::string& body) {
  const std::string out = "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  EXPECT_EQ(::write(fd, out.data(), out.size()), static_cast<ssize_t>(out.size()));
}

// A server that closes a kept-alive connection on the next request without answering it (a
// connection dropped after the request arrived): libcurl resends the request, POST body and all,
// on a new connection by itself, and the response says it went out twice — the server may have
// applied both.
TEST(CurlClient, CountsTheRequestsLibcurlResendsByItself) {
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(listener, 4), 0);
  ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  std::vector<std::string> seen;  // written by the server thread, read after join
  std::thread server([&] {
    const int first = ::accept(listener, nullptr, nullptr);
    seen.push_back(read_request(first));
    answer(first, "one");
    seen.push_back(read_request(first));
    ::close(first);  // the second request arrived; no answer
    const int second = ::accept(listener, nullptr, nullptr);
    seen.push_back(read_request(second));
    answer(second, "two");
    ::close(second);
  });
  const std::string url = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/q";
  auto client = make_curl_client();
  const HttpResponse one = client->send(req("GET", url));
  EXPECT_EQ(one.body, "one");
  EXPECT_EQ(one.transmissions, 1);
  const HttpResponse two = client->send(req("POST", url, {{"Content-Type", "text/plain"}}, "body-2"));
  server.join();
  ::close(listener);
  EXPECT_EQ(two.status, 200);
  EXPECT_EQ(two.body, "two");
  EXPECT_EQ(two.transmissions, 2);
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_THAT(seen[1], HasSubstr("body-2"));
  EXPECT_EQ(seen[1], seen[2]);  // the same request twice
}

TEST(CurlClient, MalformedRequestsAreInvalidInput) {
  auto client = make_curl_client();
  auto category_of = [&](const HttpRequest& request) {
    try {
      client->send(request);
    } catch (const Error& error) {
      return error.category();
    }
    return ErrorCategory::kInternal;  // no throw: the test fails below
  };
  EXPECT_EQ(category_of(req("GET", "not a url")), ErrorCategory::kInvalidInput);
  EXPECT_EQ(category_of(req("GET", "ftp://127.0.0.1/x")), ErrorCategory::kInvalidInput);
  EXPECT_EQ(category_of(req("GET\r\nX: y", "http://127.0.0.1/")), ErrorCategory::kInvalidInput);
  EXPECT_EQ(category_of(req("GET", "http://127.0.0.1/", {{"X-A", "v\r\nX-B: w"}})),
            ErrorCategory::kInvalidInput);
}

TEST(HttpRequest, SetHeaderReplacesCaseInsensitively) {
  HttpRequest request;
  request.headers = {{"content-type", "a"}, {"X-Other", "o"}, {"Content-Type", "b"}};
  request.set_header("Content-Type", "c");
  ASSERT_EQ(request.headers.size(), 2u);
  EXPECT_EQ(*request.header("CONTENT-TYPE"), "c");
  EXPECT_EQ(*request.header("x-other"), "o");
}

}  // namespace
}  // namespace trib::net
