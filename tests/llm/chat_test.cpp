// The Chat Completions client: the wire format's parsers on hand-written input, and the client
// against the mock server (tests/support/mock_llm) in both protocols, streamed and not, with the
// faults the issue names: 429 then success, a timeout, bad keys, no endpoint.
#include <gtest/gtest.h>

#include "mock_llm.hpp"
#include "trib/core/error.hpp"
#include "trib/llm/chat.hpp"

namespace trib::llm {
namespace {

using nlohmann::json;

std::vector<std::string> events_of(const std::vector<std::string>& feeds, bool finish = true) {
  SseParser p;
  std::vector<std::string> out;
  auto on = [&](std::string_view d) { out.emplace_back(d); };
  for (const auto& f : feeds) p.feed(f, on);
  if (finish) p.finish(on);
  return out;
}

TEST(Sse, JoinsLinesSplitAcrossFeedsAndEveryLineEnding) {
  EXPECT_EQ(events_of({"data: a\n\n", "data: b\r\n\r\n", "data: c\r\rdata: d\n\n"}),
            (std::vector<std::string>{"a", "b", "c", "d"}));
  EXPECT_EQ(events_of({"da", "ta: {\"x\"", ":1}\r", "\n\r\n"}), (std::vector<std::string>{"{\"x\":1}"}));
  // Multi-line data joins with \n; comments, other fields and a missing space are handled.
  EXPECT_EQ(events_of({": keep-alive\n\nevent: x\nid: 3\ndata:one\ndata: two\n\n"}),
            (std::vector<std::string>{"one\ntwo"}));
  // An event without the closing blank line is dispatched at the end of the stream only.
  EXPECT_EQ(events_of({"data: tail"}, false), (std::vector<std::string>{}));
  EXPECT_EQ(events_of({"data: tail"}, true), (std::vector<std::string>{"tail"}));
}

TEST(Stream, JoinsContentAndToolCallDeltasByIndex) {
  StreamAccumulator acc;
  EXPECT_EQ(acc.add(R"({"choices":[],"prompt_filter_results":[]})"), "");  // Azure's first chunk
  EXPECT_EQ(acc.add(R"({"id":"c1","model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"}}]})"), "Hel");
  EXPECT_EQ(acc.add(R"({"choices":[{"index":0,"delta":{"content":"lo"}}]})"), "lo");
  acc.add(R"({"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_bars","arguments":""}}]}}]})");
  acc.add(R"({"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"symbol\":"}}]}}]})");
  acc.add(R"({"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_2","function":{"name":"coverage","arguments":"{}"}}]}}]})");
  acc.add(R"({"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"AAPL\"}"}}]}}]})");
  acc.add(R"({"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]})");
  acc.add(R"({"choices":[],"usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15}})");
  EXPECT_FALSE(acc.done());
  acc.add("[DONE]");
  EXPECT_TRUE(acc.done());
  const ChatReply r = acc.reply();
  EXPECT_EQ(r.message.content, "Hello");
  ASSERT_EQ(r.message.tool_calls.size(), 2u);
  EXPECT_EQ(r.message.tool_calls[0].id, "call_1");
  EXPECT_EQ(r.message.tool_calls[0].arguments, R"({"symbol":"AAPL"})");
  EXPECT_EQ(r.message.tool_calls[1].name, "coverage");
  EXPECT_EQ(r.finish_reason, "tool_calls");
  EXPECT_EQ(r.usage.total_tokens, 15);
  EXPECT_EQ(r.id, "c1");
  EXPECT_THROW(acc.add(R"({"choices":[]})"), Error);  // after [DONE]
}

TEST(Stream, RefusesMalformedChunks) {
  auto fails = [](const std::vector<std::string>& chunks) {
    StreamAccumulator acc;
    try {
      for (const auto& c : chunks) acc.add(c);
      acc.reply();
    } catch (const Error&) {
      return true;
    }
    return false;
  };
  EXPECT_TRUE(fails({"not json"}));
  EXPECT_TRUE(fails({"[1,2]"}));
  EXPECT_TRUE(fails({R"({"choices":{}})"}));
  EXPECT_TRUE(fails({R"({"choices":[{"delta":{"content":5}}]})"}));
  EXPECT_TRUE(fails({R"({"choices":[{"delta":{"tool_calls":[{"index":2,"id":"x"}]}}]})"}));  // skipped index
  EXPECT_TRUE(fails({R"({"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{}"}}]}}]})"}));  // no id
  EXPECT_TRUE(fails({R"({"error":{"message":"overloaded"}})"}));
  EXPECT_TRUE(fails({}));  // nothing arrived
  EXPECT_FALSE(fails({R"({"choices":[{"index":0,"delta":{"content":"ok"}}]})"}));
}

