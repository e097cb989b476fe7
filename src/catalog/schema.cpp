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

// Migration 2: the commit protocol for object storage (version objects), merge precedence and
// ingest windows on raw objects, task completion, data-quality counts keyed by raw object, the
// hot cache, and an exact ledger (integer micro-units instead of REAL).
constexpr const char* kObjectStoreCommitSchema = R"sql(
ALTER TABLE partitions ADD COLUMN version_key TEXT NOT NULL DEFAULT '';
ALTER TABLE partition_versions ADD COLUMN version_key TEXT NOT NULL DEFAULT '';

ALTER TABLE raw_objects ADD COLUMN fetched_at_ns INTEGER NOT NULL DEFAULT 0;
ALTER TABLE raw_objects ADD COLUMN task_id TEXT NOT NULL DEFAULT '';
ALTER TABLE raw_objects ADD COLUMN window_from TEXT NOT NULL DEFAULT '';
ALTER TABLE raw_objects ADD COLUMN window_to TEXT NOT NULL DEFAULT '';
UPDATE raw_objects SET fetched_at_ns = recorded_at_ns;
CREATE INDEX raw_objects_by_task ON raw_objects (task_id);
CREATE INDEX raw_objects_by_fetch ON raw_objects (fetched_at_ns, object_key);

CREATE TABLE tasks_done (
  task_id    TEXT PRIMARY KEY,
  run_id     TEXT NOT NULL,
  done_at_ns INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX tasks_done_by_run ON tasks_done (run_id);

-- Counts keyed by what they count (raw object, symbol, rule), replaced on every recount.
CREATE TABLE dq_counts (
  raw_object TEXT NOT NULL,
  dataset    TEXT NOT NULL,
  symbol     TEXT NOT NULL,
  rule       TEXT NOT NULL,
  rows       INTEGER NOT NULL CHECK (rows > 0),
  run_id     TEXT NOT NULL,
  PRIMARY KEY (raw_object, dataset, symbol, rule)
) WITHOUT ROWID;
CREATE INDEX dq_counts_by_run ON dq_counts (run_id);
INSERT INTO dq_counts (raw_object, dataset, symbol, rule, rows, run_id)
  SELECT 'run:' || run_id, dataset, symbol, rule, rows, run_id FROM dq_results WHERE rows > 0;
DROP TABLE dq_results;

-- The hot cache: the newest rows of each (symbol, timeframe) as one value (encoded by
-- catalog.cpp, encode_hot_rows), so a commit refreshes it with one write, not hundreds.
CREATE TABLE hot_cache (
  symbol      TEXT NOT NULL,
  timeframe   TEXT NOT NULL,
  row_count   INTEGER NOT NULL,
  first_ts_ns INTEGER NOT NULL,
  last_ts_ns  INTEGER NOT NULL,
  rows        BLOB NOT NULL,
  PRIMARY KEY (symbol, timeframe)
) WITHOUT ROWID;

-- The ledger in micro-units (1e-6): exact sums of money and quantities.
CREATE TABLE ledger_accounts (
  account             TEXT PRIMARY KEY,
  initial_cash_micros INTEGER,
  net_flow_micros     INTEGER NOT NULL DEFAULT 0,
  created_at_ns       INTEGER NOT NULL
);
INSERT INTO ledger_accounts
  SELECT account, CAST(round(initial_cash * 1000000) AS INTEGER),
         CAST(round(net_flow * 1000000) AS INTEGER), created_at_ns FROM accounts;

CREATE TABLE ledger_orders (
  client_order_id    TEXT PRIMARY KEY,
  strategy           TEXT NOT NULL,
  symbol             TEXT NOT NULL,
  side               TEXT NOT NULL CHECK (side IN ('buy', 'sell')),
  qty_micros         INTEGER NOT NULL CHECK (qty_micros > 0),
  order_type         TEXT NOT NULL,
  limit_price_micros INTEGER,
  session_date       TEXT NOT NULL,
  status             TEXT NOT NULL
                     CHECK (status IN ('new', 'accepted', 'filled', 'denied', 'rejected', 'cancelled')),
  reason             TEXT NOT NULL,
  broker             TEXT NOT NULL,
  broker_order_id    TEXT NOT NULL,
  created_at_ns      INTEGER NOT NULL,
  updated_at_ns      INTEGER NOT NULL
);
CREATE INDEX ledger_orders_by_strategy ON ledger_orders (strategy, created_at_ns);
INSERT INTO ledger_orders
  SELECT client_order_id, strategy, symbol, side, CAST(round(qty * 1000000) AS INTEGER), order_type,
         CAST(round(limit_price * 1000000) AS INTEGER), session_date, status, reason, broker,
         broker_order_id, created_at_ns, updated_at_ns FROM orders;

CREATE TABLE ledger_fills (
  fill_id           TEXT PRIMARY KEY,
  account           TEXT NOT NULL REFERENCES ledger_accounts (account),
  client_order_id   TEXT NOT NULL,
  symbol            TEXT NOT NULL,
  side              TEXT NOT NULL CHECK (side IN ('buy', 'sell')),
  qty_micros        INTEGER NOT NULL CHECK (qty_micros > 0),
  price_micros      INTEGER NOT NULL CHECK (price_micros >= 0),
  commission_micros INTEGER NOT NULL,
  ts_ns             INTEGER NOT NULL,
  recorded_at_ns    INTEGER NOT NULL
);
CREATE INDEX ledger_fills_by_order ON ledger_fills (client_order_id);
INSERT INTO ledger_fills
  SELECT fill_id, account, client_order_id, symbol, side, CAST(round(qty * 1000000) AS INTEGER),
         CAST(round(price * 1000000) AS INTEGER), CAST(round(commission * 1000000) AS INTEGER),
         ts_ns, recorded_at_ns FROM fills;

CREATE TABLE ledger_positions (
  account             TEXT NOT NULL REFERENCES ledger_accounts (account),
  symbol              TEXT NOT NULL,
  qty_micros          INTEGER NOT NULL,
  avg_price_micros    INTEGER NOT NULL,
  realized_pnl_micros INTEGER NOT NULL,
  updated_at_ns       INTEGER NOT NULL,
  PRIMARY KEY (account, symbol)
) WITHOUT ROWID;
INSERT INTO ledger_positions
  SELECT account, symbol, CAST(round(qty * 1000000) AS INTEGER),
         CAST(round(avg_price * 1000000) AS INTEGER), CAST(round(realized_pnl * 1000000) AS INTEGER),
         updated_at_ns FROM positions;

DROP TABLE positions;
DROP TABLE fills;
DROP TABLE orders;
DROP TABLE accounts;
)sql";

