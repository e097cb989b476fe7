// The expression language against DuckDB: 34 formulas (time-series and cross-sectional)
// evaluated by `trib eval` on ten stocks' adjusted bars, and the same definitions written as
// DuckDB window functions over the same bars (`trib bars --adjust total`), equal to 1e-9
// (absolute below 1, relative above), nulls where DuckDB has nulls. A full window is required
// (count(x) over the window = n), as our language defines it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { duck, parseCsv, SHARED, tempDir, TRIB, trib } from './helpers.mjs';

const FIVE_YEARS = path.join(SHARED, 'equities-daily/all_stocks_5yr.csv.zst');
const SYMBOLS = ['AAPL', 'MSFT', 'JPM', 'XOM', 'JNJ', 'AMZN', 'KO', 'GE', 'F', 'APTV'];  // APTV: 44 sessions only

// w(n): the symbol's last n rows; full(x, n, agg): agg over them when all n are defined.
const w = (n) => `OVER (PARTITION BY symbol ORDER BY session_date ROWS BETWEEN ${n - 1} PRECEDING AND CURRENT ROW)`;
const full = (x, n, agg) => `CASE WHEN count(${x}) ${w(n)} = ${n} THEN ${agg} ${w(n)} END`;
const lag = (x, n) => `lag(${x}, ${n}) OVER (PARTITION BY symbol ORDER BY session_date)`;
// Over the window's values as a list (columns l_close, l_high, l_low: the last 10 rows).
const listed = (x, f) => `CASE WHEN count(${x}) ${w(10)} = 10 THEN ${f} END`;
// Sample skewness and excess kurtosis, bias-corrected (pandas' and DuckDB's definitions), from
// two-pass central moments of the window's list: DuckDB's own skewness() and kurtosis() use power
// sums that lose 1e-8 on prices (AAPL's 20 closes to 2013-11-18: exact -0.02637085225748,
// skewness() -0.02637085333).
const moment = (l, k) => `list_avg(list_transform(${l}, v -> pow(v - list_avg(${l}), ${k})))`;
const skew = (l) => `(${moment(l, 3)} / pow(${moment(l, 2)}, 1.5)) * sqrt(len(${l}) * (len(${l}) - 1.0)) / (len(${l}) - 2.0)`;
const kurt = (l) => `((len(${l}) + 1.0) * (${moment(l, 4)} / pow(${moment(l, 2)}, 2) - 3) + 6) * (len(${l}) - 1.0) / ((len(${l}) - 2.0) * (len(${l}) - 3.0))`;
// Cross-sections: per date over the symbols with a value.
const day = 'OVER (PARTITION BY session_date)';

