#!/usr/bin/env node
// Ingest benchmark: `trib ingest` of ../shared/data/equities-daily/all_stocks_5yr.csv.zst
// (619,040 rows, 505 symbols, 2,975 symbol-year partitions) into a fresh workspace, side by side
// with DuckDB doing the same job — parse the CSV, write zstd Parquet partitioned by symbol and
// year — with `threads = 1` (and, for reference, its default threads), in the same run,
// interleaved; ours with one thread and with its default (one per core). Ours keeps every
// guarantee: raw copy stored and recorded, data-quality rules and
// quarantine, version objects, the catalog commit, durable (fsynced) before it returns; DuckDB
// does no fsync. Ours runs on the SQLite catalog and, when PostgreSQL binaries are installed, on a
// throwaway PostgreSQL catalog too. Prints best-of-N seconds and ratios (ours / DuckDB 1 thread;
// < 1 = we are faster). Not a test: asserts nothing.
//
//   node bench/run-ingest.mjs [REPEATS]        (build first: scripts/build)
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TRIB = process.env.TRIB_BIN ?? path.join(ROOT, 'build/apps/trib/trib');
const REPEATS = Number(process.argv[2] ?? 3);
const SOURCE = path.join(ROOT, '../shared/data/equities-daily/all_stocks_5yr.csv.zst');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trib-ingest-bench-'));
const csv = path.join(dir, 'all_stocks_5yr.csv');
execFileSync('zstd', ['-d', '-q', '-f', SOURCE, '-o', csv]);

function seconds(f) {
  const t0 = process.hrtime.bigint();
  const out = f();
  return [Number(process.hrtime.bigint() - t0) / 1e9, out];
}

// ext4 scans recently deleted inodes when it allocates new ones, so a run right after another
// run's output was deleted pays for that deletion: outputs are kept until the end, every run is
// followed by a sync and a pause, and the jobs' order rotates from one repeat to the next.
const outputs = [];
function settle() {
  execFileSync('sync');
  execFileSync('sleep', [process.env.TRIB_BENCH_SETTLE_S ?? '3']);
}

function trib(args) {
  return execFileSync(TRIB, args, { encoding: 'utf8' });
}

// One run of ours into a fresh workspace; `toml` (optional) replaces the default trib.toml.
let run = 0;
function ours(toml, threads) {
  const ws = path.join(dir, `ws${run++}`);
  trib(['init', ws]);
  if (toml) fs.writeFileSync(path.join(ws, 'trib.toml'), toml);
  const [s, out] = seconds(() =>
    trib(['-w', ws, 'ingest', '--vendor', 'csv', '--file', csv, '--quarantine-bad-rows',
          '--threads', String(threads ?? 0), '--json']));
  const stats = JSON.parse(out.trim().split('\n').pop());
  outputs.push(ws);
  settle();
  return { seconds: s, partitions: stats.partitions_created, rows: stats.rows_accepted };
}

async function duck(connection) {
  const out = path.join(dir, `duck${run++}`);
  const t0 = process.hrtime.bigint();
  await connection.run(`COPY (
      SELECT date::DATE AS session_date, open, high, low, close, volume::DOUBLE AS volume,
             Name AS symbol, year(date::DATE) AS year
      FROM read_csv('${csv}', header = true)
    ) TO '${out}' (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (symbol, year))`);
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  const files = fs.readdirSync(out, { recursive: true }).filter((f) => f.endsWith('.parquet')).length;
  outputs.push(out);
  settle();
  return { seconds: s, partitions: files };
}

