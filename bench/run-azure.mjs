#!/usr/bin/env node
// The Azure shape against the local shape, in one run on this machine (a benchmark, not a test:
// asserts nothing):
//  1. backfill throughput: the same 200 sim symbols x 2 years (400 fetch tasks, each fetch ->
//     raw -> ETL -> commit) drained by 1, 2 and 4 `trib worker --drain` processes, on the local
//     shape (folder + SQLite catalog + embedded queue) and on the Azure shape (Azure Blob lake and
//     Azure Storage Queue on Azurite, PostgreSQL catalog), each into a fresh workspace;
//  2. range reads: the bytes a 2-column read (ts, close) transfers from the Azure lake through
//     parquet::object_source, next to the file's size, for one curated symbol-year file and for a
//     1 M-row bars file (bench/parquet_bench's table).
// Azurite and PostgreSQL are started and stopped by the script (scripts/azurite-test-server,
// scripts/pg-test-server). Azurite is an emulator ("not a scalable storage service"): the Azure
// figures measure our client's request pattern on one machine, not Azure's latency.
//
//   node bench/run-azure.mjs [SYMBOLS]        (build first: scripts/build; default 200 symbols)
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BlobServiceClient } from '@azure/storage-blob';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BUILD = process.env.TRIB_BUILD_DIR ?? path.join(ROOT, 'build');
const TRIB = process.env.TRIB_BIN ?? path.join(BUILD, 'apps/trib/trib');
const SYMBOLS = Number(process.argv[2] ?? 200);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trib-azure-bench-'));
const azDir = path.join(dir, 'azurite'), pgDir = path.join(dir, 'pg');
const connection = execFileSync(path.join(ROOT, 'scripts/azurite-test-server'), ['start', azDir], { encoding: 'utf8' }).trim();
const pgUrl = execFileSync(path.join(ROOT, 'scripts/pg-test-server'), ['start', pgDir], { encoding: 'utf8' }).trim();
const env = { ...process.env, AZURE_STORAGE_CONNECTION_STRING: connection };
// Stops both servers (by the PIDs their scripts recorded under `dir`), then removes `dir`.
let stopped = false;
function stopServers() {
  if (stopped) return;
  stopped = true;
  try { execFileSync(path.join(ROOT, 'scripts/azurite-test-server'), ['stop', azDir]); } catch {}
  try { execFileSync(path.join(ROOT, 'scripts/pg-test-server'), ['stop', pgDir]); } catch {}
  fs.rmSync(dir, { recursive: true, force: true });
}
process.on('exit', stopServers);

const trib = (ws, ...args) => execFileSync(TRIB, ['-w', ws, ...args], { encoding: 'utf8', env });
let n = 0;

function workspace(shape) {
  const ws = path.join(dir, `${shape}-${++n}`);
  fs.mkdirSync(ws);
  if (shape === 'azure') {
    const schema = `bench_${n}`;
    execFileSync('psql', ['-q', '-X', pgUrl, '-c', `CREATE SCHEMA ${schema}`]);
    fs.writeFileSync(path.join(ws, 'trib.toml'),
      `[lake]\nkind = "azure"\ncontainer = "bench-${n}"\n\n` +
      `[catalog]\nkind = "postgres"\nurl = "${pgUrl}?options=-csearch_path%3D${schema}"\n\n` +
      `[queue]\nkind = "azure"\nname = "bench-${n}"\n`);
  }
  trib(ws, 'init');
  return ws;
}

function drain(ws, workers) {
  const t0 = process.hrtime.bigint();
  return Promise.all(Array.from({ length: workers }, () => new Promise((resolve, reject) => {
    const p = spawn(TRIB, ['-w', ws, 'worker', '--drain', '--json'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop())) : reject(new Error(`worker exit ${code}`))));
  }))).then((stats) => ({ seconds: Number(process.hrtime.bigint() - t0) / 1e9, processed: stats.reduce((a, s) => a + s.processed, 0) }));
}

const results = {};
for (const workers of [1, 2, 4]) {
  for (const shape of ['local', 'azure']) {
    const ws = workspace(shape);
    const planned = JSON.parse(trib(ws, 'backfill', '--vendor', 'sim', '--symbols', String(SYMBOLS), '--from', '2019-01-01',
      '--to', '2020-12-31', '--no-drain', '--json').trim().split('\n').pop());
    const r = await drain(ws, workers);
    results[`${shape}/${workers}`] = { ...r, tasks: planned.queued, ws };
    process.stderr.write(`${shape} ${workers} worker(s): ${r.processed} tasks in ${r.seconds.toFixed(2)} s\n`);
  }
}

// Range reads: one curated symbol-year file, and a 1 M-row file written by parquet_bench.
const azureWs = results['azure/4'].ws;
const toml = fs.readFileSync(path.join(azureWs, 'trib.toml'), 'utf8');
const container = toml.match(/container = "([^"]+)"/)[1];
const curated = JSON.parse(trib(azureWs, 'lake', 'ls', 'curated/', '--json'));
const small = curated[0];
const bigFile = path.join(dir, 'bars-1m.parquet');
execFileSync(path.join(BUILD, 'bench/parquet_bench'), ['write', bigFile, '1000000']);
await BlobServiceClient.fromConnectionString(connection).getContainerClient(container)
  .getBlockBlobClient('bench/bars-1m.parquet').uploadFile(bigFile);
const range = (key) => JSON.parse(execFileSync(path.join(BUILD, 'bench/azure_range_bench'), [container, key, 'ts,close'],
  { encoding: 'utf8', env }));
const rangeSmall = range(small.key);
const rangeBig = range('bench/bars-1m.parquet');

const lines = [];
lines.push(`Backfill of ${SYMBOLS} sim symbols x 2 years (${results['local/1'].tasks} tasks) by N \`trib worker --drain\` processes; ${os.cpus().length} CPUs`);
lines.push('');
lines.push('| workers | local shape (s) | tasks/s | Azure shape on Azurite + PostgreSQL (s) | tasks/s | ratio Azure / local |');
lines.push('|---|---|---|---|---|---|');
for (const w of [1, 2, 4]) {
  const l = results[`local/${w}`], a = results[`azure/${w}`];
  lines.push(`| ${w} | ${l.seconds.toFixed(2)} | ${(l.processed / l.seconds).toFixed(1)} | ${a.seconds.toFixed(2)} | ${(a.processed / a.seconds).toFixed(1)} | ${(a.seconds / l.seconds).toFixed(2)} |`);
}
lines.push('');
lines.push('2-column read (ts, close) from the Azure lake through range reads:');
lines.push('');
lines.push('| file | size (bytes) | transferred (bytes) | share | requests |');
lines.push('|---|---|---|---|---|');
for (const [name, r] of [[`curated symbol-year (${small.key})`, rangeSmall], ['1 M-row bars file, 8 columns, 1 row group', rangeBig]]) {
  lines.push(`| ${name} | ${r.file_bytes} | ${r.bytes_transferred} | ${(100 * r.bytes_transferred / r.file_bytes).toFixed(1)} % | ${r.requests} |`);
}
console.log(lines.join('\n'));
stopServers();
