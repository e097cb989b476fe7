// Every case of tests/features/talib_cases.json: `trib indicator` against TA-Lib 1.1.6 (npm talib)
// on the same series (`trib bars --adjust total` of the S&P 500 index and the Lean stocks, so both
// sides read identical inputs): the same first defined index (TA-Lib's lookback) and every value
// within 1e-9 (absolute below 1, relative above: OBV and AD run into the 1e11s).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { parseCsv, SHARED, SP500, tempDir, trib } from './helpers.mjs';

const talib = createRequire(import.meta.url)('talib');
const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const CASES = JSON.parse(fs.readFileSync(path.join(ROOT, 'tests/features/talib_cases.json'), 'utf8')).cases;
const LEAN = path.join(SHARED, 'equities-daily/lean-us-equity-daily/lean_us_equity_daily_raw_unadjusted.csv');

// Our parameter names are TA-Lib's Python ones; its C API calls them optIn...
const OPT = { timeperiod: 'optInTimePeriod', nbdevup: 'optInNbDevUp', nbdevdn: 'optInNbDevDn', nbdev: 'optInNbDev',
  fastperiod: 'optInFastPeriod', slowperiod: 'optInSlowPeriod', signalperiod: 'optInSignalPeriod',
  fastmatype: 'optInFastMAType', slowmatype: 'optInSlowMAType', signalmatype: 'optInSignalMAType', matype: 'optInMAType',
  vfactor: 'optInVFactor', fastk_period: 'optInFastK_Period', slowk_period: 'optInSlowK_Period',
  slowk_matype: 'optInSlowK_MAType', slowd_period: 'optInSlowD_Period', slowd_matype: 'optInSlowD_MAType',
  fastd_period: 'optInFastD_Period', fastd_matype: 'optInFastD_MAType', acceleration: 'optInAcceleration',
  maximum: 'optInMaximum', timeperiod1: 'optInTimePeriod1', timeperiod2: 'optInTimePeriod2', timeperiod3: 'optInTimePeriod3' };
const OUT = { real: 'outReal', upperband: 'outRealUpperBand', middleband: 'outRealMiddleBand', lowerband: 'outRealLowerBand',
  aroondown: 'outAroonDown', aroonup: 'outAroonUp', macd: 'outMACD', macdsignal: 'outMACDSignal', macdhist: 'outMACDHist',
  slowk: 'outSlowK', slowd: 'outSlowD', fastk: 'outFastK', fastd: 'outFastD' };
// Eleven more stocks from the 505-stock file (2013-2018, split-adjusted), so the check covers
// twenty stocks besides the ETFs and the index.
const FIVE_YEARS = path.join(SHARED, 'equities-daily/all_stocks_5yr.csv.zst');
const MORE_STOCKS = ['MSFT', 'JPM', 'XOM', 'JNJ', 'AMZN', 'NVDA', 'KO', 'GE', 'F', 'NFLX', 'CHK'];

function reference(name, series, params) {
  // One-series indicators read the close; two-series ones (CORREL, BETA) read high and low.
  const opts = { name, startIdx: 0, endIdx: series.close.length - 1, inReal: series.close, inReal0: series.high,
    inReal1: series.low, ...series };
  // Every optional input named (the binding aborts on a missing one): TA-Lib's defaults, then the case's.
  for (const o of talib.explain(name).optInputs) opts[o.name] = o.defaultValue;
  for (const [k, v] of Object.entries(params)) opts[OPT[k]] = v;
  const r = talib.execute(opts);
  if (r.error) throw new Error(`${name}: ${r.error}`);
  return r;
}

test('every indicator case equals TA-Lib on the S&P 500, the Lean stocks and eleven more', () => {
  const ws = path.join(tempDir('indicators'), 'ws');
  trib(ws, 'init');
  // Every indicator we list has a case.
  const listed = trib(ws, 'indicator', '--list').trim().split('\n').map((l) => l.split(' ')[0]);
  const covered = new Set(CASES.map((c) => c.indicator));
  assert.deepEqual(listed.filter((n) => !covered.has(n)), [], 'indicators without a case');
  trib(ws, 'ingest', '--vendor', 'csv', '--file', SP500, '--symbol', '^GSPC');
  const symbols = ['^GSPC'];
  if (fs.existsSync(LEAN)) {
    trib(ws, 'ingest', '--vendor', 'csv', '--file', LEAN);
    symbols.push('AAPL', 'AIG', 'BAC', 'BNO', 'EEM', 'FB', 'GOOG', 'GOOGL', 'IBM', 'IWM', 'QQQ', 'SPY', 'USO', 'WM', 'WMI');
  }
  if (fs.existsSync(FIVE_YEARS)) {
    const lines = execFileSync('zstd', ['-q', '-dc', FIVE_YEARS], { encoding: 'utf8', maxBuffer: 64 << 20 }).split('\n');
    const wanted = new Set(MORE_STOCKS);
    const rows = lines.filter((l, i) => i === 0 || wanted.has(l.slice(l.lastIndexOf(',') + 1)));
    const file = path.join(path.dirname(ws), 'more-stocks.csv');
    fs.writeFileSync(file, rows.join('\n') + '\n');
    trib(ws, 'ingest', '--vendor', 'csv', '--file', file);
    symbols.push(...MORE_STOCKS);
  }
  let checked = 0, worst = 0, worstAt = '';
  for (const symbol of symbols) {
    const bars = parseCsv(trib(ws, 'bars', symbol, '--adjust', 'total', '--format', 'csv'));
    const series = {};
    for (const k of ['open', 'high', 'low', 'close', 'volume']) series[k] = bars.map((b) => Number(b[k]));
    for (const c of CASES) {
      const args = ['indicator', c.indicator, symbol, '--adjust', 'total'];
      for (const [k, v] of Object.entries(c.params)) args.push('--param', `${k}=${v}`);
      const ours = parseCsv(trib(ws, ...args));
      assert.equal(ours.length, bars.length, `${symbol} ${c.indicator}: one row per bar`);
      const ref = reference(c.indicator, series, c.params);
      const where = `${symbol} ${c.indicator} ${JSON.stringify(c.params)}`;
      for (const [output, refName] of Object.entries(OUT)) {
        if (!(output in ours[0])) continue;
        const want = ref.result[refName];
        assert.ok(want, `${where}: TA-Lib has no ${refName}`);
        const first = ours.findIndex((r) => r[output] !== '');
        assert.equal(first, ref.begIndex, `${where} ${output}: first defined index`);
        for (let k = 0; k < want.length; k++) {
          const got = Number(ours[ref.begIndex + k][output]);
          const diff = Math.abs(got - want[k]) / Math.max(1, Math.abs(want[k]));
          if (diff > worst) { worst = diff; worstAt = `${where} ${output} ${ours[ref.begIndex + k].session_date}`; }
          assert.ok(diff <= 1e-9, `${where} ${output} ${ours[ref.begIndex + k].session_date}: ours ${got}, TA-Lib ${want[k]}`);
        }
        ++checked;
      }
    }
  }
  console.log(`checked ${checked} series, worst difference ${worst.toExponential(2)} (${worstAt})`);
  assert.ok(checked >= CASES.length);
});
