// The Azure Storage Queue backend beyond the shared suite (queue_fixture.hpp runs every
// QueueTest on it as Backends/QueueTest.*/azure):
//  - AzureQueueXml / AzureQueueEnvelope: the service-answer parser and the message-text codec,
//    on well-formed and hostile inputs (no server);
//  - AzureQueueService: against Azurite (ctest attaches it to every test named *Azure*): what is
//    on the wire, foreign messages (the Functions host's, the SDKs'), markers, bad credentials,
//    expired SAS tokens, names and durations Azure refuses.
#include <chrono>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "trib/core/error.hpp"
#include "trib/core/hash.hpp"
#include "trib/core/time.hpp"
#include "trib/net/azure_storage.hpp"
#include "trib/net/base64.hpp"
#include "trib/net/url.hpp"
#include "trib/queue/task_queue.hpp"
#include "../../src/queue/azure_envelope.hpp"
#include "../../src/queue/azure_queue.hpp"
#include "../../src/queue/azure_queue_xml.hpp"
#include "../support/azure_fixture.hpp"
#include "../support/fault_proxy.hpp"

namespace trib::queue {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using std::chrono::seconds;

template <typename F>
Error error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "expected a trib::Error";
  return Error::Internal("no error");
}

azure::Envelope envelope(std::string body, std::string key = {}, std::string error = {}) {
  azure::Envelope e;
  e.body = std::move(body);
  e.dedupe_key = std::move(key);
  e.last_error = std::move(error);
  return e;
}

// ---- the service-answer parser --------------------------------------------------------------------

constexpr const char* kGetAnswer = R"(<?xml version="1.0" encoding="utf-8"?>
<QueueMessagesList>
  <QueueMessage>
    <MessageId>5974b586-0df3-4e2d-ad0c-18e3892bfca2</MessageId>
    <InsertionTime>Fri, 09 Oct 2009 21:04:30 GMT</InsertionTime>
    <ExpirationTime>Fri, 31 Dec 9999 23:59:59 GMT</ExpirationTime>
    <PopReceipt>YzQ4Yzg1MDItYTc0Ny00OWNjLTkxYTUtZGM0MDFiZDAwYzEw+/=</PopReceipt>
    <TimeNextVisible>Fri, 09 Oct 2009 23:29:20 GMT</TimeNextVisible>
    <DequeueCount>3</DequeueCount>
    <MessageText>eyJhIjoxfQ==</MessageText>
  </QueueMessage>
</QueueMessagesList>)";

TEST(AzureQueueXml, ParsesAGetMessagesAnswer) {
  const auto list = azure::parse_messages_list(kGetAnswer);
  ASSERT_EQ(list.size(), 1u);
  const azure::XmlQueueMessage& m = list[0];
  EXPECT_EQ(m.message_id, "5974b586-0df3-4e2d-ad0c-18e3892bfca2");
  EXPECT_EQ(m.pop_receipt, "YzQ4Yzg1MDItYTc0Ny00OWNjLTkxYTUtZGM0MDFiZDAwYzEw+/=");
  EXPECT_EQ(m.insertion_time_s, 1255122270);
  EXPECT_EQ(m.time_next_visible_s, 1255130960);
  EXPECT_EQ(m.dequeue_count, 3);
  EXPECT_EQ(m.message_text, "eyJhIjoxfQ==");
}

TEST(AzureQueueXml, PutAndPeekAnswersAndAnEmptyList) {
  // Put Message: no count, no text.
  auto put = azure::parse_messages_list(
      "<QueueMessagesList><QueueMessage><MessageId>id-1</MessageId><InsertionTime>Mon, 22 Jan "
      "2024 10:00:00 GMT</InsertionTime><PopReceipt>r</PopReceipt></QueueMessage>"
      "</QueueMessagesList>");
  ASSERT_EQ(put.size(), 1u);
  EXPECT_FALSE(put[0].dequeue_count.has_value());
  EXPECT_FALSE(put[0].message_text.has_value());
  // Peek: no receipt; an empty text is a text.
  auto peek = azure::parse_messages_list(
      "<QueueMessagesList><QueueMessage><MessageId>a</MessageId><DequeueCount>0</DequeueCount>"
      "<MessageText/></QueueMessage><QueueMessage><MessageId>b</MessageId><DequeueCount>12"
      "</DequeueCount><MessageText>x</MessageText></QueueMessage></QueueMessagesList>");
  ASSERT_EQ(peek.size(), 2u);
  EXPECT_EQ(peek[0].pop_receipt, "");
  EXPECT_EQ(peek[0].message_text, "");
  EXPECT_EQ(peek[1].dequeue_count, 12);
  EXPECT_TRUE(azure::parse_messages_list("<QueueMessagesList />").empty());
  EXPECT_TRUE(azure::parse_messages_list("<?xml version=\"1.0\"?>\n<QueueMessagesList>\n"
                                         "</QueueMessagesList>\n")
                  .empty());
}

TEST(AzureQueueXml, EntitiesCdataUnknownElementsAndComments) {
  auto list = azure::parse_messages_list(
      "<QueueMessagesList><Extra>ignored</Extra><QueueMessage><NewField><x/></NewField>"
      "<MessageId>a&amp;b</MessageId><!-- note --><MessageText>&lt;t&gt;<![CDATA[<raw>]]>"
      "&#x41;</MessageText></QueueMessage></QueueMessagesList>");
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].message_id, "a&b");
  EXPECT_EQ(list[0].message_text, "<t><raw>A");
}

