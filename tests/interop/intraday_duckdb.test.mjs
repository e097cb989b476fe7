// Intraday bars and resampling on read, checked against DuckDB over the same rows:
//  - Lean's GOOG minute trade files (2015-12-23, the 12-24 half day, 12-28), ingested with
//    --timeframe 1m; `trib bars --timeframe 5m|1h|1d` equal DuckDB's time_bucket aggregation of
//    our curated Parquet, restricted to regular hours computed by DuckDB itself (New York time
//    with its ICU time zones; 13:00 close on the early closes of Lean's market-hours file);
//  - FXCM's GBPUSD bid minutes (24x5, --calendar fx): 1h and 1d against DuckDB, the session of a
//    bar being the New York date of its time + 7 hours (17:00 New York starts the next day);
//  - AAPL's minutes across the 2014-06-09 7:1 split: daily bars grouped from minutes and
//    split-adjusted read continuously.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { duck, SHARED, tempDir, trib } from './helpers.mjs';

const MINUTE = path.join(SHARED, 'intraday/lean-us-equity-minute/raw');
const FXCM = path.join(SHARED, 'intraday/fxcm');
const CAL = path.join(SHARED, 'calendars/lean_equity_usa_holidays_and_early_closes_1998_2028.csv');

function tribCsv(ws, ...args) {
  return trib(ws, 'bars', ...args, '--format', 'csv').trim().split('\n').slice(1).map((l) => {
    const f = l.split(',');
    return { session_date: f[0], ts: f[1], open: +f[2], high: +f[3], low: +f[4], close: +f[5], volume: +f[6] };
  });
}

// DuckDB's bars: rows of `where`, grouped by session and `bucket` (an SQL expression of ts).
async function duckBars(glob, bucket, where, sessionExpr = 'session_date') {
  const rows = await duck(`
    WITH b AS (
      SELECT *, timezone('America/New_York', ts::TIMESTAMPTZ) AS local FROM read_parquet('${glob}'))
    SELECT strftime(${sessionExpr}, '%Y-%m-%d') AS session_date, strftime(${bucket}, '%Y-%m-%dT%H:%M:%SZ') AS bucket,
           first(open ORDER BY ts) AS open, max(high) AS high, min(low) AS low,
           last(close ORDER BY ts) AS close, sum(volume) AS volume, count(*) AS n
    FROM b WHERE ${where}
    GROUP BY ALL ORDER BY 1, 2`);
  return rows.map((r) => ({ ...r, open: +r.open, high: +r.high, low: +r.low, close: +r.close, volume: +r.volume }));
}

function assertSameBars(ours, theirs, what, compareTs = true) {
  assert.equal(ours.length, theirs.length, `${what}: ${ours.length} bars vs DuckDB's ${theirs.length}`);
  for (let i = 0; i < ours.length; ++i) {
    const a = ours[i], b = theirs[i];
    assert.equal(a.session_date, b.session_date, `${what} #${i}`);
    if (compareTs) assert.equal(a.ts.replace(/\.0+Z$/, 'Z'), b.bucket, `${what} #${i} ts`);
    for (const k of ['open', 'high', 'low', 'close', 'volume']) {
      assert.ok(Math.abs(a[k] - b[k]) <= 1e-9 * Math.max(1, Math.abs(b[k])), `${what} ${a.ts} ${k}: ${a[k]} vs ${b[k]}`);
    }
  }
}

test('NYSE minutes grouped into 5m, 1h and 1d bars equal DuckDB time_bucket over our lake; the half day closes at 13:00', async (t) => {
  if (!fs.existsSync(MINUTE)) return t.skip('no ../shared/data');
  const ws = path.join(tempDir('intraday'), 'ws');
  trib(ws, 'init');
  trib(ws, 'ingest', '--vendor', 'csv', '--file', path.join(MINUTE, 'goog', '*_trade.csv'), '--timeframe', '1m');
  const early = fs.readFileSync(CAL, 'utf8').split('\n').filter((l) => l.includes('early_close')).map((l) => `'${l.slice(0, 10)}'`);
  const regular = `strftime(local, '%H:%M') >= '09:30' AND strftime(local, '%H:%M') <
      CASE WHEN strftime(session_date, '%Y-%m-%d') IN (${early.join(',')}) THEN '13:00' ELSE '16:00' END`;
  const glob = `${ws}/lake/curated/bars/timeframe=1m/symbol=GOOG/*/*.parquet`;

  const minutes = tribCsv(ws, 'GOOG', '--timeframe', '1m');
  const stored = await duck(`SELECT count(*) AS n FROM read_parquet('${glob}')`);
  assert.equal(minutes.length, Number(stored[0].n), 'as stored: every minute, extended hours included');
  assert.equal(minutes.length, 1091, "Lean's 1,091 GOOG trade bars");

  assertSameBars(tribCsv(ws, 'GOOG', '--timeframe', '5m'), await duckBars(glob, "time_bucket(INTERVAL '5 minutes', ts)", regular), '5m');
  assertSameBars(tribCsv(ws, 'GOOG', '--timeframe', '1h'), await duckBars(glob, "time_bucket(INTERVAL '1 hour', ts)", regular), '1h');
  const all = await duckBars(glob, "time_bucket(INTERVAL '15 minutes', ts)", 'true');
  assertSameBars(tribCsv(ws, 'GOOG', '--timeframe', '15m', '--session', 'all'), all, '15m all hours');
  const daily = tribCsv(ws, 'GOOG', '--timeframe', '1d');
  assertSameBars(daily, await duckBars(glob, 'session_date', regular), '1d', false);
  assert.deepEqual(daily.map((d) => d.session_date), ['2015-12-23', '2015-12-24', '2015-12-28']);
  // The half day: its regular session ends at 13:00 New York (18:00 UTC); later prints are after hours.
  const halfDay = minutes.filter((m) => m.session_date === '2015-12-24');
  assert.ok(halfDay.some((m) => m.ts >= '2015-12-24T18:00:00Z'), 'GOOG printed after the 13:00 close');
  const lastRegular = halfDay.filter((m) => m.ts >= '2015-12-24T14:30:00Z' && m.ts < '2015-12-24T18:00:00Z').at(-1);
  assert.equal(daily[1].close, lastRegular.close);
  assert.equal(daily[1].ts, '2015-12-24T14:30:00Z');
});

