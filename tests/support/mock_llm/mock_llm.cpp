#include "mock_llm.hpp"

#include <chrono>
#include <regex>
#include <set>
#include <stdexcept>

namespace trib::testing {

using nlohmann::json;

namespace {

json error_body(const std::string& message, const std::string& type, const json& param = nullptr,
                const json& code = nullptr) {
  return {{"error", {{"message", message}, {"type", type}, {"param", param}, {"code", code}}}};
}

// The value at a dotted path ("summary.last_close", "rows.0.1") of `j`, or null.
json at_path(const json& j, const std::string& path) {
  const json* cur = &j;
  size_t start = 0;
  while (start <= path.size()) {
    const size_t dot = path.find('.', start);
    const std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (cur->is_object() && cur->contains(part)) {
      cur = &(*cur)[part];
    } else if (cur->is_array() && !part.empty() && part.find_first_not_of("0123456789") == std::string::npos &&
               std::stoul(part) < cur->size()) {
      cur = &(*cur)[std::stoul(part)];
    } else {
      return nullptr;
    }
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return *cur;
}

// {{TOOL.path}} from the newest tool result for a call of TOOL in `messages`.
std::string fill(const std::string& text, const json& messages) {
  std::map<std::string, std::string> call_names;  // tool_call_id -> function name
  for (const auto& m : messages) {
    if (m.value("role", "") == "assistant" && m.contains("tool_calls")) {
      for (const auto& c : m["tool_calls"]) call_names[c.value("id", "")] = c["function"].value("name", "");
    }
  }
  static const std::regex placeholder(R"(\{\{([A-Za-z0-9_\-]+)\.?([^}]*)\}\})");
  std::string out;
  auto begin = std::sregex_iterator(text.begin(), text.end(), placeholder);
  size_t last = 0;
  for (auto it = begin; it != std::sregex_iterator(); ++it) {
    const auto& m = *it;
    out += text.substr(last, m.position() - last);
    last = m.position() + m.length();
    const std::string tool = m[1].str(), path = m[2].str();
    json value;
    for (auto msg = messages.rbegin(); msg != messages.rend(); ++msg) {
      if (msg->value("role", "") != "tool") continue;
      if (call_names[msg->value("tool_call_id", "")] != tool) continue;
      const json content = json::parse(msg->value("content", ""), nullptr, false);
      value = path.empty() ? content : at_path(content, path);
      break;
    }
    out += value.is_string() ? value.get<std::string>() : (value.is_null() ? "(missing)" : value.dump());
  }
  out += text.substr(last);
  return out;
}

std::vector<std::string> pieces(const std::string& s, size_t n) {
  std::vector<std::string> out;
  for (size_t i = 0; i < s.size(); i += n) out.push_back(s.substr(i, n));
  return out;
}

}  // namespace

MockLlmServer::MockLlmServer() {
  server_.Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) {
    handle(req, res, false, "");
  });
  server_.Post(R"(/openai/deployments/([^/]+)/chat/completions)", [this](const httplib::Request& req, httplib::Response& res) {
    handle(req, res, true, req.matches[1].str());
  });
  server_.Post(R"(/_mock/(\w+))", [this](const httplib::Request& req, httplib::Response& res) { control(req, res); });
  server_.Get(R"(/_mock/(\w+))", [this](const httplib::Request& req, httplib::Response& res) { control(req, res); });
}

MockLlmServer::~MockLlmServer() { stop(); }