TEST(Completion, ParsesAnswersAndToolCallsAndRefusesOtherShapes) {
  const ChatReply r = parse_completion(
      R"({"id":"x","object":"chat.completion","model":"m","choices":[{"index":0,"message":{"role":"assistant","content":null,
      "tool_calls":[{"id":"call_9","type":"function","function":{"name":"get_model","arguments":"{\"model_id\":\"a\"}"}}]},
      "finish_reason":"tool_calls"}],"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}})");
  ASSERT_EQ(r.message.tool_calls.size(), 1u);
  EXPECT_EQ(r.message.tool_calls[0].name, "get_model");
  EXPECT_EQ(r.usage.total_tokens, 7);
  EXPECT_THROW(parse_completion("{}"), Error);
  EXPECT_THROW(parse_completion(R"({"choices":[{"message":{"role":"user","content":"x"}}]})"), Error);
  EXPECT_THROW(parse_completion(R"({"choices":[{"message":{"tool_calls":[{"function":{"name":"x"}}]}}]})"), Error);
  EXPECT_EQ(error_message(R"({"error":{"message":"Rate limit","code":"rate_limit_exceeded"}})"),
            "Rate limit (rate_limit_exceeded)");
}

TEST(Request, HasTheProtocolsShape) {
  ChatRequest req;
  req.messages = {{"system", "s", {}, ""}, {"user", "q", {}, ""},
                  {"assistant", "", {{"call_1", "get_bars", "{\"symbol\":\"A\"}"}}, ""},
                  {"tool", "{\"bars\":1}", {}, "call_1"}};
  req.tools = {{"get_bars", "bars", json{{"type", "object"}}}};
  const json body = request_json(req, "gpt-4o-mini", true);
  EXPECT_EQ(body["model"], "gpt-4o-mini");
  EXPECT_TRUE(body["messages"][2]["content"].is_null());
  EXPECT_EQ(body["messages"][2]["tool_calls"][0]["type"], "function");
  EXPECT_EQ(body["messages"][3]["tool_call_id"], "call_1");
  EXPECT_EQ(body["tools"][0]["function"]["name"], "get_bars");
  EXPECT_EQ(body["stream_options"]["include_usage"], true);
  // The mock's checks (the official SDK's shapes) accept it, streamed or not.
  EXPECT_EQ(testing::MockLlmServer::check_request(body, false), "");
  EXPECT_EQ(testing::MockLlmServer::check_request(request_json(req, "m", false), true), "");
  EXPECT_FALSE(request_json(req, "m", false).contains("stream_options"));
}

class RecordingSleeper : public net::Sleeper {
 public:
  void sleep_ms(int64_t ms) override { slept.push_back(ms); }
  int64_t now_unix_ms() override { return 1'700'000'000'000; }
  std::vector<int64_t> slept;
};

class ClientTest : public ::testing::TestWithParam<std::tuple<std::string, bool>> {
 protected:
  void SetUp() override { server_.start(); }
  LlmConfig config() const {
    LlmConfig c;
    c.kind = std::get<0>(GetParam());
    c.stream = std::get<1>(GetParam());
    c.url = c.kind == "azure" ? server_.azure_url() : server_.openai_url();
    c.model = c.kind == "azure" ? "research-4o" : "gpt-4o-mini";
    c.timeout_s = 2;
    c.max_retries = 2;
    return c;
  }
  std::unique_ptr<ChatClient> client(const LlmConfig& c) {
    return make_chat_client(c, nullptr, &sleeper_, [](const char*) -> const char* { return testing::MockLlmServer::kApiKey; });
  }
  static ChatRequest question(const std::string& text) {
    ChatRequest r;
    r.messages = {{"system", "be brief", {}, ""}, {"user", text, {}, ""}};
    r.tools = {{"get_bars", "bars", json{{"type", "object"}, {"properties", json::object()}}}};
    return r;
  }
  testing::MockLlmServer server_;
  RecordingSleeper sleeper_;
};

