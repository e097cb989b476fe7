// The PostgreSQL catalog's migrations: the SQLite ones (schema.cpp) step for step, with the same
// version numbers, tables, columns and stored strings, so schema_version() means the same schema
// on both backends. Persistent schema: never edit, renumber or remove a shipped migration; add
// one (to both files).
//
// Types: BIGINT for nanosecond times, counts and micro-units; DOUBLE PRECISION for the prices of
// the hot cache (as traded) and for migration 1's ledger (replaced by micro-units in 2); TEXT for
// the rest. Every text column is COLLATE "C": keys and listings sort by bytes, exactly as SQLite
// sorts them, whatever the database's default collation is. Statuses and sides are CHECKed
// against the stored strings.
#include "schema.hpp"

namespace trib::catalog {
namespace {

// Migration 1: the manifest, raw objects, runs, watermarks, data quality and the ledger.
constexpr const char* kInitialSchema = R"sql(
CREATE TABLE instruments (
  symbol        TEXT COLLATE "C" PRIMARY KEY,
  vendor        TEXT COLLATE "C" NOT NULL,
  calendar      TEXT COLLATE "C" NOT NULL,
  updated_at_ns BIGINT NOT NULL
);

-- The manifest: one row per live file; the row is the commit point of the file.
CREATE TABLE partitions (
  dataset         TEXT COLLATE "C" NOT NULL,
  timeframe       TEXT COLLATE "C" NOT NULL,
  symbol          TEXT COLLATE "C" NOT NULL,
  partition       TEXT COLLATE "C" NOT NULL,
  object_key      TEXT COLLATE "C" NOT NULL,
  row_count       BIGINT NOT NULL,
  content_sha256  TEXT COLLATE "C" NOT NULL,
  min_ts_ns       BIGINT NOT NULL,
  max_ts_ns       BIGINT NOT NULL,
  version         BIGINT NOT NULL CHECK (version >= 1),
  code_version    TEXT COLLATE "C" NOT NULL,
  committed_at_ns BIGINT NOT NULL,
  PRIMARY KEY (dataset, timeframe, symbol, partition)
);

-- Every replaced version of a partition (for --as-of reads of _versions/ files).
CREATE TABLE partition_versions (
  dataset         TEXT COLLATE "C" NOT NULL,
  timeframe       TEXT COLLATE "C" NOT NULL,
  symbol          TEXT COLLATE "C" NOT NULL,
  partition       TEXT COLLATE "C" NOT NULL,
  version         BIGINT NOT NULL,
  object_key      TEXT COLLATE "C" NOT NULL,
  row_count       BIGINT NOT NULL,
  content_sha256  TEXT COLLATE "C" NOT NULL,
  min_ts_ns       BIGINT NOT NULL,
  max_ts_ns       BIGINT NOT NULL,
  code_version    TEXT COLLATE "C" NOT NULL,
  committed_at_ns BIGINT NOT NULL,
  replaced_at_ns  BIGINT NOT NULL,
  PRIMARY KEY (dataset, timeframe, symbol, partition, version)
);

CREATE TABLE raw_objects (
  object_key     TEXT COLLATE "C" PRIMARY KEY,
  vendor         TEXT COLLATE "C" NOT NULL,
  dataset        TEXT COLLATE "C" NOT NULL,
  symbol         TEXT COLLATE "C" NOT NULL,
  sha256         TEXT COLLATE "C" NOT NULL,
  size           BIGINT NOT NULL,
  fetched_date   TEXT COLLATE "C" NOT NULL,
  request_json   TEXT COLLATE "C" NOT NULL,
  recorded_at_ns BIGINT NOT NULL
);
CREATE INDEX raw_objects_by_vendor_symbol ON raw_objects (vendor, symbol);

CREATE TABLE runs (
  run_id         TEXT COLLATE "C" PRIMARY KEY,
  kind           TEXT COLLATE "C" NOT NULL,
  params_json    TEXT COLLATE "C" NOT NULL,
  status         TEXT COLLATE "C" NOT NULL
                 CHECK (status IN ('running', 'ok', 'failed', 'interrupted')),
  stats_json     TEXT COLLATE "C" NOT NULL,
  started_at_ns  BIGINT NOT NULL,
  finished_at_ns BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE watermarks (
  vendor        TEXT COLLATE "C" NOT NULL,
  dataset       TEXT COLLATE "C" NOT NULL,
  symbol        TEXT COLLATE "C" NOT NULL,
  date          TEXT COLLATE "C" NOT NULL,  -- YYYY-MM-DD: compares correctly as bytes
  updated_at_ns BIGINT NOT NULL,
  PRIMARY KEY (vendor, dataset, symbol)
);

CREATE TABLE dq_results (
  run_id  TEXT COLLATE "C" NOT NULL,
  dataset TEXT COLLATE "C" NOT NULL,
  symbol  TEXT COLLATE "C" NOT NULL,
  rule    TEXT COLLATE "C" NOT NULL,
  rows    BIGINT NOT NULL,
  PRIMARY KEY (run_id, dataset, symbol, rule)
);

-- initial_cash is NULL until account_cash() names it (a fill may arrive first);
-- cash = coalesce(initial_cash, 0) + net_flow.
CREATE TABLE accounts (
  account       TEXT COLLATE "C" PRIMARY KEY,
  initial_cash  DOUBLE PRECISION,
  net_flow      DOUBLE PRECISION NOT NULL DEFAULT 0,
  created_at_ns BIGINT NOT NULL
);

CREATE TABLE orders (
  client_order_id TEXT COLLATE "C" PRIMARY KEY,
  strategy        TEXT COLLATE "C" NOT NULL,
  symbol          TEXT COLLATE "C" NOT NULL,
  side            TEXT COLLATE "C" NOT NULL CHECK (side IN ('buy', 'sell')),
  qty             DOUBLE PRECISION NOT NULL,
  order_type      TEXT COLLATE "C" NOT NULL,
  limit_price     DOUBLE PRECISION,
  session_date    TEXT COLLATE "C" NOT NULL,
  status          TEXT COLLATE "C" NOT NULL,
  reason          TEXT COLLATE "C" NOT NULL,
  broker          TEXT COLLATE "C" NOT NULL,
  broker_order_id TEXT COLLATE "C" NOT NULL,
  created_at_ns   BIGINT NOT NULL,
  updated_at_ns   BIGINT NOT NULL
);
CREATE INDEX orders_by_strategy ON orders (strategy, created_at_ns);

CREATE TABLE fills (
  fill_id         TEXT COLLATE "C" PRIMARY KEY,
  account         TEXT COLLATE "C" NOT NULL REFERENCES accounts (account),
  client_order_id TEXT COLLATE "C" NOT NULL,
  symbol          TEXT COLLATE "C" NOT NULL,
  side            TEXT COLLATE "C" NOT NULL CHECK (side IN ('buy', 'sell')),
  qty             DOUBLE PRECISION NOT NULL,
  price           DOUBLE PRECISION NOT NULL,
  commission      DOUBLE PRECISION NOT NULL,
  ts_ns           BIGINT NOT NULL,
  recorded_at_ns  BIGINT NOT NULL
);
CREATE INDEX fills_by_order ON fills (client_order_id);

CREATE TABLE positions (
  account       TEXT COLLATE "C" NOT NULL REFERENCES accounts (account),
  symbol        TEXT COLLATE "C" NOT NULL,
  qty           DOUBLE PRECISION NOT NULL,
  avg_price     DOUBLE PRECISION NOT NULL,
  realized_pnl  DOUBLE PRECISION NOT NULL,
  updated_at_ns BIGINT NOT NULL,
  PRIMARY KEY (account, symbol)
);
)sql";

// Migration 2: the commit protocol for object storage (version objects), merge precedence and
// ingest windows on raw objects, task completion, data-quality counts keyed by raw object, the
// hot cache, and an exact ledger (integer micro-units instead of floating point). A ledger value
// becomes micro-units from its decimal form (15 significant digits, as float8 -> numeric
// converts), rounded half away from zero.
constexpr const char* kObjectStoreCommitSchema = R"sql(
ALTER TABLE partitions ADD COLUMN version_key TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE partition_versions ADD COLUMN version_key TEXT COLLATE "C" NOT NULL DEFAULT '';

ALTER TABLE raw_objects
  ADD COLUMN fetched_at_ns BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN task_id TEXT COLLATE "C" NOT NULL DEFAULT '',
  ADD COLUMN window_from TEXT COLLATE "C" NOT NULL DEFAULT '',
  ADD COLUMN window_to TEXT COLLATE "C" NOT NULL DEFAULT '';
UPDATE raw_objects SET fetched_at_ns = recorded_at_ns;
CREATE INDEX raw_objects_by_task ON raw_objects (task_id);
CREATE INDEX raw_objects_by_fetch ON raw_objects (fetched_at_ns, object_key);

CREATE TABLE tasks_done (
  task_id    TEXT COLLATE "C" PRIMARY KEY,
  run_id     TEXT COLLATE "C" NOT NULL,
  done_at_ns BIGINT NOT NULL
);
CREATE INDEX tasks_done_by_run ON tasks_done (run_id);

-- Counts keyed by what they count (raw object, symbol, rule), replaced on every recount.
CREATE TABLE dq_counts (
  raw_object TEXT COLLATE "C" NOT NULL,
  dataset    TEXT COLLATE "C" NOT NULL,
  symbol     TEXT COLLATE "C" NOT NULL,
  rule       TEXT COLLATE "C" NOT NULL,
  rows       BIGINT NOT NULL CHECK (rows > 0),
  run_id     TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (raw_object, dataset, symbol, rule)
);
CREATE INDEX dq_counts_by_run ON dq_counts (run_id);
INSERT INTO dq_counts (raw_object, dataset, symbol, rule, rows, run_id)
  SELECT 'run:' || run_id, dataset, symbol, rule, rows, run_id FROM dq_results WHERE rows > 0;
DROP TABLE dq_results;

-- The hot cache: the newest rows of each (symbol, timeframe) as one value (encoded by
-- catalog.cpp, encode_hot_rows), so a commit refreshes it with one write, not hundreds.
CREATE TABLE hot_cache (
  symbol      TEXT COLLATE "C" NOT NULL,
  timeframe   TEXT COLLATE "C" NOT NULL,
  row_count   BIGINT NOT NULL,
  first_ts_ns BIGINT NOT NULL,
  last_ts_ns  BIGINT NOT NULL,
  rows        BYTEA NOT NULL,
  PRIMARY KEY (symbol, timeframe)
);

-- The ledger in micro-units (1e-6): exact sums of money and quantities.
CREATE TABLE ledger_accounts (
  account             TEXT COLLATE "C" PRIMARY KEY,
  initial_cash_micros BIGINT,
  net_flow_micros     BIGINT NOT NULL DEFAULT 0,
  created_at_ns       BIGINT NOT NULL
);
INSERT INTO ledger_accounts
  SELECT account, round(initial_cash::numeric * 1000000)::bigint,
         round(net_flow::numeric * 1000000)::bigint, created_at_ns FROM accounts;

CREATE TABLE ledger_orders (
  client_order_id    TEXT COLLATE "C" PRIMARY KEY,
  strategy           TEXT COLLATE "C" NOT NULL,
  symbol             TEXT COLLATE "C" NOT NULL,
  side               TEXT COLLATE "C" NOT NULL CHECK (side IN ('buy', 'sell')),
  qty_micros         BIGINT NOT NULL CHECK (qty_micros > 0),
  order_type         TEXT COLLATE "C" NOT NULL,
  limit_price_micros BIGINT,
  session_date       TEXT COLLATE "C" NOT NULL,
  status             TEXT COLLATE "C" NOT NULL CHECK (status IN
                       ('new', 'accepted', 'filled', 'denied', 'rejected', 'cancelled')),
  reason             TEXT COLLATE "C" NOT NULL,
  broker             TEXT COLLATE "C" NOT NULL,
  broker_order_id    TEXT COLLATE "C" NOT NULL,
  created_at_ns      BIGINT NOT NULL,
  updated_at_ns      BIGINT NOT NULL
);
CREATE INDEX ledger_orders_by_strategy ON ledger_orders (strategy, created_at_ns);
INSERT INTO ledger_orders
  SELECT client_order_id, strategy, symbol, side, round(qty::numeric * 1000000)::bigint,
         order_type, round(limit_price::numeric * 1000000)::bigint, session_date, status, reason,
         broker, broker_order_id, created_at_ns, updated_at_ns FROM orders;

CREATE TABLE ledger_fills (
  fill_id           TEXT COLLATE "C" PRIMARY KEY,
  account           TEXT COLLATE "C" NOT NULL REFERENCES ledger_accounts (account),
  client_order_id   TEXT COLLATE "C" NOT NULL,
  symbol            TEXT COLLATE "C" NOT NULL,
  side              TEXT COLLATE "C" NOT NULL CHECK (side IN ('buy', 'sell')),
  qty_micros        BIGINT NOT NULL CHECK (qty_micros > 0),
  price_micros      BIGINT NOT NULL CHECK (price_micros >= 0),
  commission_micros BIGINT NOT NULL,
  ts_ns             BIGINT NOT NULL,
  recorded_at_ns    BIGINT NOT NULL
);
CREATE INDEX ledger_fills_by_order ON ledger_fills (client_order_id);
INSERT INTO ledger_fills
  SELECT fill_id, account, client_order_id, symbol, side, round(qty::numeric * 1000000)::bigint,
         round(price::numeric * 1000000)::bigint, round(commission::numeric * 1000000)::bigint,
         ts_ns, recorded_at_ns FROM fills;

CREATE TABLE ledger_positions (
  account             TEXT COLLATE "C" NOT NULL REFERENCES ledger_accounts (account),
  symbol              TEXT COLLATE "C" NOT NULL,
  qty_micros          BIGINT NOT NULL,
  avg_price_micros    BIGINT NOT NULL,
  realized_pnl_micros BIGINT NOT NULL,
  updated_at_ns       BIGINT NOT NULL,
  PRIMARY KEY (account, symbol)
);
INSERT INTO ledger_positions
  SELECT account, symbol, round(qty::numeric * 1000000)::bigint,
         round(avg_price::numeric * 1000000)::bigint,
         round(realized_pnl::numeric * 1000000)::bigint, updated_at_ns FROM positions;

DROP TABLE positions;
DROP TABLE fills;
DROP TABLE orders;
DROP TABLE accounts;
)sql";

// Migration 3: the universe the daily updater keeps current, and vendor request budgets shared
// by every process on this catalog.
constexpr const char* kUniverseSchema = R"sql(
CREATE TABLE universe (
  symbol        TEXT COLLATE "C" NOT NULL,
  vendor        TEXT COLLATE "C" NOT NULL,
  dataset       TEXT COLLATE "C" NOT NULL,
  timeframe     TEXT COLLATE "C" NOT NULL,
  calendar      TEXT COLLATE "C" NOT NULL,
  asset_class   TEXT COLLATE "C" NOT NULL,
  currency      TEXT COLLATE "C" NOT NULL,
  start_date    TEXT COLLATE "C" NOT NULL,
  status        TEXT COLLATE "C" NOT NULL CHECK (status IN ('active', 'unknown_symbol')),
  status_reason TEXT COLLATE "C" NOT NULL,
  status_at_ns  BIGINT NOT NULL,
  added_at_ns   BIGINT NOT NULL,
  PRIMARY KEY (symbol, vendor, dataset, timeframe)
);

CREATE TABLE vendor_budgets (
  vendor          TEXT COLLATE "C" PRIMARY KEY,
  tat_ns          BIGINT NOT NULL,
  paused_until_ns BIGINT NOT NULL,
  hour_start_ns   BIGINT NOT NULL,
  hour_count      BIGINT NOT NULL,
  day_start_ns    BIGINT NOT NULL,
  day_count       BIGINT NOT NULL
);
)sql";

