// The assistant's tools: typed, read-only functions over the catalog, the lake, backtests and
// models, each with a JSON Schema the model sees and the arguments are checked against.
//
// What keeps them read-only: the catalog they get is a read-only session (the database refuses
// writes, CatalogOptions::read_only), and the module cannot link the broker (llm sits before
// broker in the module order; tests/llm checks the link graph). What keeps them safe to show a
// model: every result is data in a `tool` message (never instructions), bounded in rows and
// bytes, and passed through secret redaction (log::redact, with the environment's secrets
// registered) before it leaves the process.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "trib/catalog/catalog.hpp"
#include "trib/core/config.hpp"
#include "trib/lake/object_store.hpp"
#include "trib/llm/chat.hpp"

namespace trib::llm {

struct ToolContext {
  lake::ObjectStore* store = nullptr;
  catalog::Catalog* catalog = nullptr;  // a read-only session
  const Config* config = nullptr;
  Date today;                           // "this year" and stale data are relative to it
  int max_output_bytes = 16384;         // one result as the model sees it
};

// What one call gave: `content` is what the model sees (JSON text), `error` is set when the call
// was refused (unknown tool, arguments out of schema, no such symbol/run) and nothing ran or
// nothing was found. `cites` name the data the result came from ("bars AAPL 1d 2020-03-02..
// 2020-03-31", "backtest bt-...", "model ..."), for the answer's sources.
struct ToolOutcome {
  std::string name, arguments;
  std::string content;
  std::string error;
  std::vector<std::string> cites;
  nlohmann::json result;  // the unredacted result (for templates and tests); null on error
};

class Toolbox {
 public:
  explicit Toolbox(ToolContext context);
  std::vector<ToolSpec> specs() const;
  // Never throws for what the model asked: an unknown tool, arguments that are not JSON or out
  // of schema, and errors of the data (not found, invalid input) come back as an error outcome
  // the model can read. Errors of the platform (a lost database) are thrown.
  ToolOutcome call(const std::string& name, const std::string& arguments) const;
  // Same, with parsed arguments (reports).
  ToolOutcome call(const std::string& name, const nlohmann::json& arguments) const;

 private:
  ToolContext context_;
};

// Checks `value` against a JSON Schema subset (type, properties, required,
// additionalProperties: false, enum, minimum/maximum, minLength/maxLength, pattern-free
// formats "date", items, minItems/maxItems). Returns "" when it conforms, else what is wrong,
// naming the path ("$.symbols[2]: expected string").
std::string schema_violation(const nlohmann::json& schema, const nlohmann::json& value);

// Registers the values of the environment's secret-looking variables (names containing KEY,
// SECRET, TOKEN or PASSWORD, or a connection string) with log::redact, so no tool output or
// message can carry them to the model.
void register_environment_secrets();

}  // namespace trib::llm
