// Shared helpers for the Node interop tests: run the trib binary, open DuckDB, read reference data.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const TRIB = process.env.TRIB_BIN ?? path.join(ROOT, 'build/apps/trib/trib');
export const SHARED = path.resolve(ROOT, '../shared/data');
export const SP500 = path.join(ROOT, 'node_modules/vega-datasets/data/sp500-2000.csv');

export function tempDir(prefix) {
  return fs.mkdtempSync(path.join(os.tmpdir(), `trib-${prefix}-`));
}

// Runs trib synchronously; returns stdout. Throws with stderr on a non-zero exit.
export function trib(ws, ...args) {
  return execFileSync(TRIB, ['-w', ws, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export function tribJson(ws, ...args) {
  const out = trib(ws, ...args, '--json').trim().split('\n');
  return JSON.parse(out[out.length - 1]);
}

export function spawnTrib(ws, ...args) {
  return spawn(TRIB, ['-w', ws, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
}

// A header-first CSV without quoting (what `trib bars|indicator|eval --format csv` print) as objects
// of strings; an empty cell is ''.
export function parseCsv(text) {
  const lines = text.trim().split('\n');
  const header = lines[0].split(',');
  return lines.slice(1).map((l) => {
    const f = l.split(',');
    return Object.fromEntries(header.map((h, i) => [h, f[i]]));
  });
}

// Rows of a DuckDB query as plain objects (dates and BIGINTs as strings).
export async function duck(sql) {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(sql);
    return reader.getRowObjectsJson();
  } finally {
    connection.closeSync?.();
  }
}

// NYSE sessions per year from exchange_calendars' answer file (independent of our calendar).
export function nyseSessionsByYear() {
  const text = fs.readFileSync(path.join(SHARED, 'calendars/xnys_sessions_1990_2023_exchange_calendars.csv'), 'utf8');
  const counts = new Map();
  for (const line of text.split('\n').slice(1)) {
    if (!line) continue;
    const year = line.slice(0, 4);
    counts.set(year, (counts.get(year) ?? 0) + 1);
  }
  return counts;
}

export function walk(dir) {
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...walk(p));
    else out.push(p);
  }
  return out;
}

// A workspace with the Kaggle S&P 500 file's `symbols` (all 505 when empty) ingested, an SMA
// backtest of them saved and three paper-trading sessions in the ledger. Returns the paths and
// the backtest's run id.
export function tradingWorkspace(dir, symbols = []) {
  const text = execFileSync('zstd', ['-q', '-d', '-c', path.join(SHARED, 'equities-daily/all_stocks_5yr.csv.zst')],
    { maxBuffer: 1 << 28 }).toString();
  const lines = text.split('\n').filter((l) => l);
  const keep = symbols.length ? [lines[0], ...lines.slice(1).filter((l) => symbols.includes(l.split(',')[6]))] : lines;
  const csv = path.join(dir, 'stocks.csv');
  fs.writeFileSync(csv, keep.join('\n') + '\n');
  const ws = path.join(dir, 'ws');
  execFileSync(TRIB, ['init', ws]);
  // The whole file has a few incomplete rows: quarantined with their reasons (the dq pages show them).
  trib(ws, 'ingest', '--vendor', 'csv', '--file', csv, '--quarantine-bad-rows');
  const universe = (symbols.length ? symbols : ['AAPL', 'MSFT', 'XOM', 'KO', 'JPM']).join(',');
  const runId = tribJson(ws, 'backtest', '--universe', universe, '--fast', '10', '--slow', '30').run_id;
  for (const session of ['2016-03-01', '2016-03-02', '2016-03-03']) {
    trib(ws, 'trade', '--universe', universe, '--fast', '10', '--slow', '30', '--session', session);
  }
  return { ws, csv, runId };
}

// Starts `trib serve` on a free port (env added to ours); resolves to { server, base } once it
// listens. server.stderrText collects its log.
export async function startServe(ws, dir, env = {}) {
  const portFile = path.join(dir, `port-${process.pid}-${Date.now()}`);
  const server = spawn(TRIB, ['-w', ws, '--log-level', 'info', 'serve', '--port', '0', '--port-file', portFile], {
    env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  server.stderrText = '';
  server.stderr.on('data', (d) => { server.stderrText += d; });
  for (let i = 0; i < 400 && !fs.existsSync(portFile); i++) await new Promise((r) => setTimeout(r, 25));
  if (!fs.existsSync(portFile)) throw new Error(`trib serve did not start: ${server.stderrText}`);
  return { server, base: `http://127.0.0.1:${fs.readFileSync(portFile, 'utf8').trim()}` };
}