// Migration 4: coverage (`trib coverage`, Catalog::session_coverage) computed in SQL. The
// calendar's sessions, materialised from core's TradingCalendar for the years asked
// (ensure_calendar_sessions), and the sessions each partition holds rows for, as one character
// per day ('1' present, '0' not; position = day - first_day), written in the commit's
// transaction.
constexpr const char* kCoverageSchema = R"sql(
CREATE TABLE calendar_sessions (
  calendar     TEXT COLLATE "C" NOT NULL,
  session_day  BIGINT NOT NULL,  -- days since 1970-01-01
  session_date TEXT COLLATE "C" NOT NULL,  -- the same day as YYYY-MM-DD
  PRIMARY KEY (calendar, session_day)
);

CREATE TABLE partition_sessions (
  dataset   TEXT COLLATE "C" NOT NULL,
  timeframe TEXT COLLATE "C" NOT NULL,
  symbol    TEXT COLLATE "C" NOT NULL,
  partition TEXT COLLATE "C" NOT NULL,
  first_day BIGINT NOT NULL,  -- days since 1970-01-01 of the first character of days
  days      TEXT COLLATE "C" NOT NULL CHECK (length(days) >= 1),
  PRIMARY KEY (dataset, timeframe, symbol, partition)
);
)sql";

