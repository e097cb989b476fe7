// The Chat Completions wire format: request bodies, completions, server-sent events and chunk
// streams. Pure functions of bytes (the fuzz target fuzz/llm_stream_fuzz.cpp links only this).
#include "trib/llm/chat.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "trib/core/error.hpp"
#include "trib/core/log.hpp"

namespace trib::llm {

using nlohmann::json;

namespace {

json message_json(const Message& m) {
  json out = {{"role", m.role}};
  if (m.role == "assistant" && !m.tool_calls.empty()) {
    // The protocol's shape for a turn that only called tools: content null, the calls listed.
    out["content"] = m.content.empty() ? json(nullptr) : json(m.content);
    json calls = json::array();
    for (const auto& c : m.tool_calls) {
      calls.push_back({{"id", c.id}, {"type", "function"}, {"function", {{"name", c.name}, {"arguments", c.arguments}}}});
    }
    out["tool_calls"] = calls;
  } else {
    out["content"] = m.content;
  }
  if (m.role == "tool") out["tool_call_id"] = m.tool_call_id;
  return out;
}

std::string text_of(const json& value, std::string_view what) {
  if (value.is_null()) return "";
  if (!value.is_string()) throw Error::Permanent(fmt::format("LLM answer: {} is not a string", what));
  return value.get<std::string>();
}

Usage usage_of(const json& u) {
  Usage out;
  if (!u.is_object()) return out;
  auto num = [&](const char* key) -> int64_t {
    const auto it = u.find(key);
    return it != u.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
  };
  out.prompt_tokens = num("prompt_tokens");
  out.completion_tokens = num("completion_tokens");
  out.total_tokens = num("total_tokens");
  return out;
}

json parse_json(std::string_view text, std::string_view what) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) {
    throw Error::Permanent(fmt::format("LLM answer: {} is not JSON: {}", what,
                                       log::redact(text.substr(0, std::min<size_t>(text.size(), 200)))));
  }
  return j;
}

}  // namespace

json request_json(const ChatRequest& request, const std::string& model, bool stream) {
  json body = {{"model", model}, {"temperature", request.temperature}};
  json messages = json::array();
  for (const auto& m : request.messages) messages.push_back(message_json(m));
  body["messages"] = messages;
  if (!request.tools.empty()) {
    json tools = json::array();
    for (const auto& t : request.tools) {
      tools.push_back({{"type", "function"},
                       {"function", {{"name", t.name}, {"description", t.description}, {"parameters", t.parameters}}}});
    }
    body["tools"] = tools;
    body["tool_choice"] = "auto";
  }
  if (request.max_completion_tokens > 0) body["max_completion_tokens"] = request.max_completion_tokens;
  if (stream) {
    body["stream"] = true;
    body["stream_options"] = {{"include_usage", true}};  // the last chunk carries the usage
  }
  return body;
}

ChatReply parse_completion(std::string_view body) {
  const json j = parse_json(body, "the completion");
  if (!j.is_object()) throw Error::Permanent("LLM answer: the completion is not a JSON object");
  const auto choices = j.find("choices");
  if (choices == j.end() || !choices->is_array() || choices->empty() || !(*choices)[0].is_object()) {
    throw Error::Permanent("LLM answer: the completion has no choices");
  }
  const json& choice = (*choices)[0];
  const auto message = choice.find("message");
  if (message == choice.end() || !message->is_object()) throw Error::Permanent("LLM answer: the choice has no message");
  ChatReply out;
  out.message.role = message->contains("role") ? text_of((*message)["role"], "message.role") : "assistant";
  if (out.message.role != "assistant") {
    throw Error::Permanent(fmt::format("LLM answer: message role '{}' (expected assistant)", out.message.role));
  }
  if (message->contains("content")) out.message.content = text_of((*message)["content"], "message.content");
  if (const auto calls = message->find("tool_calls"); calls != message->end() && !calls->is_null()) {
    if (!calls->is_array()) throw Error::Permanent("LLM answer: tool_calls is not an array");
    for (const auto& c : *calls) {
      if (!c.is_object() || !c.contains("function") || !c["function"].is_object()) {
        throw Error::Permanent("LLM answer: a tool call has no function");
      }
      ToolCall call;
      call.id = c.contains("id") ? text_of(c["id"], "tool_calls[].id") : "";
      call.name = c["function"].contains("name") ? text_of(c["function"]["name"], "function.name") : "";
      call.arguments = c["function"].contains("arguments") ? text_of(c["function"]["arguments"], "function.arguments") : "";
      if (call.id.empty() || call.name.empty()) throw Error::Permanent("LLM answer: a tool call lacks its id or name");
      out.message.tool_calls.push_back(std::move(call));
    }
  }
  if (choice.contains("finish_reason")) out.finish_reason = text_of(choice["finish_reason"], "finish_reason");
  if (j.contains("usage")) out.usage = usage_of(j["usage"]);
  if (j.contains("id") && j["id"].is_string()) out.id = j["id"].get<std::string>();
  if (j.contains("model") && j["model"].is_string()) out.model = j["model"].get<std::string>();
  return out;
}

std::string error_message(std::string_view body) {
  const json j = json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("error")) {
    const json& e = j["error"];
    if (e.is_object() && e.contains("message") && e["message"].is_string()) {
      std::string out = e["message"].get<std::string>();
      if (e.contains("code") && e["code"].is_string()) out += " (" + e["code"].get<std::string>() + ")";
      return log::redact(out.substr(0, 500));
    }
    if (e.is_string()) return log::redact(e.get<std::string>().substr(0, 500));
  }
  std::string excerpt(body.substr(0, std::min<size_t>(body.size(), 200)));
  return log::redact(excerpt.empty() ? "(empty body)" : excerpt);
}

// ---- server-sent events ----

