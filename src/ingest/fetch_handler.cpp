#include "trib/ingest/fetch_handler.hpp"

#include <fmt/format.h>

#include "trib/core/error.hpp"
#include "trib/core/log.hpp"

namespace trib::ingest {

void FetchHandler::handle(const Task& task) {
  auto provider = providers::make_provider(task.vendor, task.options);
  providers::FetchRequest request;
  request.dataset = task.dataset;
  request.timeframe = task.timeframe;
  request.symbol = task.symbol;
  request.from = task.from;
  request.to = task.to;
  request.params = task.options;
  providers::FetchResult fetched = provider->fetch(request);
  providers::ParseContext context;
  context.symbol = task.symbol;
  context.timeframe = task.timeframe;
  providers::ParseResult parsed = provider->parse(fetched.bytes, context);
  store(task.vendor, task.timeframe, task.symbol, fetched, std::move(parsed), task.run_id);
}

FetchedRaw FetchHandler::store(const std::string& vendor, Timeframe tf, const Symbol& symbol,
                               const providers::FetchResult& fetched,
                               providers::ParseResult parsed, const std::string& run_id) {
  lake::RawPut put;
  put.vendor = vendor;
  put.dataset = "bars";
  put.symbol_component = fetched.multi_symbol || symbol.empty() ? "_multi" : symbol.path_component();
  // The fetch date in the path comes from the request description when the vendor gives one, so
  // a redelivered task lands on the same key; otherwise today's date.
  put.fetched = Date::today_utc();
  if (auto it = fetched.request.find("fetched"); it != fetched.request.end() && it->is_string()) {
    if (auto d = Date::try_parse(it->get<std::string>())) put.fetched = *d;
  }
  put.ext = fetched.ext.empty() ? "bin" : fetched.ext;
  put.sidecar = {{"vendor", vendor},
                 {"dataset", "bars"},
                 {"timeframe", std::string(to_string(tf))},
                 {"symbol", symbol.str()},
                 {"request", fetched.request},
                 {"status", fetched.status},
                 {"content_type", fetched.content_type},
                 {"fetched_at", format_ts_ns(now_ts_ns())}};

  FetchedRaw out;
  out.vendor = vendor;
  out.timeframe = tf;
  out.symbol = symbol;
  out.run_id = run_id;
  out.raw = raw_.put(put, fetched.bytes);
  out.record.object_key = out.raw.key;
  out.record.vendor = vendor;
  out.record.dataset = "bars";
  out.record.symbol = fetched.multi_symbol ? "" : symbol.str();
  out.record.sha256 = out.raw.sha256;
  out.record.size = static_cast<int64_t>(out.raw.size);
  out.record.fetched_date = put.fetched.to_string();
  out.record.request_json = put.sidecar.dump();
  catalog_.record_raw_object(out.record);
  if (!symbol.empty()) catalog_.upsert_instrument(symbol.str(), vendor, "nyse");
  out.parsed = std::move(parsed);
  if (consumer_ != nullptr) consumer_->consume(out);
  return out;
}

}  // namespace trib::ingest