TEST(AzureQueueXml, HostileAnswersAreRetryableErrorsNeverCrashes) {
  const std::string long_id(2000, 'i');
  const std::vector<std::string> hostile = {
      "",
      "not xml at all",
      "<QueueMessagesList>",  // truncated
      "<QueueMessagesList><QueueMessage><MessageId>a</MessageId>",
      "<Error><Code>x</Code></Error>",  // another root
      "<QueueMessagesList><QueueMessage></QueueMessage></QueueMessagesList>",  // no id
      "<QueueMessagesList><QueueMessage><MessageId></MessageId></QueueMessage></QueueMessagesList>",
      "<QueueMessagesList><QueueMessage><MessageId>a</MessageId><MessageId>b</MessageId>"
      "</QueueMessage></QueueMessagesList>",
      "<QueueMessagesList><QueueMessage><MessageId>a</MessageId><DequeueCount>-1</DequeueCount>"
      "</QueueMessage></QueueMessagesList>",
      "<QueueMessagesList><QueueMessage><MessageId>a</MessageId><DequeueCount>9999999999"
      "</DequeueCount></QueueMessage></QueueMessagesList>",
      "<QueueMessagesList><QueueMessage><MessageId>a</MessageId><DequeueCount>1x</DequeueCount>"
      "</QueueMessage></QueueMessagesList>",
      "<QueueMessagesList><QueueMessage><MessageId>a</MessageId><DequeueCount/>"
      "</QueueMessage></QueueMessagesList>",
      "<QueueMessagesList><QueueMessage><MessageId>a</MessageId><InsertionTime>yesterday"
      "</InsertionTime></QueueMessage></QueueMessagesList>",
      "<QueueMessagesList><QueueMessage><MessageId>a</MessageId><TimeNextVisible>Fri, 31 Feb "
      "2023 10:00:00 GMT</TimeNextVisible></QueueMessage></QueueMessagesList>",
      "<QueueMessagesList><QueueMessage><MessageId>a</MessageId><MessageText>x<b/>y"
      "</MessageText></QueueMessage></QueueMessagesList>",
      "<QueueMessagesList><QueueMessage><MessageId>" + long_id +
          "</MessageId></QueueMessage></QueueMessagesList>",
      std::string("<QueueMessagesList>\0</QueueMessagesList>", 40),
      "<QueueMessagesList><QueueMessage><MessageId>a</MessageId></QueueMessage>"
      "</QueueMessagesListX>",
  };
  for (const std::string& xml : hostile) {
    const Error e = error_of([&] { azure::parse_messages_list(xml); });
    EXPECT_EQ(e.category(), ErrorCategory::kRetryable) << xml;
    EXPECT_THAT(e.what(), HasSubstr("QueueMessagesList")) << xml;
  }
  // A DOCTYPE with entities is not expanded (no "billion laughs"): either refused or literal.
  const std::string laughs =
      "<!DOCTYPE l [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;\">]>"
      "<QueueMessagesList><QueueMessage><MessageId>&b;</MessageId></QueueMessage>"
      "</QueueMessagesList>";
  try {
    auto list = azure::parse_messages_list(laughs);
    for (const auto& m : list) EXPECT_LT(m.message_id.size(), 100u);
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::kRetryable);
  }
}

TEST(AzureQueueXml, BlobListPages) {
  auto page = azure::parse_blob_list(
      "<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults ContainerName=\"c\">"
      "<Prefix>q/</Prefix><Blobs><Blob><Name>q/aa</Name><Properties/></Blob><Blob><Name>q/bb"
      "</Name></Blob></Blobs><NextMarker>2!abc</NextMarker></EnumerationResults>");
  EXPECT_EQ(page.names, (std::vector<std::string>{"q/aa", "q/bb"}));
  EXPECT_EQ(page.next_marker, "2!abc");
  page = azure::parse_blob_list("<EnumerationResults><Blobs/><NextMarker/></EnumerationResults>");
  EXPECT_TRUE(page.names.empty());
  EXPECT_EQ(page.next_marker, "");
  for (const char* bad : {"", "<Blobs/>", "<EnumerationResults><Blobs><Blob/></Blobs>"
                                          "</EnumerationResults>"}) {
    EXPECT_EQ(error_of([&] { azure::parse_blob_list(bad); }).category(),
              ErrorCategory::kRetryable)
        << bad;
  }
}

TEST(AzureQueueXml, RequestBodyEscapesAnyText) {
  EXPECT_EQ(azure::queue_message_xml("eyJhIjoxfQ=="),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><QueueMessage><MessageText>eyJhIjoxfQ=="
            "</MessageText></QueueMessage>");
  const std::string body = azure::queue_message_xml("a<b>&c");
  EXPECT_THAT(body, HasSubstr("<MessageText>a&lt;b&gt;&amp;c</MessageText>"));
}

// ---- the message-text codec -----------------------------------------------------------------------

