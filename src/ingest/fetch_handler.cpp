#include "trib/ingest/fetch_handler.hpp"

#include <fmt/format.h>

#include "trib/core/error.hpp"
#include "trib/core/log.hpp"
#include "trib/lake/layout.hpp"

namespace trib::ingest {

void FetchHandler::handle(const Task& task) {
  const std::string task_id = task.id();
  // A redelivery (the previous attempt failed after storing, or its ETL failed): the payload is
  // already recorded, so go straight to the next stage without asking the vendor again.
  std::vector<catalog::RawObjectRecord> stored = catalog_.raw_objects_of_task(task_id);
  if (!stored.empty()) {
    log::debug("task {}: payload already stored ({}), skipping the fetch", task_id,
               stored.front().object_key);
    for (auto& record : stored) {
      FetchedRaw out;
      out.record = std::move(record);
      out.timeframe = task.timeframe;
      out.symbol = task.symbol;
      out.run_id = task.run_id;
      if (consumer_ != nullptr) consumer_->consume(out);
    }
    catalog_.mark_task_done(task_id, task.run_id);
    return;
  }
  auto provider = providers_ ? providers_(task) : providers::make_provider(task.vendor, task.options);
  providers::FetchRequest request;
  request.dataset = task.dataset;
  request.timeframe = task.timeframe;
  request.symbol = task.symbol;
  request.from = task.from;
  request.to = task.to;
  request.params = task.options;
  providers::FetchResult fetched;
  try {
    fetched = provider->fetch(request);
  } catch (const Error& e) {
    // The vendor says the symbol does not exist: a permanent finding on the instrument, so the
    // daily update stops asking for it (until `trib universe add` names it again).
    if (e.category() == ErrorCategory::kNotFound && !task.symbol.empty()) {
      catalog_.set_universe_status(task.symbol.str(), task.vendor, task.dataset,
                                   std::string(to_string(task.timeframe)), "unknown_symbol", e.what());
      log::warn("task {}: {} (marked unknown in the universe; the update skips it)", task_id, e.what());
    }
    throw;
  }
  RawOrigin origin;
  origin.vendor = task.vendor;
  origin.dataset = task.dataset;
  origin.timeframe = task.timeframe;
  origin.symbol = task.symbol;
  origin.run_id = task.run_id;
  origin.task_id = task_id;
  origin.window_from = task.from;
  origin.window_to = task.to;
  store(origin, fetched);
  catalog_.mark_task_done(task_id, task.run_id);
}

FetchedRaw FetchHandler::store(const RawOrigin& origin, const providers::FetchResult& fetched,
                               std::optional<providers::ParseResult> parsed) {
  const bool multi = fetched.multi_symbol || origin.symbol.empty();
  lake::RawPut put;
  put.vendor = origin.vendor;
  put.dataset = origin.dataset;
  put.symbol_component = multi ? "_multi" : origin.symbol.path_component();
  // The fetch date in the path comes from the request description when the vendor gives one, so
  // a redelivered task lands on the same key; otherwise today's date.
  put.fetched = Date::today_utc();
  if (auto it = fetched.request.find("fetched"); it != fetched.request.end() && it->is_string()) {
    if (auto d = Date::try_parse(it->get<std::string>())) put.fetched = *d;
  }
  put.ext = fetched.ext.empty() ? "bin" : fetched.ext;
  const int64_t fetched_at = fetched.as_of_ns.value_or(now_ts_ns());
  const std::string window_from = origin.window_from ? origin.window_from->to_string() : "";
  const std::string window_to = origin.window_to ? origin.window_to->to_string() : "";
  if (!window_from.empty() || !window_to.empty()) put.window = window_from + "_" + window_to;
  put.sidecar = {{"vendor", origin.vendor},
                 {"dataset", origin.dataset},
                 {"timeframe", std::string(to_string(origin.timeframe))},
                 {"calendar", origin.calendar},
                 {"symbol", multi ? std::string() : origin.symbol.str()},
                 {"request", fetched.request},
                 {"status", fetched.status},
                 {"content_type", fetched.content_type},
                 {"fetched_at", format_ts_ns(fetched_at)},
                 {"fetched_at_ns", fetched_at},
                 {"task_id", origin.task_id},
                 {"window_from", window_from},
                 {"window_to", window_to}};
  lake::RawObject raw = raw_.put(put, fetched.bytes);

  FetchedRaw out;
  out.timeframe = origin.timeframe;
  out.symbol = multi ? Symbol() : origin.symbol;
  out.run_id = origin.run_id;
  out.newly_written = raw.newly_written;
  catalog::RawObjectRecord& record = out.record;
  record.object_key = raw.key;
  record.vendor = origin.vendor;
  record.dataset = origin.dataset;
  record.symbol = multi ? "" : origin.symbol.str();
  record.sha256 = raw.sha256;
  record.size = static_cast<int64_t>(raw.size);
  record.fetched_date = put.fetched.to_string();
  // The sidecar of the first writer wins (put-if-absent): its fetch time and window are the
  // object's, so the catalog, a rebuild and `trib catalog rebuild` all agree on them.
  nlohmann::json sidecar = nlohmann::json::parse(store_.get(lake::raw_sidecar_key(raw.key)));
  record.request_json = sidecar.dump();
  record.fetched_at_ns = sidecar.value("fetched_at_ns", fetched_at);
  record.task_id = sidecar.value("task_id", origin.task_id);
  record.window_from = sidecar.value("window_from", window_from);
  record.window_to = sidecar.value("window_to", window_to);
  if (!catalog_.record_raw_object(record)) {
    if (auto existing = catalog_.get_raw_object(record.object_key)) record = *existing;
  }
  // An imported action file names a security, not an instrument this vendor serves.
  if (!multi && origin.dataset != "actions") {
    catalog_.upsert_instrument(origin.symbol.str(), origin.vendor, origin.calendar);
  }
  out.parsed = std::move(parsed);  // same bytes (content address), so the same parse
  if (consumer_ != nullptr) consumer_->consume(out);
  return out;
}

}  // namespace trib::ingest