// name: [our formula, DuckDB expression over table t (which has columns r1 = the 1-day return,
// lr = the log volume change, and the prices)].
const CASES = {
  mean_ratio: ['Mean($close, 5) / $close', `${full('close', 5, 'avg(close)')} / close`],
  sum_volume: ['Sum($volume, 10)', full('volume', 10, 'sum(volume)')],
  std_close: ['Std($close, 20)', full('close', 20, 'stddev_samp(close)')],
  var_return: ['Var($close / Ref($close, 1) - 1, 20)', full('r1', 20, 'var_samp(r1)')],
  skew_close: ['Skew($close, 20)', `CASE WHEN count(close) ${w(20)} = 20 THEN ${skew('l_close20')} END`],
  kurt_return: ['Kurt($close / Ref($close, 1) - 1, 30)', `CASE WHEN count(r1) ${w(30)} = 30 THEN ${kurt('l_r30')} END`],
  max_high: ['Max($high, 10)', full('high', 10, 'max(high)')],
  min_low: ['Min($low, 10)', full('low', 10, 'min(low)')],
  delta: ['Delta($close, 5)', `close - ${lag('close', 5)}`],
  ref: ['Ref($close, 3)', lag('close', 3)],
  median: ['Med($close, 9)', full('close', 9, 'median(close)')],
  quantile: ['Quantile($close, 10, 0.8)', full('close', 10, 'quantile_cont(close, 0.8)')],
  corr: ['Corr($close, $volume, 20)', full('close', 20, 'corr(close, volume)')],
  cov: ['Cov($close, $volume, 20)', full('close', 20, 'covar_samp(close, volume)')],
  slope: ['Slope($close, 10)', full('close', 10, 'regr_slope(close, rn)')],
  rsquare: ['Rsquare($close, 10)', full('close', 10, 'regr_r2(close, rn)')],
  resi: ['Resi($close, 10)', `close - (${full('close', 10, 'regr_intercept(close, rn)')} + ${full('close', 10, 'regr_slope(close, rn)')} * rn)`],
  mad: ['Mad($close, 10)', listed('close', 'list_avg(list_transform(l_close, v -> abs(v - m_close)))')],
  rank: ['Rank($close, 10)', listed('close', '(2 * len(list_filter(l_close, v -> v < close)) + len(list_filter(l_close, v -> v = close)) + 1) / 20.0')],
  idxmax: ['IdxMax($high, 10)', listed('high', 'list_position(l_high, list_max(l_high))')],
  idxmin: ['IdxMin($low, 10)', listed('low', 'list_position(l_low, list_min(l_low))')],
  body: ['Abs($close - $open) / $open', 'abs(close - open) / open'],
  log_volume: ['Log($volume + 1)', 'ln(volume + 1)'],
  sign: ['Sign($close - Ref($close, 1))', `sign(close - ${lag('close', 1)})`],
  greater_less: ['Greater($open, $close) - Less($open, $close)', 'greatest(open, close) - least(open, close)'],
  if_up: ['If($close > $open, $high, $low)', 'CASE WHEN close > open THEN high ELSE low END'],
  power: ['Power($close / Ref($close, 1), 2)', `pow(close / ${lag('close', 1)}, 2)`],
  up_days: ['Mean($close > Ref($close, 1), 10)', full('up', 10, 'avg(up)')],
  cord: ['Corr($close / Ref($close, 1), Log($volume / Ref($volume, 1) + 1), 10)', full('lr', 10, 'corr(c1, lr)')],
  cs_rank: ['CSRank($close / Ref($close, 20) - 1)', `CASE WHEN r20 IS NOT NULL THEN (rank() OVER (PARTITION BY session_date ORDER BY r20) + (count(*) OVER (PARTITION BY session_date, r20) - 1) / 2.0) / count(r20) ${day} END`],
  cs_zscore: ['CSZScore(Mean($volume, 5))', `(v5 - avg(v5) ${day}) / stddev_samp(v5) ${day}`],
  cs_demean: ['CSDemean($close / $open - 1)', `(close / open - 1) - avg(close / open - 1) ${day}`],
  cs_neutralize: ['CSNeutralize($close / Ref($close, 1) - 1, $close > 100)', 'r1 - avg(r1) OVER (PARTITION BY session_date, close > 100)'],
  ts_of_cs: ['Mean(CSDemean($close / $open - 1), 5)', full('dm', 5, 'avg(dm)')],
};

