#!/usr/bin/env node
// Parquet benchmark: our writer and reader vs DuckDB on the same 10-million-row daily-bars table,
// in the same run, zstd on both sides: ours with 1 thread against DuckDB with `threads = 1`, and
// ours with N threads against DuckDB with its default threads (N = that default unless
// TRIB_PARQUET_THREADS says otherwise). Prints a table of ratios (ours / DuckDB; < 1 = we are
// faster or smaller). Not a test: it asserts nothing and is never run by ctest.
//
//   node bench/run-parquet.mjs [ROWS] [REPEATS]      (build first: scripts/build)
//   TRIB_PARQUET_BENCH=build-pq/bench/parquet_bench node bench/run-parquet.mjs ...   (another build)
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BENCH = process.env.TRIB_PARQUET_BENCH ?? path.join(ROOT, 'build/bench/parquet_bench');
const ROWS = Number(process.argv[2] ?? 10_000_000);
const REPEATS = Number(process.argv[3] ?? 3);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trib-bench-'));

// The same table as parquet_bench.cpp's generator (exact in IEEE double on both sides).
const TABLE_SQL = `
  SELECT (TIMESTAMP_NS '2000-01-01 14:30:00' + to_days((i % 10000)::INTEGER))::TIMESTAMP_NS AS ts,
         (DATE '2000-01-01' + (i % 10000)::INTEGER) AS session_date,
         open, greatest(open, close) + ((i * 7727) % 97)::DOUBLE / 100.0::DOUBLE AS high,
         least(open, close) - ((i * 5501) % 89)::DOUBLE / 100.0::DOUBLE AS low,
         close, ((i * 7727) % 1000000 + 1000)::DOUBLE AS volume,
         'S' || lpad((i // 10000)::VARCHAR, 4, '0') AS symbol
  FROM (
    SELECT i, close, close + ((i * 40503) % 201 - 100)::DOUBLE / 100.0::DOUBLE AS open
    FROM (
      SELECT i, 50.0::DOUBLE + (i // 10000)::DOUBLE / 10.0::DOUBLE
                + (((i % 10000) * 7919 + (i // 10000) * 104729) % 20011)::DOUBLE / 100.0::DOUBLE AS close
      FROM range(0, ${ROWS}) t(i)))`;

function ours(...args) {
  return JSON.parse(execFileSync(BENCH, args, { encoding: 'utf8' }).trim());
}

