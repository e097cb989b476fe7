// The research assistant: a question, the model, the read-only tools, and an answer whose every
// figure can be traced to a tool call (the calls, their arguments and the data they cite are
// part of the answer).
//
// Reports (`trib report backtest RUN | dq | daily`) are rendered from templates over the same
// tools, so their figures never depend on a model; with an LLM configured, a summary written by
// the model from those figures is added on top.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "trib/llm/chat.hpp"
#include "trib/llm/tools.hpp"

namespace trib::llm {

struct AskOptions {
  int max_tool_calls = 16;
  int64_t max_tokens = 32000;  // prompt + completion tokens over every round of the question
  double temperature = 0;
  std::function<void(std::string_view)> on_text;     // the answer as it streams
  std::function<void(const ToolOutcome&)> on_tool;   // each tool call once answered
};

struct Answer {
  std::string text;
  std::vector<ToolOutcome> calls;
  std::vector<std::string> cites;  // distinct, in the order the tools named them
  Usage usage;                     // summed over the rounds
  int rounds = 0;
  // Why the loop stopped early ("" when the model answered): the token budget, the call limit.
  std::string stopped;
};

// The instructions the model gets (today's date included).
std::string system_prompt(Date today);

Answer ask(ChatClient& client, const Toolbox& tools, const std::string& question, const AskOptions& options);

struct Report {
  std::string kind, title;
  std::string markdown;
  nlohmann::json facts;            // every figure the report shows
  std::vector<std::string> cites;
};

// Error::NotFound / InvalidInput for an unknown run, as the tools say.
Report backtest_report(const Toolbox& tools, const std::string& run_id);
Report dq_report(const Toolbox& tools);
Report daily_report(const Toolbox& tools, Date today);

// Adds "## Summary" written by the model from report.facts (given to it as a tool result, never
// as instructions). The tables' figures stay the template's.
void add_summary(Report& report, ChatClient& client, const AskOptions& options);

}  // namespace trib::llm