test('34 formulas equal DuckDB window functions on the same adjusted bars', { skip: !fs.existsSync(FIVE_YEARS) }, async () => {
  const dir = tempDir('expressions');
  const ws = path.join(dir, 'ws');
  trib(ws, 'init');
  const lines = execFileSync('zstd', ['-q', '-dc', FIVE_YEARS], { encoding: 'utf8', maxBuffer: 64 << 20 }).split('\n');
  const wanted = new Set(SYMBOLS);
  const file = path.join(dir, 'stocks.csv');
  fs.writeFileSync(file, lines.filter((l, i) => i === 0 || wanted.has(l.slice(l.lastIndexOf(',') + 1))).join('\n') + '\n');
  trib(ws, 'ingest', '--vendor', 'csv', '--file', file);

  // The bars DuckDB reads: exactly the prices our evaluation reads.
  const barsCsv = path.join(dir, 'bars.csv');
  let all = 'symbol,session_date,open,high,low,close,volume\n';
  for (const s of SYMBOLS) {
    for (const b of parseCsv(trib(ws, 'bars', s, '--adjust', 'total', '--format', 'csv'))) {
      all += `${s},${b.session_date},${b.open},${b.high},${b.low},${b.close},${b.volume}\n`;
    }
  }
  fs.writeFileSync(barsCsv, all);

  const names = Object.keys(CASES);
  const ours = parseCsv(execFileSync(TRIB, ['-w', ws, 'eval', ...names.map((n) => `${n}=${CASES[n][0]}`),
    ...SYMBOLS.flatMap((s) => ['--symbol', s]), '--adjust', 'total'], { encoding: 'utf8', maxBuffer: 256 << 20 }));
  const key = (r) => `${r.symbol} ${r.session_date}`;
  const byKey = new Map(ours.map((r) => [key(r), r]));

  const sql = `
    WITH b AS (
      SELECT symbol, session_date::VARCHAR AS session_date, open::DOUBLE AS open, high::DOUBLE AS high, low::DOUBLE AS low,
             close::DOUBLE AS close, volume::DOUBLE AS volume,
             row_number() OVER (PARTITION BY symbol ORDER BY session_date)::DOUBLE AS rn
      FROM read_csv('${barsCsv}', header = true, all_varchar = true)),
    t0 AS (
      SELECT *, close / ${lag('close', 1)} - 1 AS r1, close / ${lag('close', 1)} AS c1, close / ${lag('close', 20)} - 1 AS r20,
             list(close) ${w(10)} AS l_close, list(high) ${w(10)} AS l_high, list(low) ${w(10)} AS l_low,
             avg(close) ${w(10)} AS m_close,
             ln(volume / ${lag('volume', 1)} + 1) AS lr,
             CASE WHEN ${lag('close', 1)} IS NULL THEN NULL WHEN close > ${lag('close', 1)} THEN 1.0 ELSE 0.0 END AS up
      FROM b),
    t AS (
      SELECT *, ${full('volume', 5, 'avg(volume)')} AS v5, list(close) ${w(20)} AS l_close20, list(r1) ${w(30)} AS l_r30, (close / open - 1) - avg(close / open - 1) ${day} AS dm FROM t0)
    SELECT symbol, session_date, ${names.map((n) => `(${CASES[n][1]})::DOUBLE AS ${n}`).join(', ')}
    FROM t ORDER BY symbol, session_date`;
  const reference = await duck(sql);
  assert.equal(reference.length, ours.length, 'one row per bar on both sides');

  let worst = 0, worstAt = '', compared = 0, nulls = 0;
  for (const ref of reference) {
    const row = byKey.get(key(ref));
    assert.ok(row, `${key(ref)}: not in trib eval's output`);
    for (const n of names) {
      const want = ref[n];
      const got = row[n];
      const where = `${key(ref)} ${n} = ${CASES[n][0]}`;
      if (want === null || Number.isNaN(want)) {
        assert.equal(got, '', `${where}: DuckDB has no value, ours ${got}`);
        ++nulls;
        continue;
      }
      assert.notEqual(got, '', `${where}: ours is null, DuckDB ${want}`);
      const diff = Math.abs(Number(got) - want) / Math.max(1, Math.abs(want));
      if (diff > worst) { worst = diff; worstAt = where; }
      assert.ok(diff <= 1e-9, `${where}: ours ${got}, DuckDB ${want}`);
      ++compared;
    }
  }
  console.log(`compared ${compared} values (${nulls} nulls on both sides) of ${names.length} formulas; worst ${worst.toExponential(2)} (${worstAt})`);
  assert.ok(names.length >= 30);
  for (const n of names) assert.ok(reference.some((r) => r[n] !== null), `${n}: never defined`);
});
