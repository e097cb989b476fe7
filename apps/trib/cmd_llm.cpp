// trib ask, trib report: the research assistant (src/llm). The tools read through a read-only
// catalog session; the answer is printed with the tool calls it made and the data they cite.
#include <cstdio>
#include <fstream>

#include <fmt/format.h>

#include "cli.hpp"
#include "trib/core/error.hpp"
#include "trib/core/fs.hpp"
#include "trib/llm/assistant.hpp"

namespace trib::cli {

using nlohmann::json;

namespace {

struct AskArgs {
  std::string question;
  bool quiet = false;
};

struct ReportArgs {
  std::string kind, run_id, out;
  bool no_llm = false;
};

llm::AskOptions ask_options(const Config& config) {
  llm::AskOptions o;
  o.max_tool_calls = config.llm.max_tool_calls;
  o.max_tokens = config.llm.max_tokens;
  o.temperature = config.llm.temperature;
  return o;
}

// The assistant's view of the workspace: its store, a read-only catalog session (kept alive in
// `catalog`), today; the environment's secrets registered for redaction first.
llm::ToolContext tool_context(Workspace& ws, std::unique_ptr<catalog::Catalog>& catalog) {
  llm::register_environment_secrets();
  catalog = ws.open_read_only_catalog();
  return llm::ToolContext{ws.store.get(), catalog.get(), &ws.config, Date::today_utc(),
                          ws.config.llm.max_tool_output_bytes};
}

// Short, one line: what the model asked for.
std::string one_line(std::string s, size_t max) {
  for (char& c : s) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return s.size() > max ? s.substr(0, max - 3) + "..." : s;
}

}  // namespace

void add_llm_commands(CLI::App& app, Globals& g, Action& action) {
  {
    auto args = std::make_shared<AskArgs>();
    auto* cmd = app.add_subcommand(
        "ask",
        "Ask the research assistant a question about this workspace's data, backtests, models and trading state "
        "([llm] in trib.toml). It answers through read-only tools and prints the calls it made and the data "
        "they cite, so every figure can be traced");
    cmd->add_option("question", args->question, "The question, in quotes")->required();
    cmd->add_flag("--quiet", args->quiet, "Only the answer (no tool calls or sources)");
    cmd->add_flag("--json", g.json, "Machine-readable: the answer, every tool call with its result, the sources, usage");
    cmd->callback([&g, &action, args] {
      action = [&g, args] {
        Workspace ws = open_workspace(g.workspace);
        std::unique_ptr<catalog::Catalog> catalog;
        const llm::ToolContext context = tool_context(ws, catalog);
        auto client = llm::make_chat_client(ws.config.llm);
        const llm::Toolbox tools(context);
        auto options = ask_options(ws.config);
        bool streamed = false;
        if (!g.json) {
          if (!args->quiet) {
            options.on_tool = [](const llm::ToolOutcome& o) {
              std::fprintf(stderr, "  tool %s %s%s\n", o.name.c_str(), one_line(o.arguments, 160).c_str(),
                           o.error.empty() ? "" : fmt::format(" -> refused: {}", one_line(o.error, 200)).c_str());
            };
          }
          options.on_text = [&streamed](std::string_view text) {
            streamed = true;
            std::fwrite(text.data(), 1, text.size(), stdout);
            std::fflush(stdout);
          };
        }
        const llm::Answer answer = llm::ask(*client, tools, args->question, options);
        if (g.json) {
          json calls = json::array();
          for (const auto& c : answer.calls) {
            json call = {{"name", c.name}, {"arguments", c.arguments}, {"cites", c.cites}};
            if (c.error.empty()) {
              call["result"] = c.result;
            } else {
              call["error"] = c.error;
            }
            calls.push_back(call);
          }
          fmt::print("{}\n", json{{"answer", answer.text},
                                  {"tool_calls", calls},
                                  {"sources", answer.cites},
                                  {"rounds", answer.rounds},
                                  {"stopped", answer.stopped},
                                  {"model", client->describe()},
                                  {"usage",
                                   {{"prompt_tokens", answer.usage.prompt_tokens},
                                    {"completion_tokens", answer.usage.completion_tokens},
                                    {"total_tokens", answer.usage.total_tokens}}}}
                                 .dump());
          return answer.text.empty() ? 1 : 0;
        }
        if (!streamed) fmt::print("{}", answer.text);
        fmt::print("\n");
        if (!answer.stopped.empty()) std::fprintf(stderr, "trib ask: %s\n", answer.stopped.c_str());
        if (!args->quiet) {
          std::string tail = fmt::format("\n-- {} tool call(s), {} round(s), ~{} tokens, {}\n", answer.calls.size(),
                                         answer.rounds, answer.usage.total_tokens, client->describe());
          if (!answer.cites.empty()) {
            tail += "sources:\n";
            for (const auto& c : answer.cites) tail += "  " + c + "\n";
          }
          std::fwrite(tail.data(), 1, tail.size(), stdout);
        }
        return answer.text.empty() ? 1 : 0;
      };
    });
  }
  {
    auto args = std::make_shared<ReportArgs>();
    auto* cmd = app.add_subcommand(
        "report",
        "Write a Markdown report: `backtest RUN_ID`, `dq` (data quality) or `daily`. The figures come from the "
        "same read-only tools as trib ask, rendered from templates; with [llm] configured a summary written by "
        "the model is added (--no-llm: templates only)");
    cmd->add_option("kind", args->kind, "backtest | dq | daily")->required()->check(CLI::IsMember({"backtest", "dq", "daily"}));
    cmd->add_option("run_id", args->run_id, "The backtest run id (trib backtest prints it)");
    cmd->add_option("-o,--out", args->out, "Write the report to this file (default: standard output)");
    cmd->add_flag("--no-llm", args->no_llm, "Do not ask the LLM for a summary even when one is configured");
    cmd->add_flag("--json", g.json, "Machine-readable: the Markdown and every figure behind it");
    cmd->callback([&g, &action, args] {
      action = [&g, args] {
        if (args->kind == "backtest" && args->run_id.empty()) {
          throw Error::InvalidInput("trib report backtest needs the run id: trib report backtest bt-0123456789ab "
                                    "(`trib backtest` prints it)");
        }
        if (args->kind != "backtest" && !args->run_id.empty()) {
          throw Error::InvalidInput(fmt::format("trib report {} takes no run id", args->kind));
        }
        Workspace ws = open_workspace(g.workspace);
        std::unique_ptr<catalog::Catalog> catalog;
        const llm::ToolContext context = tool_context(ws, catalog);
        const llm::Toolbox tools(context);
        llm::Report report = args->kind == "backtest" ? llm::backtest_report(tools, args->run_id)
                             : args->kind == "dq"     ? llm::dq_report(tools)
                                                      : llm::daily_report(tools, context.today);
        std::string written_by = "templates";
        if (ws.config.llm.kind != "none" && !args->no_llm) {
          auto client = llm::make_chat_client(ws.config.llm);
          auto options = ask_options(ws.config);
          llm::add_summary(report, *client, options);
          written_by = client->describe();
        }
        if (!args->out.empty()) {
          write_file_atomic(std::filesystem::absolute(args->out), report.markdown);
        }
        if (g.json) {
          fmt::print("{}\n", json{{"kind", report.kind}, {"title", report.title}, {"markdown", report.markdown},
                                  {"facts", report.facts}, {"sources", report.cites}, {"summary_by", written_by},
                                  {"out", args->out}}
                                 .dump());
        } else if (args->out.empty()) {
          std::fwrite(report.markdown.data(), 1, report.markdown.size(), stdout);
        } else {
          fmt::print("wrote {} ({} bytes; summary: {})\n", args->out, report.markdown.size(), written_by);
        }
        return 0;
      };
    });
  }
}

}  // namespace trib::cli
