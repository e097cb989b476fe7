// llm: a client for the Chat Completions protocol, as OpenAI and Azure OpenAI speak it.
//
// The wire format is kept in pure functions (request_json, parse_completion, SseParser,
// StreamAccumulator) so the parsers of what a server sends can be fuzzed and tested without a
// network; ChatClient puts them on net::HttpClient with timeouts and retries.
//
//   OpenAI:  POST {url}/chat/completions                       Authorization: Bearer KEY
//   Azure:   POST {url}/openai/deployments/{model}/chat/completions?api-version=V
//                                                              api-key: KEY, or Authorization: Bearer TOKEN
// Streaming (`"stream": true`) answers text/event-stream: `data: {chat.completion.chunk}` events,
// then `data: [DONE]`. Tool calls arrive as deltas keyed by index (id and name first, the
// arguments' JSON text in pieces); the accumulator joins them.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "trib/core/config.hpp"
#include "trib/net/http_client.hpp"
#include "trib/net/retry.hpp"

namespace trib::llm {

struct ToolCall {
  std::string id;         // the model's id for the call; the tool's answer quotes it
  std::string name;
  std::string arguments;  // JSON text exactly as the model wrote it (may be invalid)
};

struct Message {
  std::string role;  // system | user | assistant | tool
  std::string content;
  std::vector<ToolCall> tool_calls;  // assistant
  std::string tool_call_id;          // tool
};

struct ToolSpec {
  std::string name, description;
  nlohmann::json parameters;  // a JSON Schema object
};

struct Usage {
  int64_t prompt_tokens = 0, completion_tokens = 0, total_tokens = 0;
};

struct ChatRequest {
  std::vector<Message> messages;
  std::vector<ToolSpec> tools;
  double temperature = 0;
  int max_completion_tokens = 0;  // 0: not sent (the server's default)
};

struct ChatReply {
  Message message;            // role "assistant"
  std::string finish_reason;  // stop | tool_calls | length | content_filter
  Usage usage;
  std::string id, model;
};

// ---- the wire format ----

// The request body. `model` is sent for both kinds (Azure takes the deployment from the path).
nlohmann::json request_json(const ChatRequest& request, const std::string& model, bool stream);

// A non-streamed answer (object "chat.completion"). Error::Permanent naming what is wrong for
// anything that is not one (no choices, a message without a role, tool calls without ids).
ChatReply parse_completion(std::string_view body);

// The message of an error body ({"error": {"message", "type", "code"}}), or a short excerpt of
// the body when it is not one.
std::string error_message(std::string_view body);

// text/event-stream framing (the WHATWG rules the servers follow): lines end in \n, \r\n or \r;
// `data:` lines accumulate (joined by \n) until a blank line dispatches the event; lines starting
// with ':' are comments (keep-alives); other fields (event, id, retry) are ignored. A line may
// arrive split across feeds. Lines longer than kMaxLine throw Error::Permanent.
class SseParser {
 public:
  static constexpr size_t kMaxLine = 8 << 20;
  using OnEvent = std::function<void(std::string_view data)>;
  void feed(std::string_view bytes, const OnEvent& on_event);
  // End of the stream: dispatches an event the server did not end with a blank line.
  void finish(const OnEvent& on_event);

 private:
  void line(std::string_view text, const OnEvent& on_event);
  std::string pending_;  // an incomplete line
  std::string data_;
  bool has_data_ = false;
  bool last_was_cr_ = false;
};

// Joins chat.completion.chunk events into one reply.
class StreamAccumulator {
 public:
  // One event's data. Returns the content text the chunk adds (to show as it arrives). "[DONE]"
  // ends the stream; a chunk after it, a chunk that is not JSON or not a chunk, or a tool-call
  // delta with an index out of order throws Error::Permanent. An error event ({"error": ...},
  // which some servers send mid-stream) throws Error::Retryable with its message.
  std::string add(std::string_view data);
  bool done() const { return done_; }
  // The reply so far; throws Error::Permanent when a tool call lacks an id or a name.
  ChatReply reply() const;

 private:
  ChatReply reply_;
  bool done_ = false;
  bool saw_chunk_ = false;
};

// ---- the client ----

class ChatClient {
 public:
  virtual ~ChatClient() = default;
  // One exchange. `on_text`, when set, receives the answer's text as it streams in. Retries 429,
  // 5xx and lost connections (the server's Retry-After, else backoff) until [llm] max_retries,
  // but never once text was shown. Errors: Error::InvalidInput for 400/404 (with the server's
  // message), Error::Permanent for 401/403 (naming the key's variable), Error::RateLimited or
  // Retryable when the retries ran out.
  virtual ChatReply complete(const ChatRequest& request,
                             const std::function<void(std::string_view)>& on_text = nullptr) = 0;
  // "openai gpt-4o-mini at https://api.openai.com/v1" (never the key).
  virtual std::string describe() const = 0;
};

// The configured endpoint. Error::InvalidInput with the fix when [llm] kind is "none" or the
// key's environment variable is unset. `getenv` is the environment (a seam for tests).
std::unique_ptr<ChatClient> make_chat_client(const LlmConfig& config,
                                             std::unique_ptr<net::HttpClient> http = nullptr,
                                             net::Sleeper* sleeper = nullptr,
                                             const std::function<const char*(const char*)>& getenv = nullptr);

// The environment variable holding the key for `config` ([llm] key_env, else the kind's default).
std::string key_variable(const LlmConfig& config);

}  // namespace trib::llm
