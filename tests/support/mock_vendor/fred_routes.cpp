// The fred mock: FRED's API (api.stlouisfed.org) as the FRED API documentation describes it.
//   GET /fred/series/observations?series_id=&observation_start=&observation_end=&file_type=json
//       &limit=1..100000 (default 100000)&offset=N (default 0)&api_key=
//   GET /fred/series?series_id=&file_type=json&api_key=          (series metadata)
// The key is the api_key query parameter. Errors are FRED's JSON {"error_code":400,
// "error_message":"Bad Request.  ..."} with the same HTTP status: no key ("Variable api_key is not
// set"), a key it does not know ("The value for variable api_key is not registered"), an unknown
// series ("The series does not exist."), a limit out of range.
//
// Observations come from the recordings in vendor-samples/fred/bodies (DFF and HQMCB10YR,
// 2023-01-01..2023-06-06): a window inside a recording is answered from it (the recorded bytes
// exactly when the request is the recorded one and fits one page); any other series or window
// gets synthetic_daily_bars() closes as FRED values (strings with two decimals) on the NYSE
// sessions. Pages are slices [offset, offset + limit) of the window with count = all of it, like
// FRED's.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mock_vendor.hpp"

namespace trib::testing {
namespace {

using ordered_json = nlohmann::ordered_json;

const char* kJson = "application/json; charset=UTF-8";
const char* kRealtime = "2024-06-27";  // the day the recordings were made

MockAnswer fred_error(int status, const std::string& message) {
  ordered_json body = {{"error_code", status}, {"error_message", message}};
  return {status, kJson, body.dump(), {}};
}

struct Recording {
  std::string series;
  std::string bytes;     // as recorded
  ordered_json document;
  Date first, last;      // observation_start / observation_end of the recording
};

std::vector<Recording> load_recordings() {
  std::vector<Recording> out;
  for (const char* series : {"DFF", "HQMCB10YR"}) {
    try {
      Recording r;
      r.series = series;
      r.bytes = read_vendor_sample(std::string("fred/bodies/series_observations__") + series + ".json");
      r.document = ordered_json::parse(r.bytes);
      r.first = Date::parse(r.document.at("observation_start").get<std::string>());
      r.last = Date::parse(r.document.at("observation_end").get<std::string>());
      out.push_back(std::move(r));
    } catch (const std::exception&) {
      // No shared data here: synthetic answers only.
    }
  }
  return out;
}

std::string two_decimals(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

class Routes final : public VendorRoutes {
 public:
  Routes() : recordings_(load_recordings()) {}

  std::string name() const override { return "fred"; }

  std::optional<MockAnswer> check_auth(const MockRequest& r) const override {
    if (!r.has_param("api_key") || r.param("api_key").empty()) {
      return fred_error(400, "Bad Request.  Variable api_key is not set. Read "
                             "https://fred.stlouisfed.org/docs/api/api_key.html for more information.");
    }
    if (r.param("api_key") != MockVendorServer::kApiKey) {
      return fred_error(400, "Bad Request.  The value for variable api_key is not registered. Read "
                             "https://fred.stlouisfed.org/docs/api/api_key.html for more information.");
    }
    return std::nullopt;
  }

  std::optional<MockAnswer> handle(const MockRequest& r) const override {
    if (r.path != "/fred/series/observations" && r.path != "/fred/series") return std::nullopt;
    const std::string series = r.param("series_id");
    if (series.empty()) return fred_error(400, "Bad Request.  Variable series_id is not set.");
    if (r.param("file_type") != "json") {
      // FRED's default is XML; the mock speaks only the JSON the adapters ask for.
      return fred_error(400, "Bad Request.  Variable file_type is not json (the mock serves JSON only).");
    }
    if (r.path == "/fred/series") return metadata(series);
    return observations(r, series);
  }

  MockAnswer vendor_error(const MockRequest&) const override {
    return fred_error(400, "Bad Request.  Variable observation_start is not a valid date in the format YYYY-MM-DD.");
  }

  MockAnswer unknown_symbol(const MockRequest&) const override {
    return fred_error(400, "Bad Request.  The series does not exist.");
  }

  std::string symbol_of(const MockRequest& r) const override { return r.param("series_id"); }

 private:
  MockAnswer metadata(const std::string& series) const {
    if (series == "DFF") {
      try {
        return {200, kJson, read_vendor_sample("fred/bodies/series__DFF.json"), {}};
      } catch (const std::exception&) {
      }
    }
    ordered_json entry = {{"id", series},
                          {"realtime_start", kRealtime},
                          {"realtime_end", kRealtime},
                          {"title", "Synthetic series " + series},
                          {"observation_start", "1990-01-02"},
                          {"observation_end", "2030-12-31"},
                          {"frequency", "Daily"},
                          {"frequency_short", "D"},
                          {"units", "Percent"},
                          {"units_short", "%"},
                          {"seasonal_adjustment", "Not Seasonally Adjusted"},
                          {"seasonal_adjustment_short", "NSA"},
                          {"last_updated", "2024-06-26 15:17:50-05"},
                          {"popularity", 1},
                          {"notes", "Synthetic (mock vendor)."}};
    ordered_json body = {{"realtime_start", kRealtime}, {"realtime_end", kRealtime}, {"seriess", ordered_json::array({entry})}};
    return {200, kJson, body.dump(), {}};
  }

  MockAnswer observations(const MockRequest& r, const std::string& series) const {
    // FRED's defaults: the whole history (1776-07-04 .. 9999-12-31); the synthetic series starts
    // in 1990 and the mock stops at 2030.
    const auto start = Date::try_parse(r.param("observation_start", "1990-01-01"));
    const auto end = Date::try_parse(r.param("observation_end", "2030-12-31"));
    if (!start) return fred_error(400, "Bad Request.  Variable observation_start is not a valid date in the format YYYY-MM-DD.");
    if (!end) return fred_error(400, "Bad Request.  Variable observation_end is not a valid date in the format YYYY-MM-DD.");
    if (*end < *start) {
      return fred_error(400, "Bad Request.  The observation_start value must be less than or equal to the observation_end value.");
    }
    long long limit = 100000, offset = 0;
    try {
      limit = std::stoll(r.param("limit", "100000"));
      offset = std::stoll(r.param("offset", "0"));
    } catch (const std::exception&) {
      return fred_error(400, "Bad Request.  Variable limit or offset is not an integer.");
    }
    if (limit < 1 || limit > 100000) return fred_error(400, "Bad Request.  Variable limit is not between 1 and 100000.");
    if (offset < 0) return fred_error(400, "Bad Request.  Variable offset is not a non-negative integer.");

    std::vector<ordered_json> all;
    const Recording* recording = nullptr;
    for (const Recording& rec : recordings_) {
      if (rec.series == series && rec.first <= *start && *end <= rec.last) recording = &rec;
    }
    if (recording != nullptr) {
      if (*start == recording->first && *end == recording->last && offset == 0 &&
          limit >= static_cast<long long>(recording->document.at("observations").size()) &&
          recording->document.value("limit", 0) == limit) {
        return {200, kJson, recording->bytes, {}};
      }
      for (const auto& o : recording->document.at("observations")) {
        const auto d = Date::try_parse(o.value("date", ""));
        if (d && *start <= *d && *d <= *end) all.push_back(o);
      }
    } else {
      for (const SynthBar& b : synthetic_daily_bars(series, *start, *end)) {
        all.push_back({{"realtime_start", kRealtime},
                       {"realtime_end", kRealtime},
                       {"date", b.date.to_string()},
                       {"value", two_decimals(b.close / 40.0)}});
      }
    }
    ordered_json page = ordered_json::array();
    for (long long i = offset; i < static_cast<long long>(all.size()) && i < offset + limit; ++i) {
      page.push_back(all[static_cast<size_t>(i)]);
    }
    ordered_json body = {{"realtime_start", kRealtime},
                         {"realtime_end", kRealtime},
                         {"observation_start", start->to_string()},
                         {"observation_end", end->to_string()},
                         {"units", "lin"},
                         {"output_type", 1},
                         {"file_type", "json"},
                         {"order_by", "observation_date"},
                         {"sort_order", "asc"},
                         {"count", all.size()},
                         {"offset", offset},
                         {"limit", limit},
                         {"observations", page}};
    return {200, kJson, body.dump(), {}};
  }

  std::vector<Recording> recordings_;
};

}  // namespace

std::unique_ptr<VendorRoutes> make_fred_routes() { return std::make_unique<Routes>(); }

}  // namespace trib::testing