void MockLlmServer::start(int port) {
  if (port == 0) {
    port_ = server_.bind_to_any_port("127.0.0.1");
  } else {
    if (!server_.bind_to_port("127.0.0.1", port)) throw std::runtime_error("mock_llm: cannot bind");
    port_ = port;
  }
  thread_ = std::thread([this] { server_.listen_after_bind(); });
  for (int i = 0; i < 500 && !server_.is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

void MockLlmServer::stop() {
  server_.stop();
  if (thread_.joinable()) thread_.join();
}

std::string MockLlmServer::openai_url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v1"; }
std::string MockLlmServer::azure_url() const { return "http://127.0.0.1:" + std::to_string(port_); }

void MockLlmServer::load_script(const json& script) {
  std::lock_guard lock(mutex_);
  script_ = script;
  faults_served_.clear();
}

std::vector<LlmRequestLog> MockLlmServer::requests() const {
  std::lock_guard lock(mutex_);
  return log_;
}

void MockLlmServer::reset_log() {
  std::lock_guard lock(mutex_);
  log_.clear();
}

std::string MockLlmServer::check_request(const json& body, bool azure) {
  static const std::set<std::string> known = {
      "model", "messages", "tools", "tool_choice", "stream", "stream_options", "temperature", "top_p",
      "max_tokens", "max_completion_tokens", "n", "stop", "presence_penalty", "frequency_penalty", "logit_bias",
      "user", "seed", "response_format", "parallel_tool_calls", "logprobs", "top_logprobs", "store", "metadata",
      "reasoning_effort", "modalities", "audio", "prediction", "service_tier", "functions", "function_call",
      "web_search_options", "verbosity", "prompt_cache_key", "safety_identifier", "data_sources"};
  if (!body.is_object()) return "We could not parse the JSON body of your request.";
  for (const auto& [key, _] : body.items()) {
    if (!known.count(key)) return "Unrecognized request argument supplied: " + key;
  }
  if (!azure && (!body.contains("model") || !body["model"].is_string() || body["model"].get<std::string>().empty())) {
    return "you must provide a model parameter";
  }
  if (!body.contains("messages") || !body["messages"].is_array() || body["messages"].empty()) {
    return "'messages' must contain at least one message";
  }
  std::set<std::string> open_calls;
  static const std::regex name_re("^[a-zA-Z0-9_-]{1,64}$");
  for (size_t i = 0; i < body["messages"].size(); ++i) {
    const json& m = body["messages"][i];
    const std::string where = "messages[" + std::to_string(i) + "]";
    if (!m.is_object() || !m.contains("role") || !m["role"].is_string()) return where + ": missing required parameter 'role'";
    const std::string role = m["role"];
    if (role != "system" && role != "developer" && role != "user" && role != "assistant" && role != "tool") {
      return where + ".role: '" + role + "' is not one of ['system', 'assistant', 'user', 'tool', 'developer']";
    }
    const bool has_calls = m.contains("tool_calls") && m["tool_calls"].is_array() && !m["tool_calls"].empty();
    if (m.contains("content")) {
      const json& c = m["content"];
      if (!(c.is_string() || c.is_array() || (c.is_null() && role == "assistant"))) {
        return where + ".content: expected a string or an array of content parts";
      }
    } else if (!(role == "assistant" && has_calls)) {
      return where + ": missing required parameter 'content'";
    }
    if (role == "assistant" && m.contains("tool_calls")) {
      if (!m["tool_calls"].is_array()) return where + ".tool_calls: expected an array";
      for (const auto& c : m["tool_calls"]) {
        if (!c.is_object() || !c.contains("id") || !c["id"].is_string() || c.value("type", "") != "function" ||
            !c.contains("function") || !c["function"].is_object() || !c["function"].contains("name") ||
            !c["function"]["name"].is_string() || !c["function"].contains("arguments") ||
            !c["function"]["arguments"].is_string()) {
          return where + ".tool_calls: each needs id, type 'function' and function.{name, arguments (a string)}";
        }
        open_calls.insert(c["id"].get<std::string>());
      }
    }
    if (role == "tool") {
      if (!m.contains("tool_call_id") || !m["tool_call_id"].is_string()) return where + ": missing required parameter 'tool_call_id'";
      if (!open_calls.count(m["tool_call_id"].get<std::string>())) {
        return "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.";
      }
    }
  }
  if (body.contains("tools")) {
    if (!body["tools"].is_array()) return "'tools': expected an array";
    for (const auto& t : body["tools"]) {
      if (!t.is_object() || t.value("type", "") != "function" || !t.contains("function") || !t["function"].is_object()) {
        return "tools[]: each needs type 'function' and a function object";
      }
      const json& f = t["function"];
      if (!f.contains("name") || !f["name"].is_string() || !std::regex_match(f["name"].get<std::string>(), name_re)) {
        return "tools[].function.name: must match ^[a-zA-Z0-9_-]{1,64}$";
      }
      if (f.contains("parameters") && !f["parameters"].is_object()) return "tools[].function.parameters: expected an object";
    }
  }
  if (body.contains("tool_choice") && !body.contains("tools")) return "tool_choice is only allowed when 'tools' are specified";
  if (body.contains("stream") && !body["stream"].is_boolean()) return "'stream': expected a boolean";
  if (body.contains("stream_options") && !body.value("stream", false)) {
    return "The 'stream_options' parameter is only allowed when 'stream' is enabled.";
  }
  if (body.contains("temperature")) {
    if (!body["temperature"].is_number() || body["temperature"].get<double>() < 0 || body["temperature"].get<double>() > 2) {
      return "'temperature': expected a number in [0, 2]";
    }
  }
  return "";
}

void MockLlmServer::handle(const httplib::Request& req, httplib::Response& res, bool azure, const std::string& deployment) {
  LlmRequestLog entry;
  entry.kind = azure ? "azure" : "openai";
  entry.path = req.path;
  entry.deployment = deployment;
  entry.api_version = req.get_param_value("api-version");
  for (const auto& [k, v] : req.headers) {
    std::string name = k;
    for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    entry.headers[name] = v;
  }
  entry.body = req.body;
  auto answer_json = [&](int status, const json& body) {
    entry.status = status;
    res.status = status;
    res.set_content(body.dump(), "application/json");
    std::lock_guard lock(mutex_);
    log_.push_back(entry);
  };
  const std::string bearer = "Bearer " + std::string(kApiKey);
  const bool authorised = azure ? (entry.headers["api-key"] == kApiKey || entry.headers["authorization"] == bearer)
                                : entry.headers["authorization"] == bearer;
  if (!authorised) {
    if (azure) {
      return answer_json(401, {{"error", {{"code", "401"}, {"message", "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource."}}}});
    }
    return answer_json(401, error_body("Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.",
                                       "invalid_request_error", nullptr, "invalid_api_key"));
  }
  if (azure && entry.api_version.empty()) {
    return answer_json(404, {{"error", {{"code", "404"}, {"message", "Resource not found"}}}});
  }
  const json body = json::parse(req.body, nullptr, false);
  if (const std::string why = check_request(body, azure); !why.empty()) {
    return answer_json(400, error_body(why, "invalid_request_error"));
  }
  // The conversation and the turn.
  const json& messages = body["messages"];
  std::string first_user;
  int turn = 0;
  for (const auto& m : messages) {
    if (m["role"] == "user" && first_user.empty() && m["content"].is_string()) first_user = m["content"];
    if (m["role"] == "assistant") ++turn;
  }
  json conversation;
  int conversation_index = -1;
  {
    std::lock_guard lock(mutex_);
    const json conversations = script_.value("conversations", json::array());
    for (size_t i = 0; i < conversations.size(); ++i) {
      if (first_user.find(conversations[i].value("match", "")) != std::string::npos) {
        conversation = conversations[i];
        conversation_index = static_cast<int>(i);
        break;
      }
    }
  }
  if (conversation_index < 0) {
    return answer_json(400, error_body("mock: no scripted conversation matches the first user message", "invalid_request_error"));
  }
  const json turns = conversation.value("turns", json::array());
  if (turn >= static_cast<int>(turns.size())) {
    return answer_json(400, error_body("mock: the script has no turn " + std::to_string(turn), "invalid_request_error"));
  }
  const json& t = turns[static_cast<size_t>(turn)];
  if (t.contains("fault")) {
    const json& fault = t["fault"];
    const std::string key = std::to_string(conversation_index) + "/" + std::to_string(turn);
    bool serve = false;
    {
      std::lock_guard lock(mutex_);
      if (faults_served_[key] < fault.value("times", 1)) {
        ++faults_served_[key];
        serve = true;
      }
    }
    if (serve && fault.contains("delay_ms")) {
      std::this_thread::sleep_for(std::chrono::milliseconds(fault["delay_ms"].get<int>()));
    } else if (serve && fault.contains("status")) {
      const int status = fault["status"];
      if (fault.contains("retry_after")) res.set_header("Retry-After", std::to_string(fault["retry_after"].get<int>()));
      if (status == 429) {
        return answer_json(429, error_body("Rate limit reached for requests", "requests", nullptr, "rate_limit_exceeded"));
      }
      return answer_json(status, error_body("The server had an error while processing your request. Sorry about that!",
                                            "server_error"));
    }
  }

  // The reply.
  std::string content;
  json calls = json::array();
  if (t.contains("content")) content = fill(t["content"].get<std::string>(), messages);
  int call_number = 0;
  for (const auto& c : t.value("tool_calls", json::array())) {
    std::string id;
    {
      std::lock_guard lock(mutex_);
      id = "call_" + std::to_string(next_id_++) + "_" + std::to_string(call_number++);
    }
    const json args = c.value("arguments", json::object());
    calls.push_back({{"id", id}, {"type", "function"},
                     {"function", {{"name", c["name"]}, {"arguments", args.is_string() ? args.get<std::string>() : args.dump()}}}});
  }
  const std::string finish = calls.empty() ? "stop" : "tool_calls";
  const int64_t prompt_tokens = static_cast<int64_t>(req.body.size() / 4);
  const int64_t completion_tokens = static_cast<int64_t>((content.size() + (calls.empty() ? 0 : calls.dump().size())) / 4) + 1;
  const json usage = {{"prompt_tokens", prompt_tokens}, {"completion_tokens", completion_tokens},
                      {"total_tokens", prompt_tokens + completion_tokens}};
  const std::string model = body.value("model", deployment);
  const std::string id = "chatcmpl-mock" + std::to_string(turn);
  const int64_t created = 1764800000;
  if (!body.value("stream", false)) {
    json message = {{"role", "assistant"}, {"content", calls.empty() ? json(content) : json(nullptr)}, {"refusal", nullptr}};
    if (!calls.empty()) message["tool_calls"] = calls;
    return answer_json(200, {{"id", id},
                             {"object", "chat.completion"},
                             {"created", created},
                             {"model", model},
                             {"choices", {{{"index", 0}, {"message", message}, {"logprobs", nullptr}, {"finish_reason", finish}}}},
                             {"usage", usage},
                             {"system_fingerprint", "fp_mock"}});
  }
  // Streamed: the events, then the body is sent in pieces as they are written.
  auto chunk = [&](const json& choices) {
    return json{{"id", id}, {"object", "chat.completion.chunk"}, {"created", created}, {"model", model},
                {"system_fingerprint", "fp_mock"}, {"choices", choices}};
  };
  std::vector<std::string> events;
  auto event = [&](const json& j) { events.push_back("data: " + j.dump() + "\n\n"); };
  if (azure) {
    event({{"id", ""}, {"object", ""}, {"created", 0}, {"model", ""}, {"choices", json::array()},
           {"prompt_filter_results", {{{"prompt_index", 0}, {"content_filter_results", json::object()}}}}});
  }
  event(chunk({{{"index", 0}, {"delta", {{"role", "assistant"}, {"content", calls.empty() ? json("") : json(nullptr)}}},
                {"logprobs", nullptr}, {"finish_reason", nullptr}}}));
  for (const auto& p : pieces(content, 7)) {
    event(chunk({{{"index", 0}, {"delta", {{"content", p}}}, {"logprobs", nullptr}, {"finish_reason", nullptr}}}));
  }
  for (size_t i = 0; i < calls.size(); ++i) {
    const json& c = calls[i];
    event(chunk({{{"index", 0},
                  {"delta", {{"tool_calls", {{{"index", i}, {"id", c["id"]}, {"type", "function"},
                                              {"function", {{"name", c["function"]["name"]}, {"arguments", ""}}}}}}}},
                  {"logprobs", nullptr},
                  {"finish_reason", nullptr}}}));
    for (const auto& p : pieces(c["function"]["arguments"].get<std::string>(), 10)) {
      event(chunk({{{"index", 0}, {"delta", {{"tool_calls", {{{"index", i}, {"function", {{"arguments", p}}}}}}}},
                    {"logprobs", nullptr}, {"finish_reason", nullptr}}}));
    }
  }
  event(chunk({{{"index", 0}, {"delta", json::object()}, {"logprobs", nullptr}, {"finish_reason", finish}}}));
  if (body.contains("stream_options") && body["stream_options"].value("include_usage", false)) {
    json last = chunk(json::array());
    last["usage"] = usage;
    event(last);
  }
  events.push_back("data: [DONE]\n\n");
  entry.status = 200;
  {
    std::lock_guard lock(mutex_);
    log_.push_back(entry);
  }
  // Split each event across writes too, so a client must join lines that arrive in pieces.
  auto stream = std::make_shared<std::vector<std::string>>();
  for (const auto& e : events) {
    const size_t half = e.size() / 2;
    stream->push_back(e.substr(0, half));
    stream->push_back(e.substr(half));
  }
  res.status = 200;
  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider("text/event-stream", [stream](size_t, httplib::DataSink& sink) {
    for (const auto& piece : *stream) {
      if (!sink.write(piece.data(), piece.size())) return false;
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    sink.done();
    return true;
  });
}

void MockLlmServer::control(const httplib::Request& req, httplib::Response& res) {
  const std::string what = req.matches[1].str();
  if (what == "script") {
    const json script = json::parse(req.body, nullptr, false);
    if (script.is_discarded()) {
      res.status = 400;
      res.set_content(R"({"error":"the script is not JSON"})", "application/json");
      return;
    }
    load_script(script);
  } else if (what == "reset") {
    reset_log();
  } else if (what != "requests") {
    res.status = 404;
    return;
  }
  json out = json::array();
  for (const auto& r : requests()) {
    out.push_back({{"kind", r.kind}, {"path", r.path}, {"deployment", r.deployment}, {"api_version", r.api_version},
                   {"headers", r.headers}, {"body", r.body}, {"status", r.status}});
  }
  res.set_content(out.dump(), "application/json");
}

}  // namespace trib::testing