async function timeSql(connection, sql) {
  const t0 = process.hrtime.bigint();
  await connection.run(sql);
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

function best(runs, key = 'seconds') {
  return runs.reduce((a, b) => (b[key] < a[key] ? b : a));
}

const instance = await DuckDBInstance.create(':memory:');
const db = await instance.connect();
const defaultThreads = (await (await db.runAndReadAll(`SELECT current_setting('threads') AS t`)).getRowObjectsJson())[0].t;
await db.run(`CREATE TABLE bars AS ${TABLE_SQL}`);

const oursFile = path.join(dir, 'ours.parquet');
const duck1File = path.join(dir, 'duckdb-1thread.parquet');
const duckNFile = path.join(dir, 'duckdb-default.parquet');

const THREADS = Number(process.env.TRIB_PARQUET_THREADS ?? defaultThreads);
const oursFileN = path.join(dir, `ours-${THREADS}threads.parquet`);
const results = {};
const runs1 = [], runsN = [];
for (let r = 0; r < REPEATS; r++) {
  runs1.push(ours('write', oursFile, String(ROWS), String(1 << 20), '1'));
  runsN.push(ours('write', oursFileN, String(ROWS), String(1 << 20), String(THREADS)));
}
results.oursWrite = best(runs1);
results.oursWriteN = best(runsN);
// The writer's bytes must not depend on its thread count.
if (!fs.readFileSync(oursFile).equals(fs.readFileSync(oursFileN))) {
  console.error(`our ${THREADS}-thread file differs from our 1-thread file`);
  process.exit(1);
}

const copy = (file) => `COPY bars TO '${file}' (FORMAT parquet, COMPRESSION zstd)`;
await db.run(`SET threads = 1`);
let t1 = Infinity;
for (let r = 0; r < REPEATS; r++) t1 = Math.min(t1, await timeSql(db, copy(duck1File)));
await db.run(`RESET threads`);
let tN = Infinity;
for (let r = 0; r < REPEATS; r++) tN = Math.min(tN, await timeSql(db, copy(duckNFile)));

// Verify the two files hold the same values before comparing speed.
const [same] = await (await db.runAndReadAll(`
  SELECT (SELECT count(*) FROM (SELECT * FROM read_parquet('${oursFile}') EXCEPT SELECT * FROM read_parquet('${duck1File}'))) AS only_ours,
         (SELECT count(*) FROM read_parquet('${oursFile}')) AS n`)).getRowObjectsJson();
if (Number(same.only_ours) !== 0 || Number(same.n) !== ROWS) {
  console.error(`the two files differ (${same.only_ours} rows only in ours, ${same.n} rows): fix the generators first`);
  process.exit(1);
}

const scanAll = (file) => `SELECT max(ts), max(session_date), sum(open), sum(high), sum(low), sum(close), sum(volume), max(symbol) FROM read_parquet('${file}')`;
const scanTwo = (file) => `SELECT max(ts), sum(close) FROM read_parquet('${file}')`;
// Scans are short, so they are repeated more (SCAN_REPEATS, at least 5) and interleaved: each
// round times ours, DuckDB with 1 thread and DuckDB with its default threads back to back, so a
// noisy neighbour slows all three alike instead of one of them.
const SCAN_REPEATS = Math.max(5, REPEATS);
// (threads is a database-wide setting in DuckDB, so it is switched before each query.)
async function duckScan(sql, threads) {
  await db.run(threads === 1 ? 'SET threads = 1' : 'RESET threads');
  return timeSql(db, sql);
}
// Each run of ours is the best of 3 scans in one process, so that ours, like DuckDB answering
// repeated queries in its process, is timed warm rather than on a cold process start.
function oursScan(file, columns, threads) {
  return ours('scan', file, columns ?? '*', '3', String(threads));
}
const minBy = (a, b) => (!a || b.seconds < a.seconds ? b : a);
const scans = [];
for (const [label, file] of [['our file', oursFile], ["DuckDB's file", duck1File]]) {
  const s = { label, full: null, fullN: null, two: null, twoN: null,
              duckFull1: Infinity, duckFullN: Infinity, duckTwo1: Infinity, duckTwoN: Infinity };
  for (let r = 0; r < SCAN_REPEATS; r++) {
    s.full = minBy(s.full, oursScan(file, '*', 1));
    s.duckFull1 = Math.min(s.duckFull1, await duckScan(scanAll(file), 1));
    s.fullN = minBy(s.fullN, oursScan(file, '*', THREADS));
    s.duckFullN = Math.min(s.duckFullN, await duckScan(scanAll(file), 0));
    s.two = minBy(s.two, oursScan(file, 'ts,close', 1));
    s.duckTwo1 = Math.min(s.duckTwo1, await duckScan(scanTwo(file), 1));
    s.twoN = minBy(s.twoN, oursScan(file, 'ts,close', THREADS));
    s.duckTwoN = Math.min(s.duckTwoN, await duckScan(scanTwo(file), 0));
  }
  if (s.full.checksum !== s.fullN.checksum || s.two.checksum !== s.twoN.checksum) {
    console.error(`our ${THREADS}-thread scan of ${label} read other values than our 1-thread scan`);
    process.exit(1);
  }
  scans.push(s);
}

const size = (f) => fs.statSync(f).size;
const fmt = (x) => x.toFixed(3);
const ratio = (a, b) => (a / b).toFixed(2);
const lines = [];
lines.push(`Parquet benchmark: ${ROWS.toLocaleString('en-US')} rows, zstd, best of ${REPEATS} (writes) and ${SCAN_REPEATS} (scans); DuckDB ${(await (await db.runAndReadAll('SELECT version() AS v')).getRowObjectsJson())[0].v}, default threads = ${defaultThreads}, ${os.cpus().length} CPUs`);
lines.push('');
lines.push(`| measure | ours 1 thread | DuckDB 1 thread | ratio | ours ${THREADS} threads | DuckDB default threads (${defaultThreads}) | ratio |`);
lines.push('|---|---|---|---|---|---|---|');
const row = (what, o1, d1, oN, dN, f = fmt) => lines.push(`| ${what} | ${f(o1)} | ${f(d1)} | ${ratio(o1, d1)} | ${f(oN)} | ${f(dN)} | ${ratio(oN, dN)} |`);
row('write (s)', results.oursWrite.seconds, t1, results.oursWriteN.seconds, tN);
for (const s of scans) {
  row(`full scan of ${s.label} (s)`, s.full.seconds, s.duckFull1, s.fullN.seconds, s.duckFullN);
  row(`2-column scan of ${s.label} (s)`, s.two.seconds, s.duckTwo1, s.twoN.seconds, s.duckTwoN);
}
const mib = (x) => (x / 1048576).toFixed(1);
row('file size (MiB)', size(oursFile), size(duck1File), size(oursFileN), size(duckNFile), mib);
lines.push('');
lines.push(`Peak RSS of our process, 1 / ${THREADS} threads: writer ${results.oursWrite.peak_rss_mib.toFixed(0)} / ${results.oursWriteN.peak_rss_mib.toFixed(0)} MiB, ` +
           `full-scan reader ${scans[0].full.peak_rss_mib.toFixed(0)} / ${scans[0].fullN.peak_rss_mib.toFixed(0)} MiB, ` +
           `2-column reader ${scans[0].two.peak_rss_mib.toFixed(0)} / ${scans[0].twoN.peak_rss_mib.toFixed(0)} MiB.`);
console.log(lines.join('\n'));
fs.rmSync(dir, { recursive: true, force: true });
