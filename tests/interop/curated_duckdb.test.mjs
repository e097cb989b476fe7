// DuckDB reads our curated lake (hive partitioning) and agrees with figures this test computes
// itself from the vega-datasets S&P 500 CSV.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { duck, SP500, tempDir, trib } from './helpers.mjs';

test('DuckDB reads the curated ^GSPC bars with the source file\'s numbers', async () => {
  // Reference figures straight from the CSV text.
  const lines = fs.readFileSync(SP500, 'utf8').trim().split('\n');
  const header = lines[0].split(',');
  const dateCol = header.indexOf('date'), closeCol = header.indexOf('close');
  const rows = lines.slice(1).map((l) => l.split(','));
  const expected = {
    count: rows.length,
    first: rows[0][dateCol],
    last: rows[rows.length - 1][dateCol],
    sumClose: rows.reduce((s, r) => s + Number(r[closeCol]), 0),
    closeOn20080929: Number(rows.find((r) => r[dateCol] === '2008-09-29')[closeCol]),
  };

  const ws = path.join(tempDir('duck'), 'ws');
  trib(ws, 'init');
  trib(ws, 'ingest', '--vendor', 'csv', '--file', SP500, '--symbol', '^GSPC');

  const glob = path.join(ws, 'lake/curated/bars/**/*.parquet');
  const [got] = await duck(`
    SELECT count(*) AS n, min(session_date)::VARCHAR AS first, max(session_date)::VARCHAR AS last,
           sum(close) AS sum_close, count(DISTINCT ts) AS distinct_ts,
           any_value(symbol) AS symbol, any_value(timeframe) AS timeframe
    FROM read_parquet('${glob}', hive_partitioning = true)
    WHERE symbol = '^GSPC'`);
  assert.equal(Number(got.n), expected.count);
  assert.equal(Number(got.distinct_ts), expected.count);
  assert.equal(got.first, expected.first);
  assert.equal(got.last, expected.last);
  assert.equal(got.timeframe, '1d');
  assert.ok(Math.abs(Number(got.sum_close) - expected.sumClose) < 1e-6 * expected.sumClose,
    `sum of closes ${got.sum_close} vs ${expected.sumClose}`);

  const [day] = await duck(`
    SELECT close, epoch_ns(ts)::VARCHAR AS ts_ns, year
    FROM read_parquet('${glob}', hive_partitioning = true) WHERE session_date = DATE '2008-09-29'`);
  assert.equal(Number(day.close), expected.closeOn20080929);
  // 09:30 New York on 2008-09-29 (daylight time) = 13:30 UTC.
  assert.equal(day.ts_ns, String(Date.UTC(2008, 8, 29, 13, 30) * 1e6));
  assert.equal(String(day.year), '2008');

  // One live file per partition, nothing else in the globbed tree.
  const files = fs.readdirSync(path.join(ws, 'lake/curated/bars/timeframe=1d/symbol=^GSPC'));
  assert.equal(files.length, 21);
  for (const year of files) {
    assert.deepEqual(fs.readdirSync(path.join(ws, 'lake/curated/bars/timeframe=1d/symbol=^GSPC', year)), ['data.parquet']);
  }
});
