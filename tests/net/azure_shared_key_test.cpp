#include "trib/net/azure_shared_key.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "trib/core/error.hpp"
#include "trib/core/log.hpp"

namespace trib::net::azure {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;

// The storage emulator's published development key: public, so safe in a test.
constexpr const char* kDevKey =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

std::string run(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return out;
  char buffer[512];
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) out.append(buffer, n);
  if (::pclose(pipe) != 0) return "";
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

// HMAC-SHA256 by the openssl command line tool: a second implementation to check ours against.
std::string openssl_signature(const std::string& key_base64, const std::string& message) {
  const std::string key_hex = run("printf '%s' '" + key_base64 +
                                  "' | openssl base64 -d -A | od -An -v -tx1 | tr -d ' \\n'");
  if (key_hex.empty()) return "";
  const auto path = std::filesystem::temp_directory_path() /
                    ("trib_net_sts_" + std::to_string(::getpid()) + ".txt");
  std::ofstream(path, std::ios::binary) << message;
  const std::string signature = run("openssl dgst -sha256 -mac HMAC -macopt hexkey:" + key_hex +
                                    " -binary '" + path.string() + "' | openssl base64 -A");
  std::filesystem::remove(path);
  return signature;
}

// g++ 12 warns (-Wmissing-field-initializers) on designated initializers that omit members, so
// requests are built here.
HttpRequest req(std::string method, std::string url, HeaderList headers, std::string body = "") {
  HttpRequest request;
  request.method = std::move(method);
  request.url = std::move(url);
  request.headers = std::move(headers);
  request.body = std::move(body);
  return request;
}

HttpRequest blob_put() {
  return req("PUT", "https://myaccount.blob.core.windows.net/mycontainer/myblob.txt?timeout=30",
             {{"x-ms-version", "2021-08-06"},
              {"x-ms-date", "Fri, 26 Jun 2015 23:39:12 GMT"},
              {"x-ms-blob-type", "BlockBlob"},
              {"Content-Type", "text/plain; charset=UTF-8"}},
             "hello world");
}

TEST(AzureSharedKey, StringToSignForABlobPut) {
  EXPECT_EQ(string_to_sign(blob_put(), "myaccount"),
            "PUT\n"
            "\n"                           // Content-Encoding
            "\n"                           // Content-Language
            "11\n"                         // Content-Length from the body
            "\n"                           // Content-MD5
            "text/plain; charset=UTF-8\n"  // Content-Type
            "\n\n\n\n\n\n"                 // Date, If-*, Range
            "x-ms-blob-type:BlockBlob\n"
            "x-ms-date:Fri, 26 Jun 2015 23:39:12 GMT\n"
            "x-ms-version:2021-08-06\n"
            "/myaccount/mycontainer/myblob.txt\n"
            "timeout:30");
}

TEST(AzureSharedKey, DocumentedEmulatorStyleExample) {
  // The shape of the example in "Authorize with Shared Key": a path-style (emulator) URL puts
  // the account in the path too, and every query parameter is listed.
  const HttpRequest request =
      req("GET",
          "http://127.0.0.1:10000/myaccount/mycontainer?restype=container&comp=metadata&timeout=20",
          {{"x-ms-date", "Sun, 11 Oct 2009 21:49:13 GMT"}, {"x-ms-version", "2009-09-19"}});
  EXPECT_EQ(string_to_sign(request, "myaccount"),
            "GET\n\n\n\n\n\n\n\n\n\n\n\n"
            "x-ms-date:Sun, 11 Oct 2009 21:49:13 GMT\nx-ms-version:2009-09-19\n"
            "/myaccount/myaccount/mycontainer\ncomp:metadata\nrestype:container\ntimeout:20");
}

TEST(AzureSharedKey, ContentLengthZeroIsSignedEmpty) {
  HttpRequest request = req("PUT", "https://a.blob.core.windows.net/c?restype=container",
                            {{"Content-Length", "0"}, {"x-ms-date", "d"}});
  EXPECT_THAT(string_to_sign(request, "a"), ::testing::StartsWith("PUT\n\n\n\n\n"));
  request.headers = {{"x-ms-date", "d"}};  // no header, empty body: also empty
  EXPECT_THAT(string_to_sign(request, "a"), ::testing::StartsWith("PUT\n\n\n\n\n"));
  request.headers = {{"content-length", "42"}, {"x-ms-date", "d"}};
  EXPECT_THAT(string_to_sign(request, "a"), ::testing::StartsWith("PUT\n\n\n42\n"));
}

TEST(AzureSharedKey, StandardHeadersGoInTheirSlots) {
  const HttpRequest request = req("GET", "https://a.blob.core.windows.net/c/b",
                                  {{"Range", "bytes=0-99"},
                                   {"If-None-Match", "\"etag\""},
                                   {"content-md5", "MD5=="},
                                   {"Content-Language", "en"},
                                   {"Content-Encoding", "gzip"},
                                   {"If-Match", "m"},
                                   {"If-Modified-Since", "ims"},
                                   {"If-Unmodified-Since", "ius"},
                                   {"Date", "Mon, 01 Jan 2024 00:00:00 GMT"},
                                   {"Accept", "ignored"}});
  EXPECT_EQ(string_to_sign(request, "a"),
            "GET\ngzip\nen\n\nMD5==\n\nMon, 01 Jan 2024 00:00:00 GMT\nims\nm\n\"etag\"\nius\n"
            "bytes=0-99\n/a/c/b");
}

TEST(AzureSharedKey, CanonicalizedHeadersRules) {
  const HttpRequest request = req("GET", "https://a.blob.core.windows.net/",
                                  {{"X-MS-Version", "2021-08-06"},
                                   {"x-ms-meta-b", "  two   words\there  "},
                                   {"Content-Type", "text/plain"},  // not x-ms-: excluded
                                   {"x-ms-date", "Sun, 11 Oct 2009 21:49:13 GMT"},
                                   {"X-Ms-Meta-A", "first"},
                                   {"x-ms-meta-a", "second"},
                                   {"x-msnot", "excluded"}});
  EXPECT_EQ(canonicalized_headers(request),
            "x-ms-date:Sun, 11 Oct 2009 21:49:13 GMT\n"
            "x-ms-meta-a:first,second\n"
            "x-ms-meta-b:two words here\n"
            "x-ms-version:2021-08-06\n");
  EXPECT_EQ(canonicalized_headers(HttpRequest{}), "");
}

TEST(AzureSharedKey, CanonicalizedResourceDocumentedCases) {
  EXPECT_EQ(
      canonicalized_resource(
          "myaccount",
          "https://myaccount.blob.core.windows.net/mycontainer?restype=container&comp=metadata"),
      "/myaccount/mycontainer\ncomp:metadata\nrestype:container");
  EXPECT_EQ(canonicalized_resource("myaccount",
                                   "https://myaccount.blob.core.windows.net/mycontainer?"
                                   "restype=container&comp=list&include=snapshots&"
                                   "include=metadata&include=uncommittedblobs"),
            "/myaccount/mycontainer\ncomp:list\ninclude:metadata,snapshots,uncommittedblobs\n"
            "restype:container");
  // A secondary endpoint signs with the account name, not the host's.
  EXPECT_EQ(canonicalized_resource("myaccount",
                                   "https://myaccount-secondary.blob.core.windows.net/"
                                   "mycontainer/myblob"),
            "/myaccount/mycontainer/myblob");
}

TEST(AzureSharedKey, CanonicalizedResourceRules) {
  // Names lower-cased and decoded, values decoded, params sorted, the path kept encoded.
  EXPECT_EQ(canonicalized_resource(
                "acct",
                "https://acct.queue.core.windows.net/my%20queue/messages?"
                "NumOfMessages=32&VisibilityTimeout=30&prefix=a%2Fb&flag&peekonly=true"),
            "/acct/my%20queue/messages\nflag:\nnumofmessages:32\npeekonly:true\nprefix:a/b\n"
            "visibilitytimeout:30");
  EXPECT_EQ(canonicalized_resource("acct", "https://acct.blob.core.windows.net"), "/acct/");
  EXPECT_EQ(canonicalized_resource("acct", "https://acct.blob.core.windows.net/?comp=list#frag"),
            "/acct/\ncomp:list");
}

TEST(AzureSharedKey, SignatureMatchesOpensslCommandLine) {
  const SharedKeyCredential cred("devstoreaccount1", kDevKey);
  const HttpRequest request = blob_put();
  const std::string sts = string_to_sign(request, cred.account());
  const std::string expected = openssl_signature(kDevKey, sts);
  if (expected.empty()) GTEST_SKIP() << "openssl command line tool not available";
  EXPECT_EQ(cred.sign(sts), expected);
  EXPECT_EQ(authorization_header(request, cred), "SharedKey devstoreaccount1:" + expected);
  // A different string gives a different signature (the test can fail).
  EXPECT_NE(cred.sign(sts + "x"), expected);
}

TEST(AzureSharedKey, SignatureForAnUnpaddedKey) {
  // 33 key bytes: base64 without padding. The decoded length must be exact for HMAC to match.
  const std::string key = "dHJpYnV0YXJ5LWF6dXJlLXRlc3Qta2V5LTAxMjM0NTY3";
  const SharedKeyCredential cred("acct", key);
  const std::string expected = openssl_signature(key, "GET\n");
  if (expected.empty()) GTEST_SKIP() << "openssl command line tool not available";
  EXPECT_EQ(cred.sign("GET\n"), expected);
  const std::string one_pad = "dHJpYnV0YXJ5LWF6dXJlLXRlc3Qta2V5LTAxMjM0NTY=";
  EXPECT_EQ(SharedKeyCredential("acct", one_pad).sign("x"), openssl_signature(one_pad, "x"));
  const std::string two_pad = "dHJpYnV0YXJ5LWF6dXJlLXRlc3Qta2V5LTAxMjM0NQ==";
  EXPECT_EQ(SharedKeyCredential("acct", two_pad).sign("x"), openssl_signature(two_pad, "x"));
}

TEST(AzureSharedKey, SignRequestAddsDateAndAuthorization) {
  const SharedKeyCredential cred("myaccount", kDevKey);
  HttpRequest request = req("GET", "https://myaccount.queue.core.windows.net/q/messages",
                            {{"x-ms-version", "2021-08-06"}});
  sign_request(request, cred);
  ASSERT_TRUE(request.header("x-ms-date"));
  EXPECT_THAT(std::string(*request.header("x-ms-date")),
              MatchesRegex("[A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} "
                           "[0-9]{2}:[0-9]{2}:[0-9]{2} GMT"));
  const std::string auth(*request.header("Authorization"));
  EXPECT_THAT(auth, MatchesRegex("SharedKey myaccount:[A-Za-z0-9+/]{43}="));

  // Signing again replaces the header and is deterministic for a fixed date.
  sign_request(request, cred);
  int count = 0;
  for (const auto& [name, value] : request.headers) count += name == "Authorization";
  EXPECT_EQ(count, 1);
  EXPECT_EQ(*request.header("Authorization"), auth);
}

TEST(AzureSharedKey, BadKeysAreInvalidInputAndKeysAreSecret) {
  EXPECT_THROW(SharedKeyCredential("a", "not base64!"), Error);
  EXPECT_THROW(SharedKeyCredential("a", "abc"), Error);
  EXPECT_THROW(SharedKeyCredential("a", ""), Error);
  EXPECT_THROW(SharedKeyCredential("", kDevKey), Error);
  const SharedKeyCredential cred("a", kDevKey);
  EXPECT_THAT(log::redact(std::string("key is ") + kDevKey), Not(HasSubstr(kDevKey)));
}

}  // namespace
}  // namespace trib::net::azure
