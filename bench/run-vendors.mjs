#!/usr/bin/env node
// Vendors: the daily updater and backfills against the mock vendor server (tests/mock_vendor,
// Alpaca's protocol), in one run on this machine (a benchmark, not a test: asserts nothing).
//  1. daily update: SYMBOLS instruments in the universe, one session each to fetch, with the mock
//     enforcing Alpaca's published budget (200 requests/minute, burst 10) and our budget set the
//     same: wall time next to the budget's theoretical minimum, (SYMBOLS - burst) x 60 s / 200,
//     i.e. what we add on top of waiting for the budget;
//  2. backfill: SYMBOLS x 10 years of daily bars (one request per symbol, ~2,515 bars each) with
//     no rate limit, drained by 1, 2 and 4 worker threads: tasks/s and rows/s (fetch -> raw ->
//     ETL -> commit), each into a fresh workspace.
//
//   node bench/run-vendors.mjs [SYMBOLS]      (build first: scripts/build; default 500)
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BUILD = process.env.TRIB_BUILD_DIR ?? path.join(ROOT, 'build');
const TRIB = process.env.TRIB_BIN ?? path.join(BUILD, 'apps/trib/trib');
const MOCK = path.join(BUILD, 'tests/mock_vendor');
const SYMBOLS = Number(process.argv[2] ?? 500);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trib-vendor-bench-'));
const env = { ...process.env, APCA_API_KEY_ID: 'mock-key-7f3a9c2e51', APCA_API_SECRET_KEY: 'mock-secret-0d4b8e6a',
              TRIB_SHARED_DATA: process.env.TRIB_SHARED_DATA ?? path.join(ROOT, '../shared/data') };

const symbols = [];
for (let a = 0; a < 26 && symbols.length < SYMBOLS; a++)
  for (let b = 0; b < 26 && symbols.length < SYMBOLS; b++)
    for (let c = 0; c < 26 && symbols.length < SYMBOLS; c++)
      symbols.push('Q' + String.fromCharCode(65 + a, 65 + b, 65 + c));

async function startMock(args) {
  const portFile = path.join(dir, `port-${Date.now()}`);
  const child = spawn(MOCK, ['--port-file', portFile, ...args], { stdio: ['ignore', 'pipe', 'inherit'], env });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  for (let i = 0; i < 400 && !fs.existsSync(portFile); i++) await new Promise((r) => setTimeout(r, 25));
  const port = fs.readFileSync(portFile, 'utf8').trim();
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () => new Promise((resolve) => { child.on('exit', () => resolve(JSON.parse(out || '{}'))); child.kill('SIGTERM'); }),
  };
}

function trib(ws, args) {
  return execFileSync(TRIB, ['-w', ws, ...args], { encoding: 'utf8', env, maxBuffer: 1 << 26 });
}

function workspace(name, mockUrl, budget) {
  const ws = path.join(dir, name);
  execFileSync(TRIB, ['init', ws], { env });
  fs.appendFileSync(path.join(ws, 'trib.toml'),
    `\n[vendors.alpaca]\nbase_url = "${mockUrl}/alpaca"\n${budget}\n`);
  return ws;
}

// 1. The daily update under the budget.
{
  const mock = await startMock(['--budget', 'alpaca=200/10']);
  const ws = workspace('update', mock.url, '');
  fs.writeFileSync(path.join(dir, 'universe.csv'), 'symbol\n' + symbols.join('\n') + '\n');
  trib(ws, ['universe', 'add', '--file', path.join(dir, 'universe.csv'), '--vendor', 'alpaca', '--start', '2024-03-28']);
  const t0 = process.hrtime.bigint();
  const out = JSON.parse(trib(ws, ['update', '--as-of', '2024-03-28', '--workers', '4', '--json']).trim().split('\n').pop());
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const stats = await mock.stop();
  const minimum = (SYMBOLS - 10) * 60 / 200;
  console.log(`daily update, ${SYMBOLS} symbols at 200/min (burst 10): ${seconds.toFixed(1)} s; the budget's minimum ` +
              `${minimum.toFixed(1)} s; ours adds ${(seconds - minimum).toFixed(1)} s (x${(seconds / minimum).toFixed(3)}); ` +
              `queued ${out.queued}, requests ${stats.vendors?.alpaca?.requests}, over budget ${stats.over_budget}`);
}

// 2. Backfills without a rate limit.
for (const workers of [1, 2, 4]) {
  const mock = await startMock([]);
  const ws = workspace(`backfill-${workers}`, mock.url, 'requests_per_minute = 0');
  const t0 = process.hrtime.bigint();
  const out = JSON.parse(trib(ws, ['backfill', '--vendor', 'alpaca', '--symbols', symbols.join(','), '--from', '2015-01-01',
                                   '--to', '2024-12-31', '--workers', String(workers), '--json']).trim().split('\n').pop());
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  await mock.stop();
  const rows = JSON.parse(trib(ws, ['status', '--json'])).curated_rows;
  console.log(`backfill ${SYMBOLS} x 10 years, ${workers} worker(s): ${seconds.toFixed(1)} s, ` +
              `${(out.processed / seconds).toFixed(1)} tasks/s, ${Math.round(rows / seconds)} rows/s (${rows} rows)`);
}
fs.rmSync(dir, { recursive: true, force: true });