TEST(AzureQueueEnvelope, APlainBodyIsBase64OfItsBytesOnly) {
  // What Azure Functions' queue trigger decodes by default: no prefix, no header.
  EXPECT_EQ(azure::encode_message_text(envelope("{\"a\":1}")), "eyJhIjoxfQ==");
  EXPECT_EQ(azure::encode_message_text(envelope("")), "");
  const azure::Envelope back = azure::decode_message_text("eyJhIjoxfQ==", "m1");
  EXPECT_EQ(back.body, "{\"a\":1}");
  EXPECT_FALSE(back.enveloped);
  EXPECT_EQ(back.dedupe_key, "");
  EXPECT_EQ(back.last_error, "");
  EXPECT_FALSE(back.dequeue_count.has_value());
  // UTF-8 and newlines survive.
  const std::string text = "caf\xc3\xa9\n\xf0\x9f\x93\x88";
  EXPECT_EQ(azure::decode_message_text(azure::encode_message_text(envelope(text)), "m").body, text);
}

TEST(AzureQueueEnvelope, ExtraFieldsTravelInAOneLineHeader) {
  azure::Envelope e = envelope("{\"symbol\":\"AAPL\"}\nsecond line", "AAPL/2020\nx",
                               "retryable: \"quoted\"\n\ttabbed");
  e.id = "5974b586-0df3-4e2d-ad0c-18e3892bfca2";
  e.dequeue_count = 5;
  const std::string text = azure::encode_message_text(e);
  const std::string bytes = net::base64_decode(text);
  ASSERT_TRUE(bytes.starts_with(azure::kEnvelopePrefix));
  const size_t newline = bytes.find('\n');
  const auto header = nlohmann::json::parse(
      bytes.substr(azure::kEnvelopePrefix.size(), newline - azure::kEnvelopePrefix.size()));
  EXPECT_EQ(header["dedupe_key"], "AAPL/2020\nx");
  EXPECT_EQ(header["last_error"], "retryable: \"quoted\"\n\ttabbed");
  EXPECT_EQ(header["id"], e.id);
  EXPECT_EQ(header["dequeue_count"], 5);
  EXPECT_EQ(bytes.substr(newline + 1), e.body);

  const azure::Envelope back = azure::decode_message_text(text, "m");
  EXPECT_TRUE(back.enveloped);
  EXPECT_EQ(back.body, e.body);
  EXPECT_EQ(back.dedupe_key, e.dedupe_key);
  EXPECT_EQ(back.last_error, e.last_error);
  EXPECT_EQ(back.id, e.id);
  EXPECT_EQ(back.dequeue_count, 5);
  // Fields a later version may add are ignored.
  const std::string later = net::base64_encode(
      std::string(azure::kEnvelopePrefix) + "{\"dedupe_key\":\"k\",\"new\":[1,2]}\nbody");
  EXPECT_EQ(azure::decode_message_text(later, "m").dedupe_key, "k");
}

TEST(AzureQueueEnvelope, ABodyThatLooksLikeAnEnvelopeIsAlwaysEnveloped) {
  const std::string tricky = std::string(azure::kEnvelopePrefix) + "{\"last_error\":\"fake\"}\nx";
  const std::string text = azure::encode_message_text(envelope(tricky));
  EXPECT_NE(text, net::base64_encode(tricky));
  const azure::Envelope back = azure::decode_message_text(text, "m");
  EXPECT_EQ(back.body, tricky);
  EXPECT_EQ(back.last_error, "");
  // The prefix without its trailing space is just text.
  EXPECT_EQ(azure::decode_message_text(net::base64_encode("trib-envelope/1"), "m").body,
            "trib-envelope/1");
}

TEST(AzureQueueEnvelope, TextThatDoesNotDecodeIsInvalidInputNamingTheMessage) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"not base64!", "Base64"},                   // raw text from a producer that forgot
      {"abc", "base64"},                           // length
      {"eyJh IjoxfQ==", "base64"},                 // a space
      {"eyJhIjoxfQ==\n", "base64"},                // a newline
      {net::base64_encode("\xff\xfe"), "UTF-8"},   // binary
      {net::base64_encode(std::string("a\0b", 3)), "UTF-8"},
      {net::base64_encode("trib-envelope/1 {\"a\":1}"), "end of header"},
      {net::base64_encode("trib-envelope/1 not json\nbody"), "JSON object"},
      {net::base64_encode("trib-envelope/1 [1,2]\nbody"), "JSON object"},
      {net::base64_encode("trib-envelope/1 {\"dedupe_key\":7}\nbody"), "dedupe_key"},
      {net::base64_encode("trib-envelope/1 {\"last_error\":null}\nbody"), "last_error"},
      {net::base64_encode("trib-envelope/1 {\"id\":{}}\nbody"), "\"id\""},
      {net::base64_encode("trib-envelope/1 {\"dequeue_count\":-1}\nbody"), "dequeue_count"},
      {net::base64_encode("trib-envelope/1 {\"dequeue_count\":1.5}\nbody"), "dequeue_count"},
      {net::base64_encode("trib-envelope/1 {\"dequeue_count\":\"3\"}\nbody"), "dequeue_count"},
      {net::base64_encode("trib-envelope/1 {\"dequeue_count\":99999999999}\nbody"),
       "dequeue_count"},
  };
  for (const auto& [text, why] : bad) {
    const Error e = error_of([&] { azure::decode_message_text(text, "msg-42"); });
    EXPECT_EQ(e.category(), ErrorCategory::kInvalidInput) << text;
    EXPECT_THAT(e.what(), AllOf(HasSubstr("msg-42"), HasSubstr(why))) << text;
  }
  // The text itself is never echoed (it may be anything).
  EXPECT_THAT(error_of([&] { azure::decode_message_text("secret-ish!", "m"); }).what(),
              Not(HasSubstr("secret-ish")));
}

