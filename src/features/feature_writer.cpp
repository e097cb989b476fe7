// write_feature_set: curated bars (in the price mode asked) -> a feature set's Parquet files,
// one per partition, each committed through the catalog's manifest; incremental per symbol.
#include <algorithm>
#include <array>
#include <atomic>
#include <exception>
#include <thread>
#include <cmath>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "trib/core/config.hpp"
#include "trib/core/parallel_for.hpp"
#include "trib/core/error.hpp"
#include "trib/core/hash.hpp"
#include "trib/etl/bars_reader.hpp"
#include "trib/etl/partition_commit.hpp"
#include "trib/features/expression.hpp"
#include "trib/features/feature_set.hpp"
#include "trib/lake/layout.hpp"
#include "trib/lake/parquet.hpp"

namespace trib::features {
namespace {

constexpr std::string_view kSchemaVersion = "features/2";
constexpr size_t kBatchSymbols = 32;  // symbols whose outputs are held at once

const char* adjust_name(AdjustMode mode) {
  switch (mode) {
    case AdjustMode::kRaw: return "raw";
    case AdjustMode::kSplit: return "split";
    case AdjustMode::kTotal: return "total";
  }
  return "?";
}

// One symbol's rows to write: ts, session date, close and one column per feature.
struct Frame {
  std::vector<int64_t> ts_ns;
  std::vector<int32_t> days;
  std::vector<double> close;
  std::vector<std::vector<double>> columns;  // NaN = null
};

// A running fingerprint of what a symbol's features were computed from: the set's text, the
// price mode and every bar so far. Stored with each partition (of its last row), so the next run
// can tell new sessions on unchanged history from a history that changed (a new split or
// dividend re-adjusts every earlier price). Two chained 64-bit mixes of each row's bits: cheap
// per row (10 years x 500 symbols), and a changed price changes the fingerprint of every later row.
class InputFingerprint {
 public:
  InputFingerprint(const FeatureSet& set, AdjustMode mode) {
    const std::string seed = sha256_hex(fmt::format("{}|{}|{}", set.name, set.hash, adjust_name(mode)));
    a_ = std::stoull(seed.substr(0, 16), nullptr, 16);
    b_ = std::stoull(seed.substr(16, 16), nullptr, 16);
  }
  using Value = std::array<uint64_t, 2>;
  static std::string hex(const Value& v) { return fmt::format("{:016x}{:016x}", v[0], v[1]); }

  Value add(const Bar& bar) {
    const double vwap = bar.vwap.value_or(std::nan(""));
    const double values[] = {bar.open, bar.high, bar.low, bar.close, bar.volume, vwap};
    mix(static_cast<uint64_t>(bar.ts_ns));
    for (double v : values) {
      uint64_t bits;
      std::memcpy(&bits, &v, sizeof bits);
      mix(bits);
    }
    return {a_, b_};
  }