void SseParser::feed(std::string_view bytes, const OnEvent& on_event) {
  for (char c : bytes) {
    if (last_was_cr_ && c == '\n') {  // the \n of a \r\n: the line already ended
      last_was_cr_ = false;
      continue;
    }
    last_was_cr_ = false;
    if (c == '\r' || c == '\n') {
      last_was_cr_ = c == '\r';
      line(pending_, on_event);
      pending_.clear();
      continue;
    }
    if (pending_.size() >= kMaxLine) {
      throw Error::Permanent(fmt::format("LLM stream: a line longer than {} bytes", kMaxLine));
    }
    pending_.push_back(c);
  }
}

void SseParser::finish(const OnEvent& on_event) {
  if (!pending_.empty()) {
    line(pending_, on_event);
    pending_.clear();
  }
  line("", on_event);
}

void SseParser::line(std::string_view text, const OnEvent& on_event) {
  if (text.empty()) {
    if (has_data_) {
      const std::string data = std::move(data_);
      data_.clear();
      has_data_ = false;
      on_event(data);
    }
    return;
  }
  if (text.front() == ':') return;  // a comment
  const size_t colon = text.find(':');
  const std::string_view field = text.substr(0, colon);
  std::string_view value = colon == std::string_view::npos ? std::string_view() : text.substr(colon + 1);
  if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  if (field != "data") return;
  if (has_data_) data_.push_back('\n');
  if (data_.size() + value.size() > kMaxLine) {
    throw Error::Permanent(fmt::format("LLM stream: an event longer than {} bytes", kMaxLine));
  }
  data_.append(value);
  has_data_ = true;
}

std::string StreamAccumulator::add(std::string_view data) {
  if (done_) throw Error::Permanent("LLM stream: data after [DONE]");
  if (data == "[DONE]") {
    done_ = true;
    return "";
  }
  const json j = parse_json(data, "a stream chunk");
  if (!j.is_object()) throw Error::Permanent("LLM stream: a chunk is not a JSON object");
  if (j.contains("error")) throw Error::Retryable("LLM stream: the server sent an error: " + error_message(data));
  saw_chunk_ = true;
  if (j.contains("id") && j["id"].is_string() && reply_.id.empty()) reply_.id = j["id"].get<std::string>();
  if (j.contains("model") && j["model"].is_string() && reply_.model.empty()) reply_.model = j["model"].get<std::string>();
  if (j.contains("usage") && j["usage"].is_object()) reply_.usage = usage_of(j["usage"]);
  const auto choices = j.find("choices");
  if (choices == j.end() || choices->is_null()) return "";
  if (!choices->is_array()) throw Error::Permanent("LLM stream: choices is not an array");
  std::string text;
  for (const auto& choice : *choices) {
    if (!choice.is_object()) throw Error::Permanent("LLM stream: a choice is not an object");
    if (choice.contains("index") && !(choice["index"].is_number_integer() && choice["index"].get<int64_t>() == 0)) {
      continue;  // we ask for one choice; others are not ours
    }
    if (choice.contains("finish_reason") && !choice["finish_reason"].is_null()) {
      reply_.finish_reason = text_of(choice["finish_reason"], "finish_reason");
    }
    const auto delta = choice.find("delta");
    if (delta == choice.end() || delta->is_null()) continue;
    if (!delta->is_object()) throw Error::Permanent("LLM stream: delta is not an object");
    if (delta->contains("role")) reply_.message.role = text_of((*delta)["role"], "delta.role");
    if (delta->contains("content")) {
      const std::string piece = text_of((*delta)["content"], "delta.content");
      reply_.message.content += piece;
      text += piece;
    }
    const auto calls = delta->find("tool_calls");
    if (calls == delta->end() || calls->is_null()) continue;
    if (!calls->is_array()) throw Error::Permanent("LLM stream: delta.tool_calls is not an array");
    auto& out = reply_.message.tool_calls;
    for (const auto& c : *calls) {
      if (!c.is_object() || !c.contains("index") || !c["index"].is_number_integer()) {
        throw Error::Permanent("LLM stream: a tool call delta has no index");
      }
      const int64_t index = c["index"].get<int64_t>();
      // A new call opens at the next index; an index beyond that means chunks were lost.
      if (index < 0 || index > static_cast<int64_t>(out.size())) {
        throw Error::Permanent(fmt::format("LLM stream: tool call index {} out of order", index));
      }
      if (index == static_cast<int64_t>(out.size())) out.emplace_back();
      ToolCall& call = out[static_cast<size_t>(index)];
      if (c.contains("id") && !c["id"].is_null()) call.id += text_of(c["id"], "tool_calls[].id");
      if (c.contains("function") && c["function"].is_object()) {
        const json& f = c["function"];
        if (f.contains("name") && !f["name"].is_null()) call.name += text_of(f["name"], "function.name");
        if (f.contains("arguments") && !f["arguments"].is_null()) {
          call.arguments += text_of(f["arguments"], "function.arguments");
        }
        if (call.arguments.size() > SseParser::kMaxLine) throw Error::Permanent("LLM stream: tool arguments too long");
      }
    }
  }
  return text;
}

ChatReply StreamAccumulator::reply() const {
  ChatReply out = reply_;
  if (out.message.role.empty()) out.message.role = "assistant";
  if (out.message.role != "assistant") {
    throw Error::Permanent(fmt::format("LLM stream: role '{}' (expected assistant)", out.message.role));
  }
  for (const auto& c : out.message.tool_calls) {
    if (c.id.empty() || c.name.empty()) throw Error::Permanent("LLM stream: a tool call lacks its id or name");
  }
  if (!saw_chunk_) throw Error::Permanent("LLM stream: no chunk arrived");
  return out;
}

}  // namespace trib::llm
