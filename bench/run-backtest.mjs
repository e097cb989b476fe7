#!/usr/bin/env node
// Backtest benchmark. The issue's goal: 500 symbols x 20 years of daily bars in under half a
// second of engine time.
//  1. The 505 S&P 500 stocks of ../shared/data (all_stocks_5yr, 2013-2018, ~619k bars): SMA(50/200)
//     cross equal-weighted, `trib backtest --universe all --json` (engine seconds: the event loop,
//     data loading apart; wall and peak RSS of the whole command), next to the peer: the plain
//     JavaScript implementation of the same rules (tests/interop/reference_backtest.mjs, which the
//     interop test holds equal to ours trade for trade), with sliding window sums, on the same
//     curated bars read by DuckDB, timed around its loop. Prints the ratio and whether both ended
//     on the same equity.
//  2. Scaling on synthetic markets (bench/backtest_bench): symbols x years, engine seconds, bar
//     events per second (one core: the engine is single-threaded), peak RSS.
//
//   node bench/run-backtest.mjs      (build first: scripts/build)
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { duck } from '../tests/interop/helpers.mjs';
import { referenceBacktest } from '../tests/interop/reference_backtest.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TRIB = process.env.TRIB_BIN ?? path.join(ROOT, 'build/apps/trib/trib');
const BENCH = path.join(ROOT, 'build/bench/backtest_bench');
const SHARED = path.resolve(ROOT, '../shared/data');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trib-bench-backtest-'));

function timed(argv) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', 'TIME %e %M', ...argv], { encoding: 'utf8', maxBuffer: 256 << 20 });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
  const m = /TIME ([\d.]+) (\d+)/.exec(r.stderr ?? '');
  return { wall, rss: m ? Number(m[2]) / 1024 : NaN, out: r.stdout };
}

const ws = path.join(dir, 'ws');
execFileSync(TRIB, ['init', ws]);
const csv = path.join(dir, 'all_stocks_5yr.csv');
execFileSync('zstd', ['-q', '-f', '-d', path.join(SHARED, 'equities-daily/all_stocks_5yr.csv.zst'), '-o', csv]);
execFileSync(TRIB, ['-w', ws, 'ingest', '--vendor', 'csv', '--file', csv, '--quarantine-bad-rows']);

console.log('1. S&P 500 stocks 2013-2018, SMA(50/200) cross equal-weighted');
let best = null;
for (let k = 0; k < 3; k++) {
  const run = timed([TRIB, '-w', ws, 'backtest', '--universe', 'all', '--fast', '50', '--slow', '200', '--no-save', '--json']);
  const out = JSON.parse(run.out.trim());
  if (!best || out.engine_seconds < best.out.engine_seconds) best = { ...run, out };
}
const ours = best.out;
const rows = await duck(`SELECT symbol, strftime(session_date, '%Y-%m-%d') AS day, open, high, low, close, volume
  FROM read_parquet('${ws}/lake/curated/bars/**/*.parquet', hive_partitioning = true) ORDER BY symbol, session_date`);
const bySymbol = new Map();
for (const r of rows) {
  if (!bySymbol.has(r.symbol)) bySymbol.set(r.symbol, []);
  bySymbol.get(r.symbol).push({ day: r.day, open: r.open, high: r.high, low: r.low, close: r.close, volume: Number(r.volume) });
}
const bars = [...bySymbol.keys()].sort().map((symbol) => ({ symbol, rows: bySymbol.get(symbol) }));
const t0 = process.hrtime.bigint();
const peer = referenceBacktest(bars, { fast: 50, slow: 200, incremental: true });
const peerSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
const peerFinal = peer.curve.at(-1).equity;
console.log(`   trib backtest  engine ${ours.engine_seconds.toFixed(3)} s for ${ours.bar_events} bar events ` +
            `(${(ours.bar_events / ours.engine_seconds / 1e6).toFixed(1)} M/s); whole command ${best.wall.toFixed(2)} s, ` +
            `peak RSS ${best.rss.toFixed(0)} MiB; ${ours.trades} trades, final equity ${ours.final_equity.toFixed(2)}`);
console.log(`   JS reference   loop   ${peerSeconds.toFixed(3)} s; ${peer.trades.length} trades, final equity ${peerFinal.toFixed(2)}`);
console.log(`   ratio JS/trib  ${(peerSeconds / ours.engine_seconds).toFixed(1)}x; same final equity: ` +
            `${Math.abs(peerFinal - ours.final_equity) < 0.01 ? 'yes' : `no (${(peerFinal - ours.final_equity).toFixed(2)})`}`);

console.log('\n2. Synthetic markets, SMA(50/200) cross equal-weighted (bench/backtest_bench)');
console.log('   symbols  years  bar events  engine s  M events/s  trades  peak RSS MiB');
for (const [symbols, years] of [[100, 20], [500, 5], [500, 10], [500, 20], [1000, 20], [5000, 5], [5000, 20]]) {
  const r = JSON.parse(execFileSync(BENCH, [String(symbols), String(years)], { encoding: 'utf8' }).trim());
  console.log(`   ${String(symbols).padStart(7)}  ${String(years).padStart(5)}  ${String(r.bar_events).padStart(10)}  ` +
              `${r.engine_seconds.toFixed(3).padStart(8)}  ${(r.events_per_second / 1e6).toFixed(1).padStart(10)}  ` +
              `${String(r.trades).padStart(6)}  ${r.peak_rss_mib.toFixed(0).padStart(12)}`);
}
fs.rmSync(dir, { recursive: true, force: true });