// Migration 5: corporate actions, point-in-time. One row per version of what one source said
// about one action; list_actions() picks the version in force at a knowledge time.
constexpr const char* kCorporateActionsSchema = R"sql(
CREATE TABLE corporate_actions (
  symbol          TEXT COLLATE "C" NOT NULL,
  kind            TEXT COLLATE "C" NOT NULL CHECK (kind IN ('split', 'dividend', 'symbol_change', 'delisting')),
  ex_date         TEXT COLLATE "C" NOT NULL,  -- YYYY-MM-DD
  source          TEXT COLLATE "C" NOT NULL,
  knowledge_ts_ns BIGINT NOT NULL,
  split_ratio     DOUBLE PRECISION NOT NULL,  -- new shares per old (split), else 0
  cash_amount     DOUBLE PRECISION NOT NULL,  -- per share (dividend), else 0
  currency        TEXT COLLATE "C" NOT NULL,
  pay_date        TEXT COLLATE "C" NOT NULL,  -- '' when the source did not say
  record_date     TEXT COLLATE "C" NOT NULL,
  declared_date   TEXT COLLATE "C" NOT NULL,
  new_symbol      TEXT COLLATE "C" NOT NULL,  -- symbol change: the ticker from ex_date on
  retracted       INTEGER NOT NULL CHECK (retracted IN (0, 1)),
  origin          TEXT COLLATE "C" NOT NULL,  -- raw object key or imported file
  recorded_at_ns  BIGINT NOT NULL,
  PRIMARY KEY (symbol, kind, ex_date, source, knowledge_ts_ns)
);
CREATE INDEX corporate_actions_by_new_symbol ON corporate_actions (new_symbol);
)sql";

