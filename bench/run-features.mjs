#!/usr/bin/env node
// Feature-set benchmark: `trib features --set alpha158` (158 formulas) over
//   - the 505 S&P 500 stocks of ../shared/data (all_stocks_5yr, 2013-2018), and
//   - a synthetic universe of 500 symbols x 10 years (seeded random walks on weekdays 2010-2019;
//     NYSE holidays are dropped at ingest, leaving 2,432 sessions each),
// first in one pass, then incrementally after one more session arrives. Prints wall time, peak
// memory (GNU time), rows x features per second and per core. No peer runs Qlib's formulas here
// (Qlib is not installable on this machine); tests/interop/expressions_duckdb.test.mjs is where
// the values are checked.
//
//   node bench/run-features.mjs      (build first: scripts/build)
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TRIB = process.env.TRIB_BIN ?? path.join(ROOT, 'build/apps/trib/trib');
const SHARED = path.resolve(ROOT, '../shared/data');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trib-bench-features-'));
const GNU_TIME = fs.existsSync('/usr/bin/time') ? '/usr/bin/time' : null;

function trib(ws, ...args) {
  return execFileSync(TRIB, ['-w', ws, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
}

// Runs trib under GNU time: wall seconds, peak RSS (MiB), CPU percent, and stdout.
function timed(ws, ...args) {
  const argv = GNU_TIME ? [GNU_TIME, '-f', 'TIME %e %M %P', TRIB, '-w', ws, ...args] : [TRIB, '-w', ws, ...args];
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', maxBuffer: 64 << 20 });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${args.join(' ')}: ${r.stderr}`);
  const m = /TIME ([\d.]+) (\d+) (\d+)%/.exec(r.stderr ?? '');
  return { wall, rss: m ? Number(m[2]) / 1024 : NaN, cpu: m ? Number(m[3]) : NaN, out: r.stdout };
}

// 500 symbols x 2,520 sessions of a seeded walk, as one Kaggle-style CSV (Name column).
function synthetic(file, symbols, sessions, extra = 0) {
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const days = [];
  for (let d = new Date(Date.UTC(2010, 0, 4)); days.length < sessions + extra; d.setUTCDate(d.getUTCDate() + 1)) {
    if (d.getUTCDay() !== 0 && d.getUTCDay() !== 6) days.push(d.toISOString().slice(0, 10));
  }
  const lines = ['date,open,high,low,close,volume,Name'];
  for (let s = 0; s < symbols; s++) {
    seed = 12345 + s * 7919;  // each symbol its own stream: a longer file keeps the same history
    let p = 20 + rand() * 200;
    for (let i = 0; i < sessions + extra; i++) {
      const open = p;
      p *= Math.exp((rand() - 0.5) * 0.04);
      const hi = Math.max(open, p) * (1 + rand() * 0.01), lo = Math.min(open, p) * (1 - rand() * 0.01);
      lines.push(`${days[i]},${open.toFixed(4)},${hi.toFixed(4)},${lo.toFixed(4)},${p.toFixed(4)},${Math.round(1e5 + rand() * 1e7)},S${String(s).padStart(3, '0')}`);
    }
  }
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return days;
}

function report(label, r, rows, features) {
  const cells = rows * features;
  const cores = Number.isFinite(r.cpu) ? r.cpu / 100 : NaN;
  console.log(`${label.padEnd(44)} ${r.wall.toFixed(2).padStart(7)} s  ${r.rss.toFixed(0).padStart(6)} MiB  ` +
    `${(cells / r.wall / 1e6).toFixed(2).padStart(6)} M values/s  ${(cells / r.wall / 1e6 / cores).toFixed(2).padStart(6)} M/s per core used`);
}

console.log(`machine: ${os.cpus().length} cores; trib ${TRIB}`);
console.log(`${'run'.padEnd(44)} ${'wall'.padStart(9)}  ${'peak'.padStart(10)}  ${'throughput'.padStart(19)}`);

const real = path.join(SHARED, 'equities-daily/all_stocks_5yr.csv.zst');
if (fs.existsSync(real)) {
  const ws = path.join(dir, 'real');
  trib(ws, 'init');
  const csv = path.join(dir, 'all_stocks_5yr.csv');
  execFileSync('zstd', ['-q', '-f', '-d', real, '-o', csv]);
  trib(ws, 'ingest', '--vendor', 'csv', '--file', csv, '--quarantine-bad-rows');
  const r = timed(ws, 'features', '--set', 'alpha158', '--json');
  const j = JSON.parse(r.out);
  report(`alpha158, ${j.symbols} stocks x 5 years (${j.rows} rows)`, r, j.rows, j.features);
}

const ws = path.join(dir, 'synthetic');
trib(ws, 'init');
const csv = path.join(dir, 'synthetic.csv');
synthetic(csv, 500, 2520);
trib(ws, 'ingest', '--vendor', 'csv', '--file', csv);
let r = timed(ws, 'features', '--set', 'alpha158', '--json');
let j = JSON.parse(r.out);
report(`alpha158, 500 symbols x 2010-2019 (${j.rows} rows)`, r, j.rows, j.features);
// Three more weekdays for every symbol (2019-09-02 is Labor Day, not a session: two new sessions);
// only they are computed (with their warm-up) and written.
const more = synthetic(csv, 500, 2520, 3);
trib(ws, 'ingest', '--vendor', 'csv', '--file', csv, '--from', more[2520], '--quarantine-bad-rows');
r = timed(ws, 'features', '--set', 'alpha158', '--json');
j = JSON.parse(r.out);
report(`  + 2 sessions, incremental (${j.symbols_incremental} symbols)`, r, j.rows, j.features);
fs.rmSync(dir, { recursive: true, force: true });
