#include "schema.hpp"

namespace trib::catalog {
namespace {

// Migration 1: the manifest, raw objects, runs, watermarks, data quality and the ledger.
constexpr const char* kInitialSchema = R"sql(
CREATE TABLE instruments (
  symbol        TEXT PRIMARY KEY,
  vendor        TEXT NOT NULL,
  calendar      TEXT NOT NULL,
  updated_at_ns INTEGER NOT NULL
);

-- The manifest: one row per live file; the row is the commit point of the file.
CREATE TABLE partitions (
  dataset         TEXT NOT NULL,
  timeframe       TEXT NOT NULL,
  symbol          TEXT NOT NULL,
  partition       TEXT NOT NULL,
  object_key      TEXT NOT NULL,
  row_count       INTEGER NOT NULL,
  content_sha256  TEXT NOT NULL,
  min_ts_ns       INTEGER NOT NULL,
  max_ts_ns       INTEGER NOT NULL,
  version         INTEGER NOT NULL CHECK (version >= 1),
  code_version    TEXT NOT NULL,
  committed_at_ns INTEGER NOT NULL,
  PRIMARY KEY (dataset, timeframe, symbol, partition)
) WITHOUT ROWID;

-- Every replaced version of a partition (for --as-of reads of _versions/ files).
CREATE TABLE partition_versions (
  dataset         TEXT NOT NULL,
  timeframe       TEXT NOT NULL,
  symbol          TEXT NOT NULL,
  partition       TEXT NOT NULL,
  version         INTEGER NOT NULL,
  object_key      TEXT NOT NULL,
  row_count       INTEGER NOT NULL,
  content_sha256  TEXT NOT NULL,
  min_ts_ns       INTEGER NOT NULL,
  max_ts_ns       INTEGER NOT NULL,
  code_version    TEXT NOT NULL,
  committed_at_ns INTEGER NOT NULL,
  replaced_at_ns  INTEGER NOT NULL,
  PRIMARY KEY (dataset, timeframe, symbol, partition, version)
) WITHOUT ROWID;

CREATE TABLE raw_objects (
  object_key     TEXT PRIMARY KEY,
  vendor         TEXT NOT NULL,
  dataset        TEXT NOT NULL,
  symbol         TEXT NOT NULL,
  sha256         TEXT NOT NULL,
  size           INTEGER NOT NULL,
  fetched_date   TEXT NOT NULL,
  request_json   TEXT NOT NULL,
  recorded_at_ns INTEGER NOT NULL
);
CREATE INDEX raw_objects_by_vendor_symbol ON raw_objects (vendor, symbol);

CREATE TABLE runs (
  run_id         TEXT PRIMARY KEY,
  kind           TEXT NOT NULL,
  params_json    TEXT NOT NULL,
  status         TEXT NOT NULL,
  stats_json     TEXT NOT NULL,
  started_at_ns  INTEGER NOT NULL,
  finished_at_ns INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE watermarks (
  vendor        TEXT NOT NULL,
  dataset       TEXT NOT NULL,
  symbol        TEXT NOT NULL,
  date          TEXT NOT NULL,  -- YYYY-MM-DD: compares correctly as text
  updated_at_ns INTEGER NOT NULL,
  PRIMARY KEY (vendor, dataset, symbol)
) WITHOUT ROWID;

CREATE TABLE dq_results (
  run_id  TEXT NOT NULL,
  dataset TEXT NOT NULL,
  symbol  TEXT NOT NULL,
  rule    TEXT NOT NULL,
  rows    INTEGER NOT NULL,
  PRIMARY KEY (run_id, dataset, symbol, rule)
) WITHOUT ROWID;

-- initial_cash is NULL until account_cash() names it (a fill may arrive first);
-- cash = coalesce(initial_cash, 0) + net_flow.
CREATE TABLE accounts (
  account       TEXT PRIMARY KEY,
  initial_cash  REAL,
  net_flow      REAL NOT NULL DEFAULT 0,
  created_at_ns INTEGER NOT NULL
);

CREATE TABLE orders (
  client_order_id TEXT PRIMARY KEY,
  strategy        TEXT NOT NULL,
  symbol          TEXT NOT NULL,
  side            TEXT NOT NULL CHECK (side IN ('buy', 'sell')),
  qty             REAL NOT NULL,
  order_type      TEXT NOT NULL,
  limit_price     REAL,
  session_date    TEXT NOT NULL,
  status          TEXT NOT NULL,
  reason          TEXT NOT NULL,
  broker          TEXT NOT NULL,
  broker_order_id TEXT NOT NULL,
  created_at_ns   INTEGER NOT NULL,
  updated_at_ns   INTEGER NOT NULL
);
CREATE INDEX orders_by_strategy ON orders (strategy, created_at_ns);

CREATE TABLE fills (
  fill_id         TEXT PRIMARY KEY,
  account         TEXT NOT NULL REFERENCES accounts (account),
  client_order_id TEXT NOT NULL,
  symbol          TEXT NOT NULL,
  side            TEXT NOT NULL CHECK (side IN ('buy', 'sell')),
  qty             REAL NOT NULL,
  price           REAL NOT NULL,
  commission      REAL NOT NULL,
  ts_ns           INTEGER NOT NULL,
  recorded_at_ns  INTEGER NOT NULL
);
CREATE INDEX fills_by_order ON fills (client_order_id);

CREATE TABLE positions (
  account       TEXT NOT NULL REFERENCES accounts (account),
  symbol        TEXT NOT NULL,
  qty           REAL NOT NULL,
  avg_price     REAL NOT NULL,
  realized_pnl  REAL NOT NULL,
  updated_at_ns INTEGER NOT NULL,
  PRIMARY KEY (account, symbol)
) WITHOUT ROWID;
)sql";

constexpr Migration kMigrations[] = {
    {1, "manifest, raw objects, runs, watermarks, dq, ledger", kInitialSchema},
};

}  // namespace

std::span<const Migration> catalog_migrations() { return kMigrations; }

}  // namespace trib::catalog