// Migration 6: a dividend's reference price (the close before the ex-date as its source stated
// it; 0 when it did not), for readers whose bars lack that session.
constexpr const char* kActionReferencePriceSchema = R"sql(
ALTER TABLE corporate_actions ADD COLUMN reference_price DOUBLE PRECISION NOT NULL DEFAULT 0;
)sql";

// Migration 7: the model registry (trib ml train). Artefacts live in the lake under
// `artefacts`; this row is what makes them a model.
constexpr const char* kModelRegistrySchema = R"sql(
CREATE TABLE models (
  id               TEXT COLLATE "C" PRIMARY KEY,
  name             TEXT COLLATE "C" NOT NULL,
  kind             TEXT COLLATE "C" NOT NULL,
  feature_set      TEXT COLLATE "C" NOT NULL,
  feature_set_hash TEXT COLLATE "C" NOT NULL,
  label            TEXT COLLATE "C" NOT NULL,
  dataset_hash     TEXT COLLATE "C" NOT NULL,
  config_toml      TEXT COLLATE "C" NOT NULL,
  code_version     TEXT COLLATE "C" NOT NULL,
  artefacts        TEXT COLLATE "C" NOT NULL,
  metrics_json     TEXT COLLATE "C" NOT NULL,
  importance_json  TEXT COLLATE "C" NOT NULL,
  from_day         INTEGER NOT NULL,
  to_day           INTEGER NOT NULL,
  splits           INTEGER NOT NULL,
  created_at_ns    BIGINT NOT NULL
);
CREATE INDEX models_by_name ON models (name, created_at_ns);
)sql";

