#include "trib/etl/etl.hpp"

#include <map>

#include <fmt/format.h>

#include "trib/core/config.hpp"
#include "trib/core/error.hpp"
#include "trib/core/hash.hpp"
#include "trib/core/log.hpp"
#include "trib/etl/bars_reader.hpp"
#include "trib/etl/quality.hpp"
#include "trib/lake/bars_file.hpp"
#include "trib/lake/layout.hpp"
#include "trib/lake/parquet.hpp"

namespace trib::etl {
namespace {

using lake::CuratedBar;
namespace pq = trib::parquet;

// Quarantine files: every rejected row with its rule and reason. Values are null where the row
// could not be parsed. Persistent column order.
std::string encode_quarantine(const std::vector<QuarantinedRow>& rows, const std::string& source,
                              const std::string& raw_id) {
  pq::Schema schema;
  schema.columns = {pq::ColumnSchema::Int64("line"),
                    pq::ColumnSchema::String("rule"),
                    pq::ColumnSchema::String("reason"),
                    pq::ColumnSchema::Timestamp("ts", pq::TimeUnit::kNanos, true),
                    pq::ColumnSchema::Date("session_date", true),
                    pq::ColumnSchema::Double("open", true),
                    pq::ColumnSchema::Double("high", true),
                    pq::ColumnSchema::Double("low", true),
                    pq::ColumnSchema::Double("close", true),
                    pq::ColumnSchema::Double("volume", true),
                    pq::ColumnSchema::String("raw_text"),
                    pq::ColumnSchema::String("source"),
                    pq::ColumnSchema::String("raw_id")};
  const size_t n = rows.size();
  std::vector<pq::ColumnVector> cols(schema.columns.size());
  for (size_t c = 0; c < cols.size(); ++c) {
    cols[c].type = schema.columns[c].physical;
    cols[c].num_rows = n;
    if (cols[c].type == pq::PhysicalType::kByteArray) cols[c].offsets.push_back(0);
    if (schema.columns[c].optional) cols[c].defined.reserve(n);
  }
  for (const auto& row : rows) {
    const bool has = row.bar.has_value();
    const Bar bar = row.bar.value_or(Bar{});
    cols[0].i64.push_back(row.line);
    cols[1].append_string(row.rule);
    cols[2].append_string(row.reason);
    cols[3].i64.push_back(bar.ts_ns);
    cols[4].i32.push_back(bar.session_date.days_since_epoch());
    double values[] = {bar.open, bar.high, bar.low, bar.close, bar.volume};
    for (int v = 0; v < 5; ++v) cols[5 + v].f64.push_back(values[v]);
    for (size_t c = 3; c <= 9; ++c) cols[c].defined.push_back(has ? 1 : 0);
    cols[10].append_string(row.raw_text.substr(0, 200));
    cols[11].append_string(source);
    cols[12].append_string(raw_id);
  }
  pq::WriterOptions options;
  options.key_value = {{"trib.schema", "quarantine/1"}, {"trib.code_version", std::string(code_version())}};
  pq::StringSink sink;
  pq::Writer writer(sink, schema, options);
  writer.write_batch(cols);
  writer.close();
  return std::move(sink.buffer());
}

}  // namespace

void EtlStats::add(const EtlStats& other) {
  rows_in += other.rows_in;
  rows_accepted += other.rows_accepted;
  rows_quarantined += other.rows_quarantined;
  partitions_created += other.partitions_created;
  partitions_replaced += other.partitions_replaced;
  partitions_unchanged += other.partitions_unchanged;
  for (const auto& [rule, count] : other.quarantined_by_rule) quarantined_by_rule[rule] += count;
}

EtlStats EtlEngine::apply(const ingest::FetchedRaw& fetched) {
  EtlStats stats;
  const TradingCalendar& calendar = TradingCalendar::nyse();
  const std::string& raw_id = fetched.raw.sha256;
  const std::string dataset = "bars";

  auto quarantine = [&](const std::string& symbol_component, const std::string& symbol,
                        const std::vector<QuarantinedRow>& rows) {
    if (rows.empty()) return;
    std::string key = fmt::format("quarantine/bars/timeframe={}/symbol={}/raw={}.parquet",
                                  to_string(fetched.timeframe), symbol_component,
                                  raw_id.substr(0, 16));
    store_.put(key, encode_quarantine(rows, fetched.vendor, raw_id));
    std::map<std::string, int64_t> by_rule;
    for (const auto& row : rows) ++by_rule[row.rule];
    for (const auto& [rule, count] : by_rule) {
      catalog_.record_dq({fetched.run_id, dataset, symbol, rule, count});
      stats.quarantined_by_rule[rule] += count;
    }
    stats.rows_quarantined += static_cast<int64_t>(rows.size());
  };

  // Rows the parser could not read belong to the payload's symbol, or to the multi-symbol file.
  std::vector<QuarantinedRow> unparsed;
  for (const auto& finding : fetched.parsed.findings) {
    unparsed.push_back({std::nullopt, finding.line, finding.rule, finding.reason, finding.raw_text});
  }
  stats.rows_in += static_cast<int64_t>(unparsed.size());
  if (fetched.symbol.empty()) {
    quarantine("_multi", "", unparsed);
    unparsed.clear();
  }

  for (const auto& [symbol, bars] : fetched.parsed.bars) {
    stats.rows_in += static_cast<int64_t>(bars.size());
    ValidatedBars validated = validate_bars(bars, fetched.timeframe, calendar);
    if (symbol == fetched.symbol) {
      validated.quarantined.insert(validated.quarantined.begin(), unparsed.begin(), unparsed.end());
      unparsed.clear();
    }
    quarantine(symbol.path_component(), symbol.str(), validated.quarantined);
    stats.rows_accepted += static_cast<int64_t>(validated.accepted.size());
    if (!validated.accepted.empty()) catalog_.upsert_instrument(symbol.str(), fetched.vendor, "nyse");

    std::map<std::string, std::vector<const Bar*>> by_partition;
    for (const Bar& bar : validated.accepted) {
      by_partition[partition_of(fetched.timeframe, bar.session_date)].push_back(&bar);
    }
    for (const auto& [partition, rows] : by_partition) {
      catalog::PartitionKey key{dataset, std::string(to_string(fetched.timeframe)), symbol.str(),
                                partition};
      std::optional<catalog::PartitionRecord> current = catalog_.get_partition(key);
      std::map<int64_t, CuratedBar> merged;
      if (current) {
        for (auto& row : read_committed_partition(store_, *current)) merged[row.bar.ts_ns] = std::move(row);
      }
      for (const Bar* bar : rows) merged[bar->ts_ns] = CuratedBar{*bar, fetched.vendor, raw_id};
      std::vector<CuratedBar> out;
      out.reserve(merged.size());
      for (auto& [ts, row] : merged) out.push_back(std::move(row));

      catalog::PartitionRecord record;
      record.key = key;
      record.object_key = lake::curated_bars_key(fetched.timeframe, symbol, partition);
      std::string bytes = lake::encode_bars_file(out, symbol, fetched.timeframe, partition);
      record.content_sha256 = sha256_hex(bytes);
      record.row_count = static_cast<int64_t>(out.size());
      record.min_ts_ns = out.front().bar.ts_ns;
      record.max_ts_ns = out.back().bar.ts_ns;
      record.code_version = std::string(code_version());
      const int64_t read_version = current ? current->version : 0;
      auto outcome = catalog_.commit_partition(
          record, [&](const std::optional<catalog::PartitionRecord>& previous) {
            const int64_t now_version = previous ? previous->version : 0;
            if (now_version != read_version) {
              throw Error::Conflict(fmt::format(
                  "partition {} {} changed while merging (version {} -> {}); retry", symbol.str(),
                  partition, read_version, now_version));
            }
            if (previous) {
              // Keep the replaced version outside the globbed tree for --as-of reads.
              std::string saved = lake::version_key(previous->object_key, previous->version,
                                                    previous->content_sha256);
              if (!store_.exists(saved) && store_.exists(previous->object_key)) {
                std::string old = store_.get(previous->object_key);
                if (sha256_hex(old) == previous->content_sha256) store_.put_if_absent(saved, old);
              }
            }
            store_.put(record.object_key, bytes);
          });
      switch (outcome) {
        case catalog::CommitOutcome::kCreated: ++stats.partitions_created; break;
        case catalog::CommitOutcome::kReplaced: ++stats.partitions_replaced; break;
        case catalog::CommitOutcome::kUnchanged: ++stats.partitions_unchanged; break;
      }
    }
  }
  // Findings for a single-symbol payload whose rows all failed to parse.
  if (!unparsed.empty()) quarantine(fetched.symbol.path_component(), fetched.symbol.str(), unparsed);
  return stats;
}

EtlStats EtlEngine::apply_raw_object(const catalog::RawObjectRecord& record,
                                     const std::string& run_id) {
  lake::RawStore raw(store_);
  std::string bytes = raw.get(record.object_key);
  auto provider = providers::make_provider(record.vendor);
  ingest::FetchedRaw fetched;
  fetched.vendor = record.vendor;
  nlohmann::json sidecar = nlohmann::json::parse(record.request_json, nullptr, false);
  if (!sidecar.is_discarded() && sidecar.contains("timeframe") && sidecar["timeframe"].is_string()) {
    fetched.timeframe = parse_timeframe(sidecar["timeframe"].get<std::string>());
  }
  if (!record.symbol.empty()) fetched.symbol = Symbol::parse(record.symbol);
  fetched.raw.key = record.object_key;
  fetched.raw.sha256 = record.sha256;
  fetched.raw.size = static_cast<uint64_t>(record.size);
  fetched.record = record;
  fetched.run_id = run_id;
  providers::ParseContext context;
  context.symbol = fetched.symbol;
  context.timeframe = fetched.timeframe;
  fetched.parsed = provider->parse(bytes, context);
  EtlStats stats = apply(fetched);
  stats_.add(stats);
  return stats;
}

}  // namespace trib::etl
