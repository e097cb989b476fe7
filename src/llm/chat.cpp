#include "trib/llm/chat.hpp"

#include <algorithm>
#include <cstdlib>
#include <random>

#include <fmt/format.h>

#include "trib/core/error.hpp"
#include "trib/core/log.hpp"

namespace trib::llm {

// ---- the client ----

std::string key_variable(const LlmConfig& config) {
  if (!config.key_env.empty()) return config.key_env;
  if (config.kind == "azure") return config.auth == "bearer" ? "AZURE_OPENAI_AD_TOKEN" : "AZURE_OPENAI_API_KEY";
  return "OPENAI_API_KEY";
}

namespace {

std::string trim_slash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

class HttpChatClient final : public ChatClient {
 public:
  HttpChatClient(LlmConfig config, std::string key, std::unique_ptr<net::HttpClient> http, net::Sleeper* sleeper)
      : config_(std::move(config)), key_(std::move(key)), http_(std::move(http)), sleeper_(sleeper) {
    if (sleeper_ == nullptr) {
      owned_sleeper_ = std::make_unique<net::RealSleeper>();
      sleeper_ = owned_sleeper_.get();
    }
    const std::string base = trim_slash(config_.url);
    if (config_.kind == "azure") {
      url_ = fmt::format("{}/openai/deployments/{}/chat/completions?api-version={}", base, config_.model,
                         config_.api_version);
    } else {
      url_ = base + "/chat/completions";
    }
  }

  std::string describe() const override {
    return fmt::format("{} {} at {}", config_.kind, config_.model, trim_slash(config_.url));
  }

  ChatReply complete(const ChatRequest& request, const std::function<void(std::string_view)>& on_text) override {
    net::HttpRequest http;
    http.method = "POST";
    http.url = url_;
    http.timeout_ms = int64_t{config_.timeout_s} * 1000;
    http.headers = {{"Content-Type", "application/json"}, {"Accept", config_.stream ? "text/event-stream" : "application/json"}};
    if (config_.kind == "azure" && config_.auth == "api-key") {
      http.headers.emplace_back("api-key", key_);
    } else {
      http.headers.emplace_back("Authorization", "Bearer " + key_);
    }
    http.body = request_json(request, config_.model, config_.stream).dump();

    net::RetryPolicy policy;
    policy.max_attempts = config_.max_retries + 1;
    policy.base_delay_ms = 500;
    policy.max_delay_ms = 60'000;
    std::mt19937_64 rng{std::random_device{}()};
    std::string last_error;
    ErrorCategory last_category = ErrorCategory::kRetryable;
    for (int attempt = 1; attempt <= policy.max_attempts; ++attempt) {
      bool shown = false;  // text reached the caller: a retry would show it twice
      SseParser sse;
      StreamAccumulator acc;
      if (config_.stream) {
        http.on_body = [&](int status, std::string_view piece) {
          if (status != 200) return;
          sse.feed(piece, [&](std::string_view data) {
            if (acc.done()) return;
            const std::string text = acc.add(data);
            if (!text.empty() && on_text) {
              shown = true;
              on_text(text);
            }
          });
        };
      }
      std::optional<int64_t> wait_ms;
      try {
        const net::HttpResponse response = http_->send(http);
        if (response.status == 200) {
          if (!config_.stream) return parse_completion(response.body);
          sse.finish([&](std::string_view data) {
            if (!acc.done()) acc.add(data);
          });
          if (!acc.done()) {
            if (shown) throw Error::Permanent("LLM stream ended before [DONE] (the answer above is incomplete)");
            throw Error::Retryable("LLM stream ended before [DONE]");
          }
          return acc.reply();
        }
        const auto category = net::classify(response).value_or(ErrorCategory::kPermanent);
        const std::string message = error_message(response.body);
        if (response.status == 401 || response.status == 403) {
          throw Error::Permanent(fmt::format("LLM endpoint {} refused the credentials (HTTP {}): {}; check ${}",
                                             describe(), response.status, message, key_variable(config_)));
        }
        if (category != ErrorCategory::kRetryable && category != ErrorCategory::kRateLimited) {
          throw Error(category == ErrorCategory::kNotFound ? ErrorCategory::kInvalidInput : category,
                      fmt::format("LLM endpoint {} answered HTTP {}: {}{}", describe(), response.status, message,
                                  response.status == 404 ? " (check [llm] url and model/deployment)" : ""));
        }
        last_category = category;
        last_error = fmt::format("HTTP {}: {}", response.status, message);
        wait_ms = net::retry_after_ms(response, sleeper_->now_unix_ms());
      } catch (const Error& e) {
        const bool transient = e.category() == ErrorCategory::kRetryable || e.category() == ErrorCategory::kRateLimited;
        if (!transient || shown) throw;
        last_category = e.category();
        last_error = e.what();
      }
      if (attempt == policy.max_attempts) break;
      const int64_t delay = wait_ms ? std::min(*wait_ms, policy.max_delay_ms) : net::backoff_delay_ms(policy, attempt, rng);
      log::warn("LLM endpoint {}: {}; retrying in {} ms (attempt {} of {})", describe(), last_error, delay, attempt + 1,
                policy.max_attempts);
      sleeper_->sleep_ms(delay);
    }
    throw Error(last_category, fmt::format("LLM endpoint {} failed after {} attempts: {} ([llm] timeout_s = {}, "
                                           "max_retries = {})",
                                           describe(), policy.max_attempts, last_error, config_.timeout_s,
                                           config_.max_retries));
  }

 private:
  LlmConfig config_;
  std::string key_;
  std::unique_ptr<net::HttpClient> http_;
  net::Sleeper* sleeper_;
  std::unique_ptr<net::Sleeper> owned_sleeper_;
  std::string url_;
};

}  // namespace

std::unique_ptr<ChatClient> make_chat_client(const LlmConfig& config, std::unique_ptr<net::HttpClient> http,
                                             net::Sleeper* sleeper,
                                             const std::function<const char*(const char*)>& getenv_fn) {
  if (config.kind == "none") {
    throw Error::InvalidInput(
        "no LLM is configured: set [llm] kind = \"openai\" (url = \"https://api.openai.com/v1\", model) or "
        "kind = \"azure\" (url = \"https://NAME.openai.azure.com\", model = the deployment) in trib.toml, with the "
        "key in OPENAI_API_KEY / AZURE_OPENAI_API_KEY; `trib report` works without one");
  }
  const std::string variable = key_variable(config);
  const char* key = getenv_fn ? getenv_fn(variable.c_str()) : std::getenv(variable.c_str());
  if (key == nullptr || *key == '\0') {
    throw Error::InvalidInput(fmt::format("[llm] kind = \"{}\" needs its key in the environment variable {} (unset)",
                                          config.kind, variable));
  }
  log::register_secret(key);
  if (!http) {
    net::CurlOptions options;
    options.timeout_ms = int64_t{config.timeout_s} * 1000;
    http = net::make_curl_client(options);
  }
  return std::make_unique<HttpChatClient>(config, key, std::move(http), sleeper);
}

}  // namespace trib::llm