// Migration 3: the universe the daily updater keeps current, and vendor request budgets shared
// by every process on this catalog.
constexpr const char* kUniverseSchema = R"sql(
CREATE TABLE universe (
  symbol        TEXT NOT NULL,
  vendor        TEXT NOT NULL,
  dataset       TEXT NOT NULL,
  timeframe     TEXT NOT NULL,
  calendar      TEXT NOT NULL,
  asset_class   TEXT NOT NULL,
  currency      TEXT NOT NULL,
  start_date    TEXT NOT NULL,
  status        TEXT NOT NULL CHECK (status IN ('active', 'unknown_symbol')),
  status_reason TEXT NOT NULL,
  status_at_ns  INTEGER NOT NULL,
  added_at_ns   INTEGER NOT NULL,
  PRIMARY KEY (symbol, vendor, dataset, timeframe)
) WITHOUT ROWID;

CREATE TABLE vendor_budgets (
  vendor          TEXT PRIMARY KEY,
  tat_ns          INTEGER NOT NULL,
  paused_until_ns INTEGER NOT NULL,
  hour_start_ns   INTEGER NOT NULL,
  hour_count      INTEGER NOT NULL,
  day_start_ns    INTEGER NOT NULL,
  day_count       INTEGER NOT NULL
) WITHOUT ROWID;
)sql";

// Migration 4: coverage (`trib coverage`, Catalog::session_coverage) computed in SQL. The
// calendar's sessions, materialised from core's TradingCalendar for the years asked
// (ensure_calendar_sessions), and the sessions each partition holds rows for, as one character
// per day ('1' present, '0' not; position = day - first_day), written in the commit's
// transaction.
constexpr const char* kCoverageSchema = R"sql(
CREATE TABLE calendar_sessions (
  calendar     TEXT NOT NULL,
  session_day  INTEGER NOT NULL,  -- days since 1970-01-01
  session_date TEXT NOT NULL,  -- the same day as YYYY-MM-DD
  PRIMARY KEY (calendar, session_day)
) WITHOUT ROWID;