TEST(AzureQueueEnvelope, ErrorsAreCutAtOneKiBOnACharacterBoundary) {
  EXPECT_EQ(azure::truncate_error("short"), "short");
  EXPECT_EQ(azure::truncate_error(std::string(5000, 'e')).size(), azure::kMaxErrorBytes);
  // 1023 ASCII bytes then a 2-byte character: the character does not fit and is dropped whole.
  const std::string cut = azure::truncate_error(std::string(1023, 'a') + "\xc3\xa9" + "tail");
  EXPECT_EQ(cut, std::string(1023, 'a'));
  // An error that is not UTF-8 is carried with replacement characters, never refused.
  const std::string text = azure::encode_message_text(envelope("b", "", "bad \xff byte"));
  EXPECT_EQ(azure::decode_message_text(text, "m").last_error, "bad \xef\xbf\xbd byte");
}

TEST(AzureQueueEnvelope, TheLargestEnvelopeFitsAzuresLimit) {
  // The worst case: a body at the limit, a 1 KiB key and a 1 KiB error both made of control
  // characters (six bytes each once escaped in JSON), an id and a count.
  azure::Envelope e = envelope(std::string(kMaxBodyBytes, 'x'), std::string(1024, '\x01'),
                               azure::truncate_error(std::string(4096, '\x02')));
  e.id = std::string(36, 'i');
  e.dequeue_count = 2147483647;
  const std::string text = azure::encode_message_text(e);
  EXPECT_LE(text.size(), azure::kMaxMessageTextBytes);
  EXPECT_EQ(azure::decode_message_text(text, "m").dedupe_key, e.dedupe_key);
}

// ---- against Azurite --------------------------------------------------------------------------------

class AzureQueueService : public ::testing::Test {
 protected:
  void SetUp() override {
    TRIB_AZURE_TEST_OR_SKIP(connection_string);
    account_ = net::azure::parse_connection_string(connection_string);
    client_ = std::make_unique<net::azure::StorageClient>(account_);
  }
  void TearDown() override {
    if (!client_) return;
    for (const std::string& name : names_) {
      try {
        open_azure_queue(account_, name, {}, /*create=*/false)->clear();
      } catch (const Error&) {
      }
      for (const std::string& queue : {name, name + "-poison"}) {
        send("DELETE", net::azure::Service::kQueue, "/" + queue);
      }
    }
  }

  std::string fresh_name(const std::string& prefix = "az") {
    names_.push_back(testing::azure_unique_name(prefix));
    return names_.back();
  }

  net::HttpResponse send(const std::string& method, net::azure::Service service,
                         const std::string& path, const std::string& query = {},
                         std::string body = {}, net::HeaderList headers = {}) {
    net::HttpRequest request;
    request.method = method;
    request.url = client_->url(service, path, query);
    request.body = std::move(body);
    request.headers = std::move(headers);
    return client_->send(std::move(request));
  }

  // Puts `text` exactly as given, as another producer would.
  void put_raw(const std::string& queue, const std::string& text) {
    const auto r = send("POST", net::azure::Service::kQueue, "/" + queue + "/messages", "",
                        azure::queue_message_xml(text), {{"Content-Type", "application/xml"}});
    ASSERT_EQ(r.status, 201) << r.body;
  }

  std::vector<azure::XmlQueueMessage> peek_raw(const std::string& queue) {
    const auto r = send("GET", net::azure::Service::kQueue, "/" + queue + "/messages",
                        "peekonly=true&numofmessages=32");
    EXPECT_EQ(r.status, 200) << r.body;
    return azure::parse_messages_list(r.body);
  }

  void put_marker_blob(const std::string& queue, const std::string& key, const std::string& id,
                       std::string body = {}) {
    if (body.empty()) {
      body = nlohmann::json{{"key", key}, {"queued_at_ns", now_ts_ns()}, {"message_id", id}}.dump();
    }
    const auto r = send("PUT", net::azure::Service::kBlob,
                        fmt::format("/{}/{}/{}", azure::kMarkerContainer, queue, sha256_hex(key)),
                        "", body, {{"x-ms-blob-type", "BlockBlob"}});
    ASSERT_EQ(r.status, 201) << r.body;
  }

  int marker_status(const std::string& queue, const std::string& key) {
    return send("HEAD", net::azure::Service::kBlob,
                fmt::format("/{}/{}/{}", azure::kMarkerContainer, queue, sha256_hex(key)))
        .status;
  }

  net::azure::StorageAccount account_;
  std::unique_ptr<net::azure::StorageClient> client_;
  std::vector<std::string> names_;
};

TEST_F(AzureQueueService, OnTheWireABodyIsBase64AndMessagesNeverExpire) {
  const std::string name = fresh_name();
  auto q = open_azure_queue(account_, name);
  q->enqueue("{\"symbol\":\"AAPL\",\"note\":\"caf\xc3\xa9\"}");
  q->enqueue_unique("keyed", "AAPL/2020");
  const auto raw = peek_raw(name);
  ASSERT_EQ(raw.size(), 2u);
  EXPECT_EQ(raw[0].message_text, net::base64_encode("{\"symbol\":\"AAPL\",\"note\":\"caf\xc3\xa9\"}"));
  EXPECT_EQ(net::base64_decode(*raw[1].message_text),
            std::string(azure::kEnvelopePrefix) + "{\"dedupe_key\":\"AAPL/2020\"}\nkeyed");
  // messagettl=-1: Azure's "never" (the default would drop a message after 7 days).
  const auto r = send("GET", net::azure::Service::kQueue, "/" + name + "/messages",
                      "numofmessages=1&visibilitytimeout=1");
  EXPECT_THAT(r.body, HasSubstr("<ExpirationTime>Fri, 31 Dec 9999 23:59:59 GMT</ExpirationTime>"));
  // The marker names its message.
  EXPECT_EQ(marker_status(name, "AAPL/2020"), 200);
}

