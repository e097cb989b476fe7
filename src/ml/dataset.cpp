#include "trib/ml/dataset.hpp"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <set>

#include <fmt/format.h>

#include "trib/core/error.hpp"
#include "trib/core/hash.hpp"
#include "trib/etl/bars_reader.hpp"
#include "trib/features/expression.hpp"
#include "trib/lake/parquet.hpp"

namespace trib::ml {
namespace {

constexpr float kMissing = std::numeric_limits<float>::quiet_NaN();

// One symbol's feature rows in the range.
struct SymbolRows {
  std::vector<int32_t> days;
  std::vector<std::vector<float>> columns;
  std::vector<std::string> partition_hashes;  // "<key>:<sha256>" of each file read
};

SymbolRows read_symbol(lake::ObjectStore& store, catalog::Catalog& catalog, const features::FeatureSet& set,
                       const Symbol& symbol, Date from, Date to, Timeframe tf) {
  SymbolRows out;
  const size_t nf = set.features.size();
  out.columns.resize(nf);
  const std::string dataset = "features/" + set.name;
  // Partitions whose timestamps could hold sessions in the range (two days' slack for time zones;
  // dates past 2262 do not fit in nanoseconds: no upper bound then).
  auto ns_of = [](int64_t days) {
    constexpr int64_t kDay = 86'400'000'000'000LL;
    return days > INT64_MAX / kDay ? INT64_MAX : days < INT64_MIN / kDay ? INT64_MIN : days * kDay;
  };
  const int64_t from_ns = ns_of(static_cast<int64_t>(from.days_since_epoch()) - 2);
  const int64_t to_ns = ns_of(static_cast<int64_t>(to.days_since_epoch()) + 2);
  for (const auto& record : catalog.list_partitions(dataset, std::string(to_string(tf)), symbol.str())) {
    if (record.max_ts_ns < from_ns || record.min_ts_ns > to_ns) continue;
    parquet::Reader reader(parquet::memory_source(etl::read_committed_bytes(store, record)), record.object_key);
    const auto& schema = reader.metadata().schema;
    if (schema.columns.size() != 3 + nf) {
      throw Error::InvalidInput(fmt::format(
          "{} has {} feature column(s) but set '{}' has {}: recompute it with `trib features --set {} --full`",
          record.object_key, schema.columns.size() - 3, set.name, nf, set.name));
    }
    out.partition_hashes.push_back(record.object_key + ":" + record.content_sha256);
    std::vector<int> columns(3 + nf);
    std::iota(columns.begin(), columns.end(), 0);
    for (int g = 0; g < reader.num_row_groups(); ++g) {
      const auto cols = reader.read_row_group(g, columns);
      for (size_t i = 0; i < cols[1].num_rows; ++i) {
        const int32_t day = cols[1].i32[i];
        if (day < from.days_since_epoch() || day > to.days_since_epoch()) continue;
        out.days.push_back(day);
        for (size_t k = 0; k < nf; ++k) {
          const auto& c = cols[3 + k];
          out.columns[k].push_back(c.is_null(i) ? kMissing : static_cast<float>(c.f64[i]));
        }
      }
    }
  }
  return out;
}

// Lays the symbols' rows out; their columns are released as they are copied (days and
// partition hashes are kept).
Dataset assemble(const features::FeatureSet& set, const std::vector<Symbol>& symbols, std::vector<SymbolRows>& per) {
  Dataset d;
  for (const auto& [name, formula] : set.features) d.feature_names.push_back(name);
  for (const auto& s : symbols) d.symbols.push_back(s.str());
  struct Ref {
    int32_t day, symbol;
    uint32_t at;
  };
  std::vector<Ref> refs;
  for (size_t s = 0; s < per.size(); ++s) {
    for (size_t i = 0; i < per[s].days.size(); ++i) {
      refs.push_back({per[s].days[i], static_cast<int32_t>(s), static_cast<uint32_t>(i)});
    }
  }
  std::sort(refs.begin(), refs.end(),
            [](const Ref& a, const Ref& b) { return a.day != b.day ? a.day < b.day : a.symbol < b.symbol; });
  const size_t n = refs.size();
  d.day.resize(n);
  d.symbol.resize(n);
  d.label_end_day.assign(n, INT32_MAX);
  d.y.assign(n, std::numeric_limits<double>::quiet_NaN());
  d.x.assign(d.feature_names.size(), std::vector<float>(n));
  for (size_t r = 0; r < n; ++r) {
    d.day[r] = refs[r].day;
    d.symbol[r] = refs[r].symbol;
    if (r == 0 || refs[r].day != refs[r - 1].day) {
      d.dates.push_back(refs[r].day);
      d.date_begin.push_back(r);
    }
  }
  d.date_begin.push_back(n);
  for (size_t k = 0; k < d.x.size(); ++k) {
    for (size_t r = 0; r < n; ++r) d.x[k][r] = per[static_cast<size_t>(refs[r].symbol)].columns[k][refs[r].at];
    // Each feature is held twice only while it is laid out (the whole matrix twice would double
    // the build's peak memory).
    for (auto& p : per) std::vector<float>().swap(p.columns[k]);
  }
  return d;
}

std::vector<SymbolRows> read_all(lake::ObjectStore& store, catalog::Catalog& catalog, const features::FeatureSet& set,
                                 const std::vector<Symbol>& symbols, Date from, Date to, Timeframe tf) {
  // One thread: the catalog belongs to the caller's (reading the 505 x 5 alpha158 files of the
  // Kaggle universe takes a few seconds; decoding in parallel is left for when it matters).
  std::vector<SymbolRows> per(symbols.size());
  for (size_t s = 0; s < symbols.size(); ++s) per[s] = read_symbol(store, catalog, set, symbols[s], from, to, tf);
  return per;
}

}  // namespace

size_t Dataset::date_index(int32_t d) const {
  return static_cast<size_t>(std::lower_bound(dates.begin(), dates.end(), d) - dates.begin());
}

Dataset read_feature_rows(lake::ObjectStore& store, catalog::Catalog& catalog, const features::FeatureSet& set,
                          const std::vector<Symbol>& symbols, Date from, Date to, Timeframe tf) {
  auto per = read_all(store, catalog, set, symbols, from, to, tf);
  return assemble(set, symbols, per);
}

Dataset build_dataset(lake::ObjectStore& store, catalog::Catalog& catalog, const DatasetSpec& spec,
                      DatasetStats* stats) {
  if (spec.universe.empty()) throw Error::InvalidInput("the dataset's universe is empty: name at least one symbol");
  if (spec.from > spec.to) {
    throw Error::InvalidInput(fmt::format("the dataset's range is inverted: from {} is after to {}",
                                          spec.from.to_string(), spec.to.to_string()));
  }
  {
    std::set<std::string> seen;
    for (const auto& s : spec.universe) {
      if (!seen.insert(s.str()).second) throw Error::InvalidInput(fmt::format("{} is named twice in the universe", s.str()));
    }
  }
  const auto label = features::expr::Program::compile({{"label", spec.label}}, features::expr::Purpose::kLabel);
  const int horizon = label.lookahead();

  // 1. The feature files, brought up to date (incremental; nothing to do when they are).
  features::FeatureRunOptions run;
  run.tf = spec.tf;
  run.prices = spec.prices;
  run.threads = spec.threads;
  const auto feature_stats = features::write_feature_set(store, catalog, spec.set, spec.universe, run);
  if (stats != nullptr) stats->features = feature_stats;

  // 2. Their rows in the range.
  auto per = read_all(store, catalog, spec.set, spec.universe, spec.from, spec.to, spec.tf);
  Dataset d = assemble(spec.set, spec.universe, per);
  d.label_horizon = horizon;
  d.label = label.canonical(0);
  if (stats != nullptr) {
    stats->symbols_without_rows =
        static_cast<int>(std::count_if(per.begin(), per.end(), [](const SymbolRows& r) { return r.days.empty(); }));
  }

  // 3. The label on the same prices, over each symbol's whole history (it reads the future).
  std::vector<features::expr::SeriesInput> inputs;
  for (const Symbol& s : spec.universe) {
    std::vector<Bar> bars;
    for (auto& row : etl::read_adjusted_bars(store, catalog, etl::BarsQuery{s, spec.tf, {}, {}}, spec.prices).rows) {
      bars.push_back(row.bar);
    }
    inputs.push_back(features::expr::series_input(s.str(), bars));
  }
  const auto values = features::expr::evaluate(label, inputs, spec.threads);
  for (size_t r = 0; r < d.rows(); ++r) {
    const auto& in = inputs[static_cast<size_t>(d.symbol[r])];
    const auto it = std::lower_bound(in.dates.begin(), in.dates.end(), Date(d.day[r]));
    if (it == in.dates.end() || *it != Date(d.day[r])) continue;  // a feature row without a bar: no label
    const size_t i = static_cast<size_t>(it - in.dates.begin());
    const double v = values[static_cast<size_t>(d.symbol[r])][0][i];
    if (!std::isfinite(v)) continue;
    d.y[r] = v;
    d.label_end_day[r] = i + static_cast<size_t>(horizon) < in.dates.size() ? in.dates[i + static_cast<size_t>(horizon)].days_since_epoch()
                                                                            : INT32_MAX;
  }

  // 4. The hash of what the dataset holds.
  Sha256 h;
  h.update(fmt::format("dataset/1|{}|{}|{}|{}|{}|{}|{}|", spec.set.name, spec.set.hash, d.label, to_string(spec.tf),
                       static_cast<int>(spec.prices.adjust), spec.from.to_string(), spec.to.to_string()));
  for (const auto& s : d.symbols) h.update(s + ",");
  for (const auto& p : per) {
    for (const auto& ph : p.partition_hashes) h.update(ph + "|");
  }
  h.update(std::string_view(reinterpret_cast<const char*>(d.y.data()), d.y.size() * sizeof(double)));
  h.update(std::string_view(reinterpret_cast<const char*>(d.label_end_day.data()), d.label_end_day.size() * sizeof(int32_t)));
  d.hash = h.hex_digest();
  return d;
}

}  // namespace trib::ml