CREATE TABLE partition_sessions (
  dataset   TEXT NOT NULL,
  timeframe TEXT NOT NULL,
  symbol    TEXT NOT NULL,
  partition TEXT NOT NULL,
  first_day INTEGER NOT NULL,  -- days since 1970-01-01 of the first character of days
  days      TEXT NOT NULL CHECK (length(days) >= 1),
  PRIMARY KEY (dataset, timeframe, symbol, partition)
) WITHOUT ROWID;
)sql";

// Migration 5: corporate actions, point-in-time. One row per version of what one source said
// about one action; list_actions() picks the version in force at a knowledge time.
constexpr const char* kCorporateActionsSchema = R"sql(
CREATE TABLE corporate_actions (
  symbol          TEXT NOT NULL,
  kind            TEXT NOT NULL CHECK (kind IN ('split', 'dividend', 'symbol_change', 'delisting')),
  ex_date         TEXT NOT NULL,  -- YYYY-MM-DD
  source          TEXT NOT NULL,
  knowledge_ts_ns INTEGER NOT NULL,
  split_ratio     REAL NOT NULL,  -- new shares per old (split), else 0
  cash_amount     REAL NOT NULL,  -- per share (dividend), else 0
  currency        TEXT NOT NULL,
  pay_date        TEXT NOT NULL,  -- '' when the source did not say
  record_date     TEXT NOT NULL,
  declared_date   TEXT NOT NULL,
  new_symbol      TEXT NOT NULL,  -- symbol change: the ticker from ex_date on
  retracted       INTEGER NOT NULL CHECK (retracted IN (0, 1)),
  origin          TEXT NOT NULL,  -- raw object key or imported file
  recorded_at_ns  INTEGER NOT NULL,
  PRIMARY KEY (symbol, kind, ex_date, source, knowledge_ts_ns)
) WITHOUT ROWID;
CREATE INDEX corporate_actions_by_new_symbol ON corporate_actions (new_symbol);
)sql";

// Migration 6: a dividend's reference price (the close before the ex-date as its source stated
// it; 0 when it did not), for readers whose bars lack that session.
constexpr const char* kActionReferencePriceSchema = R"sql(
ALTER TABLE corporate_actions ADD COLUMN reference_price REAL NOT NULL DEFAULT 0;
)sql";

// Migration 7: the model registry (trib ml train). Artefacts live in the lake under
// `artefacts`; this row is what makes them a model.
constexpr const char* kModelRegistrySchema = R"sql(
CREATE TABLE models (
  id               TEXT PRIMARY KEY,
  name             TEXT NOT NULL,
  kind             TEXT NOT NULL,
  feature_set      TEXT NOT NULL,
  feature_set_hash TEXT NOT NULL,
  label            TEXT NOT NULL,
  dataset_hash     TEXT NOT NULL,
  config_toml      TEXT NOT NULL,
  code_version     TEXT NOT NULL,
  artefacts        TEXT NOT NULL,
  metrics_json     TEXT NOT NULL,
  importance_json  TEXT NOT NULL,
  from_day         INTEGER NOT NULL,
  to_day           INTEGER NOT NULL,
  splits           INTEGER NOT NULL,
  created_at_ns    INTEGER NOT NULL
);
CREATE INDEX models_by_name ON models (name, created_at_ns);
)sql";