TEST_F(AzureQueueService, AForeignPlainMessageIsReceivedAsItsBody) {
  const std::string name = fresh_name();
  auto q = open_azure_queue(account_, name);
  // What Azure Functions' output binding or the SDKs with a Base64 encoder put.
  const std::string body = "{\"task\":\"fetch\",\"symbol\":\"^GSPC\"}";
  put_raw(name, net::base64_encode(body));
  auto m = q->receive(seconds(30));
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->body, body);
  EXPECT_EQ(m->dedupe_key, "");
  // Released with an error, it becomes an envelope (the error travels with it).
  q->release(*m, "retryable: HTTP 503", seconds(0));
  const auto listed = q->list();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].body, body);
  EXPECT_EQ(listed[0].last_error, "retryable: HTTP 503");
}

TEST_F(AzureQueueService, TextThatIsNotBase64GoesToPoisonVerbatimAtOnce) {
  const std::string name = fresh_name();
  auto q = open_azure_queue(account_, name);
  put_raw(name, "{\"raw\":\"json a producer forgot to encode\"}");
  q->enqueue("good");
  // The bad one is moved aside; the good one is delivered.
  auto m = q->receive(seconds(30));
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->body, "good");
  EXPECT_EQ(q->count(), 1);
  const auto poison = q->list_poison();
  ASSERT_EQ(poison.size(), 1u);
  EXPECT_EQ(poison[0].body, "{\"raw\":\"json a producer forgot to encode\"}");
  EXPECT_THAT(poison[0].last_error, AllOf(HasSubstr(poison[0].id), HasSubstr("Base64")));
  const auto raw = peek_raw(name + "-poison");
  ASSERT_EQ(raw.size(), 1u);
  EXPECT_EQ(raw[0].message_text, "{\"raw\":\"json a producer forgot to encode\"}");
}

TEST_F(AzureQueueService, APoisonMessageWithoutEnvelopeIsListedAndRedrivenPlain) {
  const std::string name = fresh_name();
  auto q = open_azure_queue(account_, name);
  // The Functions host copies the message's text as it is into "<queue>-poison".
  put_raw(name + "-poison", net::base64_encode("{\"symbol\":\"NOPE\"}"));
  const auto poison = q->list_poison();
  ASSERT_EQ(poison.size(), 1u);
  EXPECT_EQ(poison[0].body, "{\"symbol\":\"NOPE\"}");
  EXPECT_EQ(poison[0].last_error, "");
  EXPECT_EQ(poison[0].dequeue_count, 0);
  EXPECT_EQ(q->redrive({poison[0].id}), 1);
  const auto raw = peek_raw(name);
  ASSERT_EQ(raw.size(), 1u);
  EXPECT_EQ(raw[0].message_text, net::base64_encode("{\"symbol\":\"NOPE\"}"));  // still plain
  EXPECT_EQ(q->receive(seconds(30))->body, "{\"symbol\":\"NOPE\"}");
}

TEST_F(AzureQueueService, PoisonKeepsTheOriginalIdCountErrorAndKey) {
  const std::string name = fresh_name();
  auto q = open_azure_queue(account_, name);
  const std::string id = *q->enqueue_unique("work", "k1");
  auto m = q->receive(seconds(30));
  q->dead_letter(*m, std::string(3000, 'e'));
  EXPECT_EQ(marker_status(name, "k1"), 404);  // the key is free
  const auto raw = peek_raw(name + "-poison");
  ASSERT_EQ(raw.size(), 1u);
  EXPECT_NE(raw[0].message_id, id);  // a new Azure message...
  const azure::Envelope e = azure::decode_message_text(*raw[0].message_text, raw[0].message_id);
  EXPECT_EQ(e.id, id);  // ...that says where it came from
  EXPECT_EQ(e.dedupe_key, "k1");
  EXPECT_EQ(e.dequeue_count, 1);
  EXPECT_EQ(e.last_error, std::string(azure::kMaxErrorBytes, 'e'));
  EXPECT_EQ(q->list_poison()[0].id, id);
  // Redrive by the original id takes the key again.
  EXPECT_EQ(q->redrive({id}), 1);
  EXPECT_EQ(marker_status(name, "k1"), 200);
  EXPECT_EQ(q->enqueue_unique("work", "k1"), std::nullopt);
}

