// A local server speaking the Chat Completions protocol as OpenAI and Azure OpenAI do, replaying
// scripted conversations, for the llm module's tests and the CLI's:
//
//   POST /v1/chat/completions                                        Authorization: Bearer kApiKey
//   POST /openai/deployments/{deployment}/chat/completions?api-version=V   api-key: kApiKey
//                                                                     (or Authorization: Bearer kApiKey)
//
// Requests are checked as the services check them (the request shapes of the official `openai`
// npm package are the reference, tests/interop/openai_protocol.test.mjs): messages with known
// roles, tool messages answering a tool call made earlier, function tools with valid names,
// stream_options only with stream, no unknown top-level argument. A bad request gets the
// services' 400 error body; a missing or wrong key 401.
//
// Answers come from a script (load, or POST /_mock/script with the JSON):
//   {"conversations": [{"match": "gaps", "turns": [TURN, ...]}]}
// The conversation is the first whose `match` is in the first user message; the turn is the
// number of assistant messages the request already holds (so a retried request gets the same
// turn). A TURN is
//   {"tool_calls": [{"name": "data_quality", "arguments": {"year": 2017}}]}   or
//   {"content": "AAPL closed at {{get_bars.summary.last_close}}"}
// with optional "fault": {"status": 429, "retry_after": 1} or {"delay_ms": 3000} served on the
// turn's first request only ("times": N for more). {{TOOL.path.to.value}} is replaced by the
// value at that path (dots; array indexes as numbers) in the newest tool result the request
// carries for a call of TOOL: so an answer's figures are the figures the client's tools returned.
//
// Streamed answers (stream: true) are sent as chat.completion.chunk events in small pieces with
// tool-call arguments split across chunks, a usage chunk when stream_options.include_usage, then
// [DONE]; Azure's first chunk has empty choices and prompt_filter_results, as Azure sends.
// Every request is recorded (GET /_mock/requests) for the tests' assertions (e.g. that no secret
// ever reached a prompt).
#pragma once

#include <httplib.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

namespace trib::testing {

struct LlmRequestLog {
  std::string kind;  // "openai" | "azure"
  std::string path, deployment, api_version;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  int status = 0;  // what the mock answered
};

class MockLlmServer {
 public:
  static constexpr const char* kApiKey = "sk-mock-llm-5e1f0c9a7b3d";

  MockLlmServer();
  ~MockLlmServer();
  MockLlmServer(const MockLlmServer&) = delete;
  MockLlmServer& operator=(const MockLlmServer&) = delete;

  void start(int port = 0);
  void stop();
  int port() const { return port_; }
  std::string openai_url() const;  // http://127.0.0.1:PORT/v1
  std::string azure_url() const;   // http://127.0.0.1:PORT

  void load_script(const nlohmann::json& script);  // replaces the script and the fault counters
  std::vector<LlmRequestLog> requests() const;
  void reset_log();

  // The request-shape checks, for tests of the checker itself: "" when acceptable.
  static std::string check_request(const nlohmann::json& body, bool azure);

 private:
  void handle(const httplib::Request& req, httplib::Response& res, bool azure, const std::string& deployment);
  void control(const httplib::Request& req, httplib::Response& res);

  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  mutable std::mutex mutex_;
  nlohmann::json script_ = nlohmann::json::object();
  std::map<std::string, int> faults_served_;  // "conversation/turn" -> times
  std::vector<LlmRequestLog> log_;
  int next_id_ = 1;
};

}  // namespace trib::testing
