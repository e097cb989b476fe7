// FRED observations into ParseResult::series (see fred_parse.hpp).
#include "fred_parse.hpp"

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "trib/core/error.hpp"
#include "trib/providers/parse_util.hpp"

namespace trib::providers {
namespace {

using nlohmann::json;

// A JSON value for a finding; containers are not expanded (dump() recurses, and a fuzzed page
// can nest thousands deep).
std::string value_text(const json* v) {
  if (v == nullptr) return "(missing)";
  if (v->is_array()) return "[...]";
  if (v->is_object()) return "{...}";
  return one_line_excerpt(v->dump(-1, ' ', false, json::error_handler_t::replace), 60);
}

const json* member(const json& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

}  // namespace

ParseResult parse_fred_observations(std::string_view payload, const ParseContext& context) {
  if (context.symbol.empty()) {
    throw Error::InvalidInput("fred: a payload of observations needs its series id (the symbol)");
  }
  const std::vector<std::string_view> pages = split_json_pages(payload, "fred");
  if (pages.empty()) throw Error::DataLoss("fred: the payload is empty");
  ParseResult out;
  std::vector<Observation>& series = out.series[context.symbol.str()];
  std::set<int32_t> seen;
  int64_t row = 0;
  for (size_t p = 0; p < pages.size(); ++p) {
    const json page = json::parse(pages[p].begin(), pages[p].end(), nullptr, /*allow_exceptions=*/false);
    if (page.is_discarded() || !page.is_object()) {
      throw Error::DataLoss(fmt::format("fred: page {} of the payload is not a JSON object", p + 1));
    }
    if (member(page, "error_code") != nullptr || member(page, "error_message") != nullptr) {
      const json* message = member(page, "error_message");
      throw Error::DataLoss(fmt::format(
          "fred: page {} is FRED's error {}: {}", p + 1, value_text(member(page, "error_code")),
          message != nullptr && message->is_string() ? one_line_excerpt(message->get<std::string>(), 160)
                                                      : value_text(message)));
    }
    const json* observations = member(page, "observations");
    if (observations == nullptr || !observations->is_array()) {
      throw Error::DataLoss(fmt::format("fred: page {} has no 'observations' array", p + 1));
    }
    for (const json& o : *observations) {
      ++row;
      const json* date_json = member(o, "date");
      const json* value_json = member(o, "value");
      const std::string raw =
          o.is_object() ? fmt::format("date={} value={}", value_text(date_json), value_text(value_json))
                        : value_text(&o);
      if (!o.is_object()) {
        out.findings.push_back(finding(row, "malformed_row", "an observation is not an object", raw));
        continue;
      }
      std::optional<Date> date;
      if (date_json != nullptr && date_json->is_string() && date_json->get_ref<const std::string&>().size() == 10) {
        date = iso_date_prefix(date_json->get_ref<const std::string&>());
      }
      if (!date) {
        out.findings.push_back(finding(
            row, "bad_date",
            fmt::format("date {} is not a YYYY-MM-DD date in 1900..2100", value_text(date_json)), raw));
        continue;
      }
      std::optional<double> value;
      if (value_json == nullptr || value_json->is_null()) {
        out.findings.push_back(finding(row, "missing_value",
                                       fmt::format("no value for {}", date->to_string()), raw));
        continue;
      }
      const bool missing_marker = value_json->is_string() && value_json->get_ref<const std::string&>() == ".";
      if (!missing_marker) {
        value = json_number(*value_json);
        if (!value) {
          out.findings.push_back(finding(
              row, "bad_number",
              fmt::format("value {} for {} is not a number (nor FRED's missing marker \".\")",
                          value_text(value_json), date->to_string()),
              raw));
          continue;
        }
      }
      if (!seen.insert(date->days_since_epoch()).second) {
        out.findings.push_back(finding(row, "duplicate_date",
                                       fmt::format("a second observation for {} (the first one is kept)",
                                                   date->to_string()),
                                       raw));
        continue;
      }
      series.push_back(Observation{*date, value});
    }
  }
  return out;
}

}  // namespace trib::providers