TEST_F(AzureQueueService, RemoveFreesOnlyAMarkerThatNamesTheMessage) {
  const std::string name = fresh_name();
  auto q = open_azure_queue(account_, name);
  const std::string first = *q->enqueue_unique("v1", "k");
  // A crash between deleting the marker and the message left `first` without its marker; the
  // work was queued again meanwhile, and that message holds the key now.
  ASSERT_EQ(send("DELETE", net::azure::Service::kBlob,
                 fmt::format("/{}/{}/{}", azure::kMarkerContainer, name, sha256_hex("k")))
                .status,
            202);
  const std::string second = *q->enqueue_unique("v2", "k");
  auto m = q->receive(seconds(30));
  ASSERT_EQ(m->id, first);
  EXPECT_EQ(m->dedupe_key, "k");
  q->remove(*m);  // must not free the key `second` holds
  EXPECT_EQ(q->enqueue_unique("v3", "k"), std::nullopt);
  m = q->receive(seconds(30));
  ASSERT_EQ(m->id, second);
  q->remove(*m);
  EXPECT_TRUE(q->enqueue_unique("v3", "k").has_value());
}

// Requests whose answers are lost, through a proxy in front of the Blob and Queue services. A
// "lost answer" is a 500 after the service applied the request (the client retries it) or a
// connection closed without an answer (on a connection libcurl reused, it resends the request by
// itself): either way the retry's 412 / 409 / 404 is the first attempt's doing, not another
// writer's, and the key must not leak.
class AzureQueueThroughFaults : public AzureQueueService {
 protected:
  using Fault = trib::testing::FaultProxy::Fault;

  void SetUp() override {
    AzureQueueService::SetUp();
    if (!client_) return;
    const net::UrlParts blob = net::parse_url(account_.blob_endpoint);
    const net::UrlParts queue = net::parse_url(account_.queue_endpoint);
    blob_proxy_.start(blob.host, blob.port);
    queue_proxy_.start(queue.host, queue.port);
    via_ = account_;
    via_.blob_endpoint = fmt::format("http://127.0.0.1:{}{}", blob_proxy_.port(), blob.path);
    via_.queue_endpoint = fmt::format("http://127.0.0.1:{}{}", queue_proxy_.port(), queue.path);
  }

  // The marker of `key`: its message id, "" without one, nullopt when there is none.
  std::optional<std::string> marker_names(const std::string& queue, const std::string& key) {
    const auto r = send("GET", net::azure::Service::kBlob,
                        fmt::format("/{}/{}/{}", azure::kMarkerContainer, queue, sha256_hex(key)));
    if (r.status == 404) return std::nullopt;
    EXPECT_EQ(r.status, 200) << r.body;
    return nlohmann::json::parse(r.body).value("message_id", "?");
  }

  static std::function<bool(const httplib::Request&)> marker_put(const char* condition) {
    return [condition](const httplib::Request& r) {
      return r.method == "PUT" && r.path.find(azure::kMarkerContainer) != std::string::npos &&
             r.has_header(condition);
    };
  }

  trib::testing::FaultProxy blob_proxy_{0, 0, 1}, queue_proxy_{0, 0, 2};
  net::azure::StorageAccount via_;
};

TEST_F(AzureQueueThroughFaults, AStaleMarkerTakenOverDespiteALostAnswerIsOurs) {
  const std::string name = fresh_name();
  azure::Tuning tuning;
  tuning.stale_marker_after = seconds(2);
  auto q = azure::open_queue(via_, name, {}, /*create=*/true, tuning);
  put_marker_blob(name, "k", "");  // its enqueuer died before queueing the message
  std::this_thread::sleep_for(std::chrono::milliseconds(3200));  // Last-Modified has 1 s steps
  // The takeover (If-Match: the stale marker's ETag) is applied; its answer is a 500; the retry
  // gets 412. Read as "someone else took it", the key would stay held by a marker without a
  // message for another stale_marker_after, and this work would not be queued.
  blob_proxy_.inject_once(Fault::kLose, marker_put("If-Match"));
  const auto id = q->enqueue_unique("v1", "k");
  EXPECT_EQ(blob_proxy_.stats().lost_answers, 1);
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(marker_names(name, "k"), *id);
  auto m = q->receive(seconds(30));
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->id, *id);
  q->remove(*m);
  EXPECT_EQ(marker_names(name, "k"), std::nullopt);
}

TEST_F(AzureQueueThroughFaults, RequestsResentAfterADroppedConnectionAreOurs) {
  const std::string name = fresh_name();
  auto q = open_azure_queue(via_, name);  // creating the container: a blob connection to reuse
  // The marker is created, then the connection closes without an answer: the resend gets 409.
  blob_proxy_.inject_once(Fault::kDropAfter, marker_put("If-None-Match"));
  const auto id = q->enqueue_unique("v1", "k");
  ASSERT_TRUE(id.has_value()) << "the key's own marker taken for another enqueuer's";
  EXPECT_EQ(marker_names(name, "k"), *id);
  // The message is deleted, then the connection closes: the resend gets 404.
  queue_proxy_.inject_once(Fault::kDropAfter, [](const httplib::Request& r) {
    return r.method == "DELETE" && r.path.find("/messages/") != std::string::npos;
  });
  auto m = q->receive(seconds(30));
  ASSERT_TRUE(m.has_value());
  EXPECT_NO_THROW(q->remove(*m));
  EXPECT_EQ(q->count(), 0);
  EXPECT_EQ(marker_names(name, "k"), std::nullopt);
  EXPECT_EQ(blob_proxy_.stats().dropped_after + queue_proxy_.stats().dropped_after, 2);
}

