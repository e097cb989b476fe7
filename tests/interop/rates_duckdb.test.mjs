// FRED series through the daily updater into curated/rates, read back by DuckDB (hive
// partitioning) and compared with the recorded FRED payloads in vendor-samples, parsed here with
// JSON.parse: every date, every value, the series' own calendar (weekends for DFF, the first of
// the month for HQMCB10YR). Then a second run plans nothing, a later run adds only new dates, and
// the API key is in no file of the workspace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { duck, ROOT, SHARED, tempDir, trib, walk } from './helpers.mjs';

const MOCK = process.env.MOCK_VENDOR_BIN ?? path.join(ROOT, 'build/tests/mock_vendor');
const KEY = 'mock-key-7f3a9c2e51';  // the key the mock accepts (MockVendorServer::kApiKey)

function recorded(series) {
  const file = path.join(SHARED, `vendor-samples/fred/bodies/series_observations__${series}.json`);
  return JSON.parse(fs.readFileSync(file, 'utf8')).observations.map((o) => ({
    date: o.date, value: o.value === '.' ? null : Number(o.value),
  }));
}

async function startMock(dir) {
  const portFile = path.join(dir, 'port');
  const child = spawn(MOCK, ['--port-file', portFile], { stdio: ['ignore', 'ignore', 'inherit'] });
  for (let i = 0; i < 200 && !(fs.existsSync(portFile) && fs.statSync(portFile).size > 0); ++i) {
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, url: `http://127.0.0.1:${fs.readFileSync(portFile, 'utf8').trim()}` };
}

test('FRED series land in curated/rates with the recorded values, read by DuckDB', async (t) => {
  if (!fs.existsSync(path.join(SHARED, 'vendor-samples/fred'))) return t.skip('no ../shared/data');
  const dir = tempDir('rates');
  const mock = await startMock(dir);
  t.after(() => mock.child.kill('SIGTERM'));
  process.env.FRED_API_KEY = KEY;
  const ws = path.join(dir, 'ws');
  trib(ws, 'init');
  fs.appendFileSync(path.join(ws, 'trib.toml'),
    `\n[vendors.fred]\nbase_url = "${mock.url}/fred"\nrequests_per_minute = 0\n`);
  trib(ws, 'universe', 'add', 'DFF', 'HQMCB10YR', '--vendor', 'fred', '--dataset', 'rates', '--start', '2023-01-01');

  // Tuesday 2023-06-06 after the close: the recordings' exact range.
  const u1 = JSON.parse(trib(ws, 'update', '--as-of', '2023-06-06', '--json').trim().split('\n').pop());
  assert.equal(u1.queued, 2);

  const glob = path.join(ws, 'lake/curated/rates/**/*.parquet');
  const rows = await duck(`
    SELECT series, year::VARCHAR AS year, date::VARCHAR AS date, value, source
    FROM read_parquet('${glob}', hive_partitioning = true) ORDER BY series, date`);
  for (const series of ['DFF', 'HQMCB10YR']) {
    const want = recorded(series);
    const got = rows.filter((r) => r.series === series);
    assert.equal(got.length, want.length, `${series}: ${got.length} rows, recorded ${want.length}`);
    for (let i = 0; i < want.length; ++i) {
      assert.equal(got[i].date, want[i].date);
      assert.equal(got[i].value === null ? null : Number(got[i].value), want[i].value, `${series} ${want[i].date}`);
      assert.equal(got[i].year, want[i].date.slice(0, 4));
      assert.equal(got[i].source, 'fred');
    }
  }
  // DFF is published for every calendar day: 2023-01-01 is a Sunday.
  assert.equal(rows.find((r) => r.series === 'DFF').date, '2023-01-01');

  // `trib rates` prints the same numbers.
  const printed = trib(ws, 'rates', 'HQMCB10YR', '--format', 'json').trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(printed.map((r) => [r.date, r.value]), recorded('HQMCB10YR').map((r) => [r.date, r.value]));

  // Run again: the watermarks say there is nothing new for DFF.
  const u2 = JSON.parse(trib(ws, 'update', '--as-of', '2023-06-06', '--json').trim().split('\n').pop());
  assert.equal(u2.planned, 1, 'only the monthly series (no value since 06-01) is asked again');
  // Friday 2023-06-09: DFF gains 06-07..06-09 and nothing before changes.
  trib(ws, 'update', '--as-of', '2023-06-09', '--json');
  const after = await duck(`
    SELECT date::VARCHAR AS date, value FROM read_parquet('${glob}', hive_partitioning = true)
    WHERE series = 'DFF' ORDER BY date`);
  assert.deepEqual(after.slice(157).map((r) => r.date), ['2023-06-07', '2023-06-08', '2023-06-09']);
  assert.deepEqual(after.slice(0, 157).map((r) => [r.date, Number(r.value)]),
    recorded('DFF').map((r) => [r.date, r.value]));
  const status = JSON.parse(trib(ws, 'status', '--json').trim());
  assert.equal(status.rates.series, 2);
  const [{ n }] = await duck(`SELECT count(*)::INTEGER AS n FROM read_parquet('${glob}')`);
  assert.equal(status.rates.observations, Number(n));

  const verify = JSON.parse(trib(ws, 'verify', '--json').trim());
  assert.equal(verify.corrupt, 0);
  assert.ok(verify.partitions >= 2);

  const leaked = walk(ws).filter((f) => fs.readFileSync(f).includes(KEY));
  assert.deepEqual(leaked, [], 'the API key is in no file of the workspace');
  delete process.env.FRED_API_KEY;
});