// A throwaway PostgreSQL server for the PostgreSQL catalog's figure, when the binaries exist.
let pg = null;
try {
  const pgDir = path.join(dir, 'pg');
  execFileSync(path.join(ROOT, 'scripts/pg-test-server'), ['start', pgDir], { stdio: 'ignore' });
  const url = execFileSync(path.join(ROOT, 'scripts/pg-test-server'), ['url', pgDir], { encoding: 'utf8' }).trim();
  pg = { dir: pgDir, url };
} catch (e) {
  console.error(`PostgreSQL not available (${e.message.split('\n')[0]}); SQLite figures only`);
}
let schemaCount = 0;
function pgToml() {
  const schema = `bench_${process.pid}_${schemaCount++}`;
  execFileSync('psql', ['-q', '-X', pg.url, '-c', `CREATE SCHEMA ${schema}`]);
  return `[lake]\nkind = "local"\npath = "lake"\n\n[catalog]\nkind = "postgres"\n` +
         `url = "${pg.url}?options=-csearch_path%3D${schema}"\n\n[queue]\nkind = "postgres"\n`;
}

const instance = await DuckDBInstance.create(':memory:');
const one = await instance.connect();
await one.run('SET threads = 1');
const defInstance = await DuckDBInstance.create(':memory:');
const def = await defInstance.connect();
const defaultThreads = (await (await def.runAndReadAll(`SELECT current_setting('threads') AS t`)).getRowObjectsJson())[0].t;

const results = { sqlite1: [], sqlite: [], postgres: [], duck1: [], duckN: [] };
settle();
try {
  const jobs = [
    async () => results.sqlite1.push(ours(undefined, 1)),
    async () => results.duck1.push(await duck(one)),
    async () => results.sqlite.push(ours()),
    async () => { if (pg) results.postgres.push(ours(pgToml())); },
    async () => results.duckN.push(await duck(def)),
  ];
  for (let i = 0; i < REPEATS; ++i) {
    for (let j = 0; j < jobs.length; ++j) await jobs[(i + j) % jobs.length]();
  }
} finally {
  if (pg) execFileSync(path.join(ROOT, 'scripts/pg-test-server'), ['stop', pg.dir], { stdio: 'ignore' });
}
const best = (runs) => Math.min(...runs.map((r) => r.seconds));
const median = (runs) => {
  const v = runs.map((r) => r.seconds).sort((a, b) => a - b);
  return v[Math.floor(v.length / 2)];
};
const d1 = best(results.duck1);
const rows = [
  ['trib ingest, SQLite catalog, --threads 1', results.sqlite1],
  [`trib ingest, SQLite catalog, default threads (${os.cpus().length})`, results.sqlite],
  [`trib ingest, PostgreSQL catalog, default threads`, results.postgres],
  ['DuckDB COPY ... PARTITION_BY, threads = 1', results.duck1],
  [`DuckDB COPY ... PARTITION_BY, threads = ${defaultThreads} (default)`, results.duckN],
];
console.log(`ingest of all_stocks_5yr.csv (619,040 rows), ${REPEATS} runs each, machine: ${os.cpus().length} cores`);
const m1 = median(results.duck1);
console.log(`${'job'.padEnd(52)} ${'best s'.padStart(7)} ${'ratio'.padStart(6)} ${'median s'.padStart(9)} ${'ratio'.padStart(6)} partitions`);
for (const [name, runs] of rows) {
  if (runs.length === 0) continue;
  const b = best(runs), m = median(runs);
  console.log(`${name.padEnd(52)} ${b.toFixed(2).padStart(7)} ${(b / d1).toFixed(2).padStart(6)} ` +
              `${m.toFixed(2).padStart(9)} ${(m / m1).toFixed(2).padStart(6)} ${runs[0].partitions}`);
}
console.log('ratio: ours / DuckDB threads = 1 (best to best, median to median); < 1 = faster');
console.log(`all runs (s): ${JSON.stringify(Object.fromEntries(Object.entries(results).map(([k, v]) => [k, v.map((r) => +r.seconds.toFixed(2))])))}`);
for (const o of outputs) fs.rmSync(o, { recursive: true, force: true });
fs.rmSync(dir, { recursive: true, force: true });