// The marker is written but its answer lost, and every retry fails before reaching the service:
// enqueue_unique fails. The marker it wrote must not stay behind holding the key, or a rerun
// (the backfill's own advice on a transient error) would take the work as queued already and it
// would never be queued (until the marker went stale, ten minutes later).
TEST_F(AzureQueueThroughFaults, AMarkerWrittenByAnEnqueueThatFailedIsTakenBack) {
  const std::string name = fresh_name();
  auto q = open_azure_queue(via_, name);
  blob_proxy_.inject_once(Fault::kLose, marker_put("If-None-Match"));
  for (int i = 0; i < 8; ++i) blob_proxy_.inject_once(Fault::kBefore, marker_put("If-None-Match"));
  const Error e = error_of([&] { q->enqueue_unique("v1", "k"); });
  EXPECT_TRUE(e.category() == ErrorCategory::kRetryable || e.category() == ErrorCategory::kRateLimited)
      << e.what();
  EXPECT_EQ(blob_proxy_.stats().lost_answers, 1);
  EXPECT_EQ(marker_names(name, "k"), std::nullopt) << "the failed enqueue left its marker";
  // What is left of the injections fails the rerun's first tries; the rerun queues the work.
  std::optional<std::string> id;
  for (int rerun = 0; rerun < 3 && !id; ++rerun) {
    try {
      id = q->enqueue_unique("v1", "k");
      ASSERT_TRUE(id.has_value()) << "the rerun took the work as queued already";
    } catch (const Error& again) {
      ASSERT_NE(again.category(), ErrorCategory::kConflict) << again.what();
    }
  }
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(q->count(), 1);
  EXPECT_EQ(marker_names(name, "k"), *id);
}

// A remove checks its lease (Update Message) before it frees the key; when that answer is lost,
// the retry's 400 PopReceiptMismatch is the first attempt's doing, and the new receipt is
// unknown: the remove fails, and the message, its work done, is hidden until the check's lease
// ends. That lease is short, so the message comes back within seconds, not a minute.
TEST_F(AzureQueueThroughFaults, ARemoveWhoseLeaseCheckLostItsAnswerGetsItsMessageBackSoon) {
  const std::string name = fresh_name();
  auto q = open_azure_queue(via_, name);
  ASSERT_TRUE(q->enqueue_unique("v1", "k").has_value());
  auto m = q->receive(seconds(30));
  ASSERT_TRUE(m.has_value());
  queue_proxy_.inject_once(Fault::kLose, [id = m->id](const httplib::Request& r) {
    return r.method == "PUT" && r.path.ends_with("/messages/" + id);
  });
  EXPECT_EQ(error_of([&] { q->remove(*m); }).category(), ErrorCategory::kConflict);
  const auto failed_at = std::chrono::steady_clock::now();
  std::optional<Message> again;
  while (!again && std::chrono::steady_clock::now() - failed_at < seconds(40)) {
    again = q->receive(seconds(30));
    if (!again) std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  ASSERT_TRUE(again.has_value());
  EXPECT_LT(std::chrono::steady_clock::now() - failed_at, seconds(15));
  EXPECT_EQ(again->id, m->id);
  EXPECT_EQ(again->dequeue_count, 2);
  q->remove(*again);
  EXPECT_EQ(q->count(), 0);
  EXPECT_EQ(marker_names(name, "k"), std::nullopt);
}

TEST_F(AzureQueueService, AMarkerWithoutMessageIsTakenOverOnlyOnceStale) {
  const std::string name = fresh_name();
  azure::Tuning tuning;
  tuning.stale_marker_after = seconds(2);
  auto q = azure::open_queue(account_, name, {}, /*create=*/true, tuning);
  // An enqueuer that died after writing its marker, before its message existed; and one marker
  // that does name a message (the message is queued: never taken over, however old).
  put_marker_blob(name, "orphan", "");
  put_marker_blob(name, "held", "some-message-id");
  // And one that is not a marker at all (written by hand, truncated): never deleted by a remove,
  // never trusted; it holds its key like an orphan, until stale.
  put_marker_blob(name, "garbage", "", "{\"key\":\"garb");
  EXPECT_EQ(q->enqueue_unique("x", "orphan"), std::nullopt);  // young: maybe still enqueueing
  EXPECT_EQ(q->enqueue_unique("x", "garbage"), std::nullopt);
  std::this_thread::sleep_for(std::chrono::milliseconds(3200));  // Last-Modified has 1 s steps
  const auto taken = q->enqueue_unique("x", "orphan");
  ASSERT_TRUE(taken.has_value());
  EXPECT_EQ(q->enqueue_unique("x", "held"), std::nullopt);
  const auto garbage = q->enqueue_unique("garbage", "garbage");
  ASSERT_TRUE(garbage.has_value());
  EXPECT_EQ(q->enqueue_unique("garbage", "garbage"), std::nullopt);  // a real marker now
  auto m = q->receive(seconds(30));
  ASSERT_EQ(m->id, *taken);
  q->remove(*m);  // the marker names it now, so it goes with it
  EXPECT_EQ(marker_status(name, "orphan"), 404);
}

TEST_F(AzureQueueService, ClearDeletesTheQueuesMarkersOnly) {
  const std::string name = fresh_name(), other = fresh_name();
  auto q = open_azure_queue(account_, name);
  auto o = open_azure_queue(account_, other);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(q->enqueue_unique("x", fmt::format("k{}", i)));
  ASSERT_TRUE(o->enqueue_unique("x", "k0"));
  q->clear();
  EXPECT_EQ(q->count(), 0);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(marker_status(name, fmt::format("k{}", i)), 404) << i;
  EXPECT_EQ(marker_status(other, "k0"), 200);
  EXPECT_EQ(o->enqueue_unique("x", "k0"), std::nullopt);
}

TEST_F(AzureQueueService, AMissingQueueIsNotFoundSayingToRunTribInit) {
  const std::string name = fresh_name();
  const Error e = error_of([&] { open_azure_queue(account_, name, {}, /*create=*/false); });
  EXPECT_EQ(e.category(), ErrorCategory::kNotFound);
  EXPECT_THAT(e.what(), AllOf(HasSubstr(name), HasSubstr("trib init")));
  open_azure_queue(account_, name);                          // creates both
  open_azure_queue(account_, name, {}, /*create=*/false);   // now there
  open_azure_queue(account_, name);                          // creating again is fine
}

TEST_F(AzureQueueService, AWrongAccountKeyIsPermanentAndTheKeyNeverShows) {
  net::azure::StorageAccount wrong = account_;
  const std::string bad_key = net::base64_encode(std::string(64, 'k'));
  wrong.key.emplace(wrong.name, bad_key);
  const Error e = error_of([&] { open_azure_queue(wrong, fresh_name()); });
  EXPECT_EQ(e.category(), ErrorCategory::kPermanent);
  EXPECT_THAT(e.what(), AllOf(HasSubstr("403"), HasSubstr("check AZURE_STORAGE_KEY"),
                              Not(HasSubstr(bad_key)), Not(HasSubstr(bad_key.substr(0, 20)))));
}

// An account SAS (the Account SAS rules, version 2020-12-06+: the string to sign ends with the
// encryption scope and a newline), signed with the development account's key.
std::string account_sas(const net::azure::StorageAccount& account, const std::string& expiry) {
  const std::string version = "2021-08-06", services = "bq", types = "sco", permissions = "rwdlacup";
  const std::string to_sign = fmt::format("{}\n{}\n{}\n{}\n\n{}\n\n\n{}\n\n", account.name,
                                          permissions, services, types, expiry, version);
  return fmt::format("sv={}&ss={}&srt={}&sp={}&se={}&sig={}", version, services, types,
                     permissions, net::percent_encode(expiry),
                     net::percent_encode(account.key->sign(to_sign)));
}

TEST_F(AzureQueueService, AnExpiredSasTokenIsPermanent) {
  const std::string name = fresh_name();
  open_azure_queue(account_, name);  // created with the key
  auto with_sas = [&](const std::string& expiry) {
    net::azure::StorageAccount a;
    a.name = account_.name;
    a.blob_endpoint = account_.blob_endpoint;
    a.queue_endpoint = account_.queue_endpoint;
    a.sas = account_sas(account_, expiry);
    return a;
  };
  // A valid token works (so the signature is right and only the expiry differs below).
  auto q = open_azure_queue(with_sas("2099-01-01T00:00:00Z"), name, {}, /*create=*/false);
  q->enqueue_unique("via sas", "sas-key");
  auto m = q->receive(seconds(30));
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->body, "via sas");
  q->remove(*m);
  const net::azure::StorageAccount expired = with_sas("2020-01-01T00:00:00Z");
  const Error e = error_of([&] { open_azure_queue(expired, name, {}, /*create=*/false); });
  EXPECT_EQ(e.category(), ErrorCategory::kPermanent);
  EXPECT_THAT(e.what(), AllOf(HasSubstr("403"), HasSubstr("SAS token has not expired"),
                              Not(HasSubstr(expired.sas))));
}