// Migration 8: the portfolio trading engine. Orders gain their account, a stop price, the filled
// quantity and the statuses of a real broker (partially_filled, expired); the account's trading
// state (ACTIVE / REDUCING / HALTED, `trib halt`) and the risk engine's denials get tables of their
// own (a denial no longer takes the order's client id). SQLite cannot change a CHECK: the orders
// table is rebuilt.
constexpr const char* kTradingSchema = R"sql(
CREATE TABLE ledger_orders_v8 (
  client_order_id    TEXT PRIMARY KEY,
  strategy           TEXT NOT NULL,
  symbol             TEXT NOT NULL,
  side               TEXT NOT NULL CHECK (side IN ('buy', 'sell')),
  qty_micros         INTEGER NOT NULL CHECK (qty_micros > 0),
  order_type         TEXT NOT NULL,
  limit_price_micros INTEGER,
  session_date       TEXT NOT NULL,
  status             TEXT NOT NULL CHECK (status IN ('new', 'accepted', 'partially_filled', 'filled',
                                                    'denied', 'rejected', 'cancelled', 'expired')),
  reason             TEXT NOT NULL,
  broker             TEXT NOT NULL,
  broker_order_id    TEXT NOT NULL,
  created_at_ns      INTEGER NOT NULL,
  updated_at_ns      INTEGER NOT NULL,
  account            TEXT NOT NULL,
  stop_price_micros  INTEGER,
  filled_qty_micros  INTEGER NOT NULL DEFAULT 0
);
INSERT INTO ledger_orders_v8
  SELECT o.client_order_id, o.strategy, o.symbol, o.side, o.qty_micros, o.order_type,
         o.limit_price_micros, o.session_date, o.status, o.reason, o.broker, o.broker_order_id,
         o.created_at_ns, o.updated_at_ns,
         coalesce((SELECT min(f.account) FROM ledger_fills f WHERE f.client_order_id = o.client_order_id), 'paper'),
         NULL,
         coalesce((SELECT sum(f.qty_micros) FROM ledger_fills f WHERE f.client_order_id = o.client_order_id), 0)
  FROM ledger_orders o;
DROP TABLE ledger_orders;
ALTER TABLE ledger_orders_v8 RENAME TO ledger_orders;
CREATE INDEX ledger_orders_by_strategy ON ledger_orders (strategy, created_at_ns);
CREATE INDEX ledger_orders_by_account ON ledger_orders (account, status);

CREATE TABLE trading_state (
  account            TEXT PRIMARY KEY,
  state              TEXT NOT NULL CHECK (state IN ('ACTIVE', 'REDUCING', 'HALTED')),
  reason             TEXT NOT NULL,
  peak_equity_micros INTEGER NOT NULL,
  last_equity_micros INTEGER NOT NULL,
  last_session       TEXT NOT NULL,
  updated_at_ns      INTEGER NOT NULL,
  strategy_json      TEXT NOT NULL
);

CREATE TABLE risk_denials (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  account         TEXT NOT NULL,
  client_order_id TEXT NOT NULL,
  strategy        TEXT NOT NULL,
  symbol          TEXT NOT NULL,
  side            TEXT NOT NULL CHECK (side IN ('buy', 'sell')),
  qty_micros      INTEGER NOT NULL,
  rule            TEXT NOT NULL,
  reason          TEXT NOT NULL,
  session_date    TEXT NOT NULL,
  created_at_ns   INTEGER NOT NULL
);
CREATE INDEX risk_denials_by_account ON risk_denials (account, id);
CREATE TABLE ledger_adjustments (
  action_id       TEXT NOT NULL,
  account         TEXT NOT NULL,
  symbol          TEXT NOT NULL,
  kind            TEXT NOT NULL CHECK (kind IN ('split', 'dividend')),
  qty_before      INTEGER NOT NULL,
  qty_after       INTEGER NOT NULL,
  cash_micros     INTEGER NOT NULL,
  ex_date         TEXT NOT NULL,
  applied_at_ns   INTEGER NOT NULL,
  PRIMARY KEY (account, action_id)
);
)sql";

constexpr Migration kMigrations[] = {
    {1, "manifest, raw objects, runs, watermarks, dq, ledger", kInitialSchema},
    {2, "version objects, fetch precedence, tasks, dq by raw object, hot cache, exact ledger",
     kObjectStoreCommitSchema},
    {3, "universe, vendor budgets", kUniverseSchema},
    {4, "calendar sessions, partition sessions (coverage)", kCoverageSchema},
    {5, "corporate actions", kCorporateActionsSchema},
    {6, "dividend reference price", kActionReferencePriceSchema},
    {7, "model registry", kModelRegistrySchema},
    {8, "trading: order account and fills, trading state, risk denials, ledger adjustments", kTradingSchema},
};

}  // namespace

std::span<const Migration> catalog_migrations() { return kMigrations; }

}  // namespace trib::catalog