// Migration 8: the portfolio trading engine (see the SQLite schema's migration 8).
constexpr const char* kTradingSchema = R"sql(
ALTER TABLE ledger_orders ADD COLUMN account TEXT COLLATE "C" NOT NULL DEFAULT 'paper';
ALTER TABLE ledger_orders ADD COLUMN stop_price_micros BIGINT;
ALTER TABLE ledger_orders ADD COLUMN filled_qty_micros BIGINT NOT NULL DEFAULT 0;
UPDATE ledger_orders o SET
  account = coalesce((SELECT min(f.account) FROM ledger_fills f WHERE f.client_order_id = o.client_order_id), 'paper'),
  filled_qty_micros = coalesce((SELECT sum(f.qty_micros) FROM ledger_fills f WHERE f.client_order_id = o.client_order_id), 0);
ALTER TABLE ledger_orders ALTER COLUMN account DROP DEFAULT;
ALTER TABLE ledger_orders DROP CONSTRAINT ledger_orders_status_check;
ALTER TABLE ledger_orders ADD CONSTRAINT ledger_orders_status_check CHECK (status IN
  ('new', 'accepted', 'partially_filled', 'filled', 'denied', 'rejected', 'cancelled', 'expired'));
CREATE INDEX ledger_orders_by_account ON ledger_orders (account, status);