TEST_F(AzureQueueService, NamesAndDurationsAzureRefusesAreInvalidInputBeforeAnyRequest) {
  // Nothing listens on port 1: a request would be a Retryable connection error.
  net::azure::StorageAccount nowhere = account_;
  nowhere.blob_endpoint = "http://127.0.0.1:1/devstoreaccount1";
  nowhere.queue_endpoint = "http://127.0.0.1:1/devstoreaccount1";
  for (const std::string& name :
       {std::string("Tasks"), std::string("ab"), std::string("a_b"), std::string("a--b"),
        std::string("-ab"), std::string(57, 'q')}) {
    const Error e = error_of([&] { open_azure_queue(nowhere, name); });
    EXPECT_EQ(e.category(), ErrorCategory::kInvalidInput) << name;
    EXPECT_THAT(e.what(), AllOf(HasSubstr("3-56 lowercase letters, digits and single hyphens"),
                                HasSubstr("-poison")))
        << name;
  }
  auto q = open_azure_queue(account_, fresh_name());
  const seconds eight_days(8 * 24 * 3600);
  for (const Error& e : {error_of([&] { q->enqueue("x", eight_days); }),
                         error_of([&] { q->enqueue_unique("x", "k", eight_days); }),
                         error_of([&] { q->receive(eight_days); })}) {
    EXPECT_EQ(e.category(), ErrorCategory::kInvalidInput);
    EXPECT_THAT(e.what(), HasSubstr("7 days"));
  }
  EXPECT_EQ(q->count(), 0);
  // A lease of 0 s is Azure's shortest, 1 s.
  q->enqueue("x");
  auto m = q->receive(seconds(0));
  ASSERT_TRUE(m.has_value());
  EXPECT_FALSE(q->receive(seconds(30)).has_value());
}

}  // namespace
}  // namespace trib::queue