TEST_P(ClientTest, ToolCallsThenAnAnswerBuiltFromTheToolResult) {
  server_.load_script({{"conversations",
                        {{{"match", "close"},
                          {"turns",
                           {{{"tool_calls", {{{"name", "get_bars"}, {"arguments", {{"symbol", "AAPL"}, {"from", "2020-03-02"}}}}}}},
                            {{"content", "AAPL closed at {{get_bars.rows.0.close}} on {{get_bars.rows.0.date}}."}}}}}}}});
  auto c = client(config());
  ChatRequest req = question("what was the close?");
  std::string streamed;
  const ChatReply first = c->complete(req, [&](std::string_view t) { streamed += t; });
  ASSERT_EQ(first.message.tool_calls.size(), 1u);
  EXPECT_EQ(json::parse(first.message.tool_calls[0].arguments), (json{{"symbol", "AAPL"}, {"from", "2020-03-02"}}));
  EXPECT_EQ(first.finish_reason, "tool_calls");
  EXPECT_GT(first.usage.total_tokens, 0);
  req.messages.push_back(first.message);
  req.messages.push_back({"tool", R"({"rows":[{"date":"2020-03-02","close":74.7025}]})", {}, first.message.tool_calls[0].id});
  const ChatReply second = c->complete(req, [&](std::string_view t) { streamed += t; });
  EXPECT_EQ(second.message.content, "AAPL closed at 74.7025 on 2020-03-02.");
  EXPECT_EQ(streamed, config().stream ? second.message.content : "");
  const auto log = server_.requests();
  ASSERT_EQ(log.size(), 2u);
  for (const auto& r : log) {
    EXPECT_EQ(r.status, 200);
    if (config().kind == "azure") {
      EXPECT_EQ(r.deployment, "research-4o");
      EXPECT_EQ(r.api_version, "2024-10-21");
      EXPECT_EQ(r.headers.at("api-key"), testing::MockLlmServer::kApiKey);
    } else {
      EXPECT_EQ(r.headers.at("authorization"), std::string("Bearer ") + testing::MockLlmServer::kApiKey);
    }
    EXPECT_EQ(r.body.find(testing::MockLlmServer::kApiKey), std::string::npos);
  }
}

TEST_P(ClientTest, RetriesA429AfterItsRetryAfter) {
  server_.load_script({{"conversations",
                        {{{"match", "busy"},
                          {"turns", {{{"content", "fine"}, {"fault", {{"status", 429}, {"retry_after", 3}}}}}}}}}});
  auto c = client(config());
  EXPECT_EQ(c->complete(question("busy?")).message.content, "fine");
  EXPECT_EQ(sleeper_.slept, (std::vector<int64_t>{3000}));
  EXPECT_EQ(server_.requests().size(), 2u);
}

TEST_P(ClientTest, RetriesATimeoutThenGivesUpWithTheLimitsNamed) {
  server_.load_script({{"conversations",
                        {{{"match", "slow"},
                          {"turns", {{{"content", "late"}, {"fault", {{"delay_ms", 1300}}}}}}},
                         {{"match", "hang"},
                          {"turns", {{{"content", "never"}, {"fault", {{"delay_ms", 1300}, {"times", 10}}}}}}}}}});
  LlmConfig cfg = config();
  cfg.timeout_s = 1;
  auto c = client(cfg);
  EXPECT_EQ(c->complete(question("slow one")).message.content, "late");
  EXPECT_EQ(sleeper_.slept.size(), 1u);
  try {
    c->complete(question("hang forever"));
    FAIL() << "a server that never answers in time must fail";
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::kRetryable);
    EXPECT_NE(std::string(e.what()).find("failed after 3 attempts"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("timeout_s = 1"), std::string::npos) << e.what();
  }
}

TEST_P(ClientTest, ABadKeyIsPermanentAndNamesTheVariable) {
  LlmConfig cfg = config();
  auto c = make_chat_client(cfg, nullptr, &sleeper_, [](const char*) -> const char* { return "sk-wrong-key-123456"; });
  try {
    c->complete(question("anything"));
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::kPermanent);
    EXPECT_NE(std::string(e.what()).find(key_variable(cfg)), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find("sk-wrong-key-123456"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(sleeper_.slept.empty());
}

INSTANTIATE_TEST_SUITE_P(Protocols, ClientTest,
                         ::testing::Combine(::testing::Values("openai", "azure"), ::testing::Bool()),
                         [](const auto& info) {
                           return std::get<0>(info.param) + (std::get<1>(info.param) ? "_stream" : "_plain");
                         });

TEST(ClientConfig, NoEndpointOrNoKeyIsAClearError) {
  LlmConfig none;
  try {
    make_chat_client(none);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::kInvalidInput);
    EXPECT_NE(std::string(e.what()).find("[llm] kind"), std::string::npos);
  }
  LlmConfig azure;
  azure.kind = "azure";
  azure.url = "https://x.openai.azure.com";
  azure.auth = "bearer";
  try {
    make_chat_client(azure, nullptr, nullptr, [](const char*) -> const char* { return nullptr; });
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("AZURE_OPENAI_AD_TOKEN"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace trib::llm