CREATE TABLE trading_state (
  account            TEXT COLLATE "C" PRIMARY KEY,
  state              TEXT COLLATE "C" NOT NULL CHECK (state IN ('ACTIVE', 'REDUCING', 'HALTED')),
  reason             TEXT COLLATE "C" NOT NULL,
  peak_equity_micros BIGINT NOT NULL,
  last_equity_micros BIGINT NOT NULL,
  last_session       TEXT COLLATE "C" NOT NULL,
  updated_at_ns      BIGINT NOT NULL,
  strategy_json      TEXT COLLATE "C" NOT NULL
);

CREATE TABLE risk_denials (
  id              BIGSERIAL PRIMARY KEY,
  account         TEXT COLLATE "C" NOT NULL,
  client_order_id TEXT COLLATE "C" NOT NULL,
  strategy        TEXT COLLATE "C" NOT NULL,
  symbol          TEXT COLLATE "C" NOT NULL,
  side            TEXT COLLATE "C" NOT NULL CHECK (side IN ('buy', 'sell')),
  qty_micros      BIGINT NOT NULL,
  rule            TEXT COLLATE "C" NOT NULL,
  reason          TEXT COLLATE "C" NOT NULL,
  session_date    TEXT COLLATE "C" NOT NULL,
  created_at_ns   BIGINT NOT NULL
);
CREATE INDEX risk_denials_by_account ON risk_denials (account, id);
CREATE TABLE ledger_adjustments (
  action_id       TEXT COLLATE "C" NOT NULL,
  account         TEXT COLLATE "C" NOT NULL,
  symbol          TEXT COLLATE "C" NOT NULL,
  kind            TEXT COLLATE "C" NOT NULL CHECK (kind IN ('split', 'dividend')),
  qty_before      BIGINT NOT NULL,
  qty_after       BIGINT NOT NULL,
  cash_micros     BIGINT NOT NULL,
  ex_date         TEXT COLLATE "C" NOT NULL,
  applied_at_ns   BIGINT NOT NULL,
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

std::span<const Migration> postgres_catalog_migrations() { return kMigrations; }

}  // namespace trib::catalog