 private:
  static uint64_t avalanche(uint64_t x) {  // splitmix64's finaliser
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
  }
  void mix(uint64_t v) {
    a_ = avalanche(a_ ^ v);
    b_ = avalanche(b_ + v * 0x9e3779b97f4a7c15ULL);
  }
  uint64_t a_ = 0, b_ = 0;
};

parquet::Schema schema_of(const FeatureSet& set) {
  parquet::Schema schema;
  schema.columns.push_back(parquet::ColumnSchema::Timestamp("ts", parquet::TimeUnit::kNanos));
  schema.columns.push_back(parquet::ColumnSchema::Date("session_date"));
  schema.columns.push_back(parquet::ColumnSchema::Double("close"));
  for (const auto& [name, formula] : set.features) {
    schema.columns.push_back(parquet::ColumnSchema::Double(name, /*optional=*/true));
  }
  return schema;
}

// Rows [begin, end) of `frame` as one file; `fingerprint`: the inputs' fingerprint at its last row.
std::string encode_rows(const FeatureSet& set, const Frame& frame, size_t begin, size_t end, const Symbol& symbol,
                        Timeframe tf, AdjustMode mode, const std::string& partition, const std::string& fingerprint) {
  std::vector<parquet::ColumnVector> columns;
  columns.push_back(parquet::ColumnVector::of_i64({frame.ts_ns.begin() + begin, frame.ts_ns.begin() + end}));
  columns.push_back(parquet::ColumnVector::of_i32({frame.days.begin() + begin, frame.days.begin() + end}));
  columns.push_back(parquet::ColumnVector::of_f64({frame.close.begin() + begin, frame.close.begin() + end}));
  for (const auto& values : frame.columns) {
    std::vector<double> slot(end - begin, 0.0);
    std::vector<uint8_t> defined(end - begin, 0);
    for (size_t i = begin; i < end; ++i) {
      if (std::isfinite(values[i])) {  // NaN = null; the slot of a null holds 0
        slot[i - begin] = values[i];
        defined[i - begin] = 1;
      }
    }
    parquet::ColumnVector column = parquet::ColumnVector::of_f64(std::move(slot));
    column.defined = std::move(defined);
    columns.push_back(std::move(column));
  }
  parquet::WriterOptions options;
  // Feature values are continuous: nearly every one is distinct, so a dictionary only costs
  // (a hash insert per value) and saves nothing.
  options.dictionary = false;
  // Lineage only; no wall clock, so equal rows give equal bytes and unchanged partitions stay
  // unchanged in the catalog.
  options.key_value = {{"trib.schema", std::string(kSchemaVersion)},
                       {"trib.feature_set", set.name},
                       {"trib.feature_set_sha256", set.hash},
                       {"trib.adjust", adjust_name(mode)},
                       {"trib.inputs_fingerprint", fingerprint},
                       {"trib.symbol", symbol.str()},
                       {"trib.timeframe", std::string(to_string(tf))},
                       {"trib.partition", partition},
                       {"trib.code_version", std::string(code_version())}};
  parquet::StringSink sink;
  parquet::Writer writer(sink, schema_of(set), options);
  writer.write_batch(columns);
  writer.close();
  return std::move(sink.buffer());
}

// The rows of a committed feature file, for appending new sessions to it.
Frame read_frame(const std::string& bytes, size_t features) {
  parquet::Reader reader(parquet::memory_source(bytes));
  Frame frame;
  frame.columns.resize(features);
  std::vector<int> all;
  for (int c = 0; c < 3 + static_cast<int>(features); ++c) all.push_back(c);
  for (int g = 0; g < reader.num_row_groups(); ++g) {
    const auto cols = reader.read_row_group(g, all);
    frame.ts_ns.insert(frame.ts_ns.end(), cols[0].i64.begin(), cols[0].i64.end());
    frame.days.insert(frame.days.end(), cols[1].i32.begin(), cols[1].i32.end());
    frame.close.insert(frame.close.end(), cols[2].f64.begin(), cols[2].f64.end());
    for (size_t k = 0; k < features; ++k) {
      const auto& col = cols[3 + k];
      for (size_t i = 0; i < col.num_rows; ++i) frame.columns[k].push_back(col.is_null(i) ? std::nan("") : col.f64[i]);
    }
  }
  return frame;
}

// What one symbol's run does.
struct SymbolPlan {
  Symbol symbol;
  std::vector<Bar> bars;                // the whole history, in the run's price mode
  std::vector<InputFingerprint::Value> fingerprints;  // per bar
  size_t first_new = 0;                 // first bar to write (bars.size(): nothing new)
  bool full = true;
  std::optional<catalog::PartitionRecord> newest;  // the newest partition written before
  std::string newest_bytes;  // its file, when the new rows extend it (read once)
  size_t eval_from = 0;                 // first bar the evaluation reads (warm-up included)
};

}  // namespace

FeatureRunStats write_feature_set(lake::ObjectStore& store, catalog::Catalog& catalog, const FeatureSet& set,
                                  const std::vector<Symbol>& universe, const FeatureRunOptions& options) {
  const expr::Program program = expr::Program::compile(set.features);
  const std::string dataset = "features/" + set.name;
  const std::string tf_name(to_string(options.tf));
  FeatureRunStats stats;

  // 1. Each symbol's history and what of it is new since the last run.
  std::vector<SymbolPlan> plans;
  std::set<std::string> named;  // a symbol named twice is computed once
  for (const Symbol& symbol : universe) {
    if (!named.insert(symbol.str()).second) continue;
    SymbolPlan plan;
    plan.symbol = symbol;
    for (auto& row : etl::read_adjusted_bars(store, catalog, etl::BarsQuery{symbol, options.tf, {}, {}}, options.prices).rows) {
      plan.bars.push_back(row.bar);
    }
    if (plan.bars.empty()) {
      throw Error::InvalidInput(fmt::format("{} has no {} bars to compute features from; ingest them first",
                                            symbol.str(), tf_name));
    }
    InputFingerprint fingerprint(set, options.prices.adjust);
    for (const Bar& bar : plan.bars) plan.fingerprints.push_back(fingerprint.add(bar));
    const auto existing = catalog.list_partitions(dataset, tf_name, symbol.str());
    if (!options.full && !existing.empty()) {
      plan.newest = *std::max_element(existing.begin(), existing.end(), [](const auto& a, const auto& b) {
        return a.max_ts_ns < b.max_ts_ns;
      });
      std::string bytes = etl::read_committed_bytes(store, *plan.newest);
      const auto md = parquet::Reader(parquet::memory_source(bytes)).metadata();
      // Incremental only on top of the same set version over the same history.
      auto last = std::find_if(plan.bars.begin(), plan.bars.end(),
                               [&](const Bar& b) { return b.ts_ns == plan.newest->max_ts_ns; });
      if (last != plan.bars.end() &&
          md.kv("trib.inputs_fingerprint") ==
              InputFingerprint::hex(plan.fingerprints[static_cast<size_t>(last - plan.bars.begin())])) {
        plan.full = false;
        plan.first_new = static_cast<size_t>(last - plan.bars.begin()) + 1;
        const bool extends = plan.first_new < plan.bars.size() &&
                             partition_of(options.tf, plan.bars[plan.first_new].session_date) == plan.newest->key.partition;
        if (extends) plan.newest_bytes = std::move(bytes);
      }
    }
    plans.push_back(std::move(plan));
  }

  stats.symbols = static_cast<int>(plans.size());

  // 2. Where each evaluation starts: the warm-up before the first new row, or the whole history.
  // Cross-sectional sets compare symbols on each date, so all start together.
  const int lookback = program.lookback();
  auto warm_start = [&](const SymbolPlan& p, size_t first) {
    if (p.full || lookback < 0) return size_t{0};
    return first > static_cast<size_t>(lookback) ? first - static_cast<size_t>(lookback) : size_t{0};
  };
  if (program.cross_sectional()) {
    const bool any_full = std::any_of(plans.begin(), plans.end(), [](const auto& p) { return p.full; });
    int64_t from_ts = INT64_MAX;
    for (const auto& p : plans) {
      if (p.first_new < p.bars.size()) from_ts = std::min(from_ts, p.bars[p.first_new].ts_ns);
    }
    for (auto& p : plans) {
      if (any_full) {
        p.full = true;
        p.first_new = 0;
        std::string().swap(p.newest_bytes);
        continue;
      }
      const size_t first = static_cast<size_t>(
          std::lower_bound(p.bars.begin(), p.bars.end(), from_ts, [](const Bar& b, int64_t t) { return b.ts_ns < t; }) -
          p.bars.begin());
      p.eval_from = warm_start(p, first);
    }
  } else {
    for (auto& p : plans) p.eval_from = warm_start(p, p.first_new);
  }

  std::vector<expr::SeriesInput> inputs;
  for (const auto& p : plans) {
    inputs.push_back(expr::series_input(p.symbol.str(), std::span<const Bar>(p.bars).subspan(p.eval_from)));
  }

  // 3. Evaluate a batch of symbols at a time; encode each symbol's partitions with new rows (in
  // parallel: the store is thread-safe, the catalog is not), then commit them one symbol at a time.
  const expr::Evaluator evaluator(program, inputs, options.threads);
  for (size_t begin = 0; begin < plans.size(); begin += kBatchSymbols) {
    auto outputs = evaluator.outputs(begin, begin + kBatchSymbols);
    std::vector<std::vector<etl::PendingVersion>> pending(outputs.size());
    parallel_for(outputs.size(), options.threads, [&](size_t k) {
      SymbolPlan& p = plans[begin + k];
      if (p.first_new >= p.bars.size()) return;
      // The rows to write: kept rows of the newest partition (incremental), then the new ones.
      Frame frame;
      frame.columns.resize(set.features.size());
      if (!p.full && !p.newest_bytes.empty()) {
        frame = read_frame(p.newest_bytes, set.features.size());
        std::string().swap(p.newest_bytes);
      }
      const size_t kept = frame.ts_ns.size();  // frame row r >= kept is bar first_new + r - kept
      for (size_t i = p.first_new; i < p.bars.size(); ++i) {
        frame.ts_ns.push_back(p.bars[i].ts_ns);
        frame.days.push_back(p.bars[i].session_date.days_since_epoch());
        frame.close.push_back(p.bars[i].close);
        for (size_t f = 0; f < set.features.size(); ++f) frame.columns[f].push_back(outputs[k][f][i - p.eval_from]);
      }
      outputs[k].clear();  // the frame holds what is written
      std::set<std::string> seen;
      size_t row = 0;
      while (row < frame.ts_ns.size()) {
        const std::string partition = partition_of(options.tf, Date(frame.days[row]));
        if (!seen.insert(partition).second) {
          throw Error::Internal("write_feature_set: session dates of " + p.symbol.str() +
                                " are not ascending (partition " + partition + " seen twice)");
        }
        size_t end = row + 1;
        while (end < frame.ts_ns.size() && partition_of(options.tf, Date(frame.days[end])) == partition) ++end;
        etl::PendingVersion version;
        // A file's last row is always a new one (kept rows only start the first file).
        const std::string fingerprint = InputFingerprint::hex(p.fingerprints[p.first_new + (end - 1 - kept)]);
        version.bytes =
            encode_rows(set, frame, row, end, p.symbol, options.tf, options.prices.adjust, partition, fingerprint);
        catalog::PartitionRecord& record = version.commit.record;
        record.key = {dataset, tf_name, p.symbol.str(), partition};
        record.object_key = lake::features_key(set.name, options.tf, p.symbol, partition);
        record.row_count = static_cast<int64_t>(end - row);
        record.min_ts_ns = frame.ts_ns[row];
        record.max_ts_ns = frame.ts_ns[end - 1];
        record.code_version = std::string(code_version());
        pending[k].push_back(std::move(version));
        row = end;
      }
    });
    for (size_t k = 0; k < pending.size(); ++k) {
      const SymbolPlan& p = plans[begin + k];
      if (p.first_new >= p.bars.size()) {
        ++stats.symbols_current;
        continue;
      }
      ++(p.full ? stats.symbols_full : stats.symbols_incremental);
      stats.rows_computed += static_cast<int64_t>(p.bars.size() - p.first_new);
      // Features are derived, not merged: whatever version is there is replaced.
      for (auto& version : pending[k]) {
        const auto current = catalog.get_partition(version.commit.record.key);
        version.commit.expected_version = current ? current->version : 0;
      }
      // One commit for the symbol's partitions (docs/architecture.md, the commit protocol).
      for (const auto& result : etl::commit_versions(store, catalog, pending[k]).results) {
        ++(result.outcome == catalog::CommitOutcome::kUnchanged ? stats.partitions_unchanged
                                                                : stats.partitions_written);
      }
      pending[k].clear();
    }
  }
  return stats;
}

}  // namespace trib::features
