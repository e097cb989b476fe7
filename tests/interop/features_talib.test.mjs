// Our feature zone, read by DuckDB, against TA-Lib computed here on the S&P 500 closes taken
// straight from the source CSV: SMA, EMA, RSI to 1e-9 relative, log returns and the
// annualised 20-day volatility against their textbook formulas.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { duck, SP500, tempDir, trib } from './helpers.mjs';

const talib = createRequire(import.meta.url)('talib');

function talibSeries(name, closes, period) {
  const r = talib.execute({ name, startIdx: 0, endIdx: closes.length - 1, inReal: closes, optInTimePeriod: period });
  const out = new Array(closes.length).fill(null);
  r.result.outReal.forEach((v, k) => { out[r.begIndex + k] = v; });
  return out;
}

function close(a, b, where) {
  if (a === null || b === null) {
    assert.equal(a, b, where);
    return;
  }
  assert.ok(Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)), `${where}: ours ${a}, reference ${b}`);
}

test('basic features match TA-Lib and the textbook formulas on the S&P 500', async () => {
  const lines = fs.readFileSync(SP500, 'utf8').trim().split('\n');
  const header = lines[0].split(',');
  const closes = lines.slice(1).map((l) => Number(l.split(',')[header.indexOf('close')]));

  const ws = path.join(tempDir('features'), 'ws');
  trib(ws, 'init');
  trib(ws, 'ingest', '--vendor', 'csv', '--file', SP500, '--symbol', '^GSPC');
  trib(ws, 'features', '--symbol', '^GSPC');
  const rows = await duck(`
    SELECT session_date::VARCHAR AS d, close, sma_20, sma_50, ema_12, ema_26, rsi_14, log_return, volatility_20
    FROM read_parquet('${path.join(ws, 'lake/features/basic/**/*.parquet')}', hive_partitioning = true)
    ORDER BY session_date`);
  assert.equal(rows.length, closes.length);

  const ref = {
    sma_20: talibSeries('SMA', closes, 20),
    sma_50: talibSeries('SMA', closes, 50),
    ema_12: talibSeries('EMA', closes, 12),
    ema_26: talibSeries('EMA', closes, 26),
    rsi_14: talibSeries('RSI', closes, 14),
  };
  const logret = closes.map((c, i) => (i === 0 ? null : Math.log(c / closes[i - 1])));
  const vol = logret.map((_, i) => {
    if (i < 20) return null;  // needs 20 defined returns: indexes 1..20
    const w = logret.slice(i - 19, i + 1);
    const mean = w.reduce((s, x) => s + x, 0) / 20;
    const variance = w.reduce((s, x) => s + (x - mean) ** 2, 0) / 19;
    return Math.sqrt(variance) * Math.sqrt(252);
  });
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i], where = `${r.d}`;
    assert.equal(r.close, closes[i], where);
    for (const name of Object.keys(ref)) close(r[name], ref[name][i], `${where} ${name}`);
    close(r.log_return, logret[i], `${where} log_return`);
    close(r.volatility_20, vol[i], `${where} volatility_20`);
  }
});
