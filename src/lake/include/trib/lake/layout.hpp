// The lake's zone and partition layout (see docs/architecture.md). All keys are built here so
// every module names the same object the same way, with symbols encoded as path components.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "trib/core/bar.hpp"
#include "trib/core/symbol.hpp"
#include "trib/core/time.hpp"

namespace trib::lake {

class ObjectStore;

// raw/vendor=<v>/dataset=<d>/symbol=<S>/fetched=<YYYY-MM-DD>/<sha256>[.w<window>].<ext>
// The window ("2020-01-01_2020-12-31") is the ingest window the payload was stored for: the same
// bytes ingested for two windows are two raw objects, each rebuilt with its own window.
std::string raw_key(std::string_view vendor, std::string_view dataset, std::string_view symbol_component,
                    Date fetched, std::string_view sha256, std::string_view ext,
                    std::string_view window = "");
// The sidecar beside a raw object: <raw key>.request.json
std::string raw_sidecar_key(std::string_view raw_key);

// curated/bars/timeframe=<tf>/symbol=<S>/year=<YYYY>/data.parquet (month=, day= for finer tf)
std::string curated_bars_key(Timeframe tf, const Symbol& symbol, std::string_view partition);
// The partition folder name: "year=2020", "month=2020-03", "day=2020-03-16".
std::string partition_dir(Timeframe tf, std::string_view partition);
// features/<set>/timeframe=<tf>/symbol=<S>/year=<YYYY>/data.parquet
std::string features_key(std::string_view feature_set, Timeframe tf, const Symbol& symbol,
                         std::string_view partition);
// The datasets "features/<set>" with files in the lake, by listing features/ (the catalog keys
// them by set name, which vacuum and status need without knowing the sets).
std::vector<std::string> feature_datasets(const ObjectStore& store);
// quarantine/bars/timeframe=<tf>/symbol=<S>/raw=<sha256 prefix>.parquet
std::string quarantine_key(Timeframe tf, const Symbol& symbol, std::string_view raw_sha256);
// _versions/<key without .parquet>/v<version>-<sha256 prefix>.parquet: replaced curated versions,
// kept outside the globbed tree for --as-of reads until vacuum.
// (The layout before version objects; still read for partitions committed by older builds.)
std::string version_key(std::string_view live_key, int64_t version, std::string_view sha256);
// _versions/<partition folder>.<sha256>.parquet (e.g. _versions/curated/bars/timeframe=1d/
// symbol=AAPL/year=2020.<sha256>.parquet): the immutable object of one version of a partition,
// written before its commit; the live file is published from it.
std::string version_object_key(std::string_view live_key, std::string_view sha256);

}  // namespace trib::lake