test('FX minutes on the 24x5 calendar: 1h and 1d bars equal DuckDB, sessions from 17:00 New York', async (t) => {
  if (!fs.existsSync(FXCM)) return t.skip('no ../shared/data');
  const ws = path.join(tempDir('fx'), 'ws');
  trib(ws, 'init');
  trib(ws, 'ingest', '--vendor', 'csv', '--file', path.join(FXCM, 'gbpusd-m1-bid-2012.csv'), '--timeframe', '1m', '--calendar', 'fx');
  const glob = `${ws}/lake/curated/bars/timeframe=1m/symbol=GBPUSD.BID/*/*.parquet`;
  // Our session dates, checked independently: the New York date of ts + 7 hours.
  const wrong = await duck(`SELECT count(*) AS n FROM read_parquet('${glob}')
    WHERE session_date <> CAST(timezone('America/New_York', ts::TIMESTAMPTZ) + INTERVAL 7 HOUR AS DATE)`);
  assert.equal(Number(wrong[0].n), 0);
  const count = await duck(`SELECT count(*) AS n FROM read_parquet('${glob}')`);
  assert.equal(Number(count[0].n), 30117, "FXCM's 30,117 GBPUSD bid minutes");
  assertSameBars(tribCsv(ws, 'GBPUSD.BID', '--timeframe', '1h'), await duckBars(glob, "time_bucket(INTERVAL '1 hour', ts)", 'true'), 'fx 1h');
  const daily = tribCsv(ws, 'GBPUSD.BID', '--timeframe', '1d');
  assertSameBars(daily, await duckBars(glob, 'session_date', 'true'), 'fx 1d', false);
  // February 2012 has 21 weekdays; the file's last bar (2012-03-01 00:00 UTC) opens March 1's session.
  assert.equal(daily.length, 22);
  assert.ok(daily.every((d) => ![0, 6].includes(new Date(`${d.session_date}T12:00:00Z`).getUTCDay())), 'no weekend sessions');
  assert.equal(daily[0].ts, '2012-01-31T22:00:00Z', "February 1's session opens at 17:00 New York on January 31");
});

test("AAPL minutes across the 7:1 split: daily bars from minutes, split-adjusted, are continuous", async (t) => {
  if (!fs.existsSync(MINUTE)) return t.skip('no ../shared/data');
  const ws = path.join(tempDir('split'), 'ws');
  trib(ws, 'init');
  trib(ws, 'ingest', '--vendor', 'csv', '--file', path.join(MINUTE, 'aapl', '*_trade.csv'), '--timeframe', '1m');
  trib(ws, 'actions', 'import', path.join(SHARED, 'equities-daily/lean-us-equity-daily/factor_files/aapl.csv'));
  const raw = tribCsv(ws, 'AAPL', '--timeframe', '1d');
  const split = tribCsv(ws, 'AAPL', '--timeframe', '1d', '--adjust', 'split');
  assert.deepEqual(raw.map((d) => d.session_date), ['2014-06-05', '2014-06-06', '2014-06-09']);
  assert.ok(raw[2].close / raw[1].close - 1 < -0.8, 'raw: the split is an 86% fall');
  assert.ok(Math.abs(split[2].close / split[1].close - 1) < 0.03, `split-adjusted: ${split[1].close} -> ${split[2].close}`);
  // Hand-computed, in today's shares (the 2020 4:1 split applies too): 645.57 / 28 and 93.70 / 4.
  assert.ok(Math.abs(split[1].close - raw[1].close / 28) < 1e-6 * raw[1].close, `${split[1].close}`);
  assert.ok(Math.abs(split[2].close - raw[2].close / 4) < 1e-6 * raw[2].close, `${split[2].close}`);
});
