// A backfill worker killed with SIGKILL mid-run loses nothing: after the lease expires the queue
// redelivers, and every planned (symbol, year) partition exists exactly once with the row count
// of NYSE sessions that year (from exchange_calendars' session list, not from our calendar).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { duck, nyseSessionsByYear, spawnTrib, tempDir, trib, tribJson, walk } from './helpers.mjs';

const SYMBOLS = 8, FROM = 2010, TO = 2020;

function exited(child) {
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
}

async function crashAndRecover() {
  const ws = path.join(tempDir('crash'), 'ws');
  trib(ws, 'init');
  // Plan and queue; a slow simulated vendor keeps each task in flight long enough to be killed.
  trib(ws, 'backfill', '--vendor', 'sim', '--symbols', String(SYMBOLS), '--from', `${FROM}-01-01`,
    '--to', `${TO}-12-31`, '--latency-ms', '40', '--no-drain');
  const planned = SYMBOLS * (TO - FROM + 1);
  assert.equal(tribJson(ws, 'status').queue.pending, planned);

  const victim = spawnTrib(ws, 'worker', '--drain', '--visibility-timeout', '2');
  const survivor = spawnTrib(ws, 'worker', '--drain', '--visibility-timeout', '2');
  const victimExit = exited(victim), survivorExit = exited(survivor);
  // Kill the victim once work is under way but far from done.
  for (let i = 0; i < 400; i++) {
    const s = tribJson(ws, 'status');
    if (s.curated_partitions >= 10) break;
    await sleep(25);
  }
  victim.kill('SIGKILL');
  assert.equal((await victimExit).signal, 'SIGKILL');
  const { code } = await survivorExit;
  assert.equal(code, 0);

  const status = tribJson(ws, 'status');
  assert.equal(status.queue.pending, 0, 'queue drained');
  assert.equal(status.queue.poison, 0, 'nothing poisoned');
  assert.equal(status.curated_partitions, planned);

  const sessions = nyseSessionsByYear();
  const glob = path.join(ws, 'lake/curated/bars/**/*.parquet');
  const groups = await duck(`
    SELECT symbol, year::VARCHAR AS year, count(*) AS n, count(DISTINCT ts) AS distinct_ts
    FROM read_parquet('${glob}', hive_partitioning = true) GROUP BY ALL ORDER BY ALL`);
  assert.equal(groups.length, planned, JSON.stringify({
    odd: groups.filter((g) => Number(g.n) !== sessions.get(g.year)),
    files: walk(path.join(ws, 'lake/curated')).filter((f) => !/year=\d{4}\/data\.parquet$/.test(f)),
  }));
  for (const g of groups) {
    assert.equal(Number(g.n), sessions.get(g.year), `${g.symbol} ${g.year}`);
    assert.equal(Number(g.distinct_ts), Number(g.n), `${g.symbol} ${g.year} has duplicate rows`);
  }
  // Exactly one file per partition and no temp files left anywhere in the lake.
  const curated = walk(path.join(ws, 'lake/curated'));
  assert.equal(curated.length, planned, `files besides data.parquet: ${JSON.stringify(curated.filter((f) => !f.endsWith('/data.parquet')))}`);
  assert.ok(curated.every((f) => f.endsWith('/data.parquet')));
  const leftovers = walk(path.join(ws, 'lake')).filter((f) => path.basename(f).includes('.tmp-'));
  assert.deepEqual(leftovers, []);
  fs.rmSync(path.dirname(ws), { recursive: true, force: true });
}

// Under load the victim is sometimes killed inside a write, leaving its temp file
// (".<name>.tmp-<pid>-<n>") in the partition or raw folder; the survivor's retry of the same
// task must sweep it (core's remove_stale_temp_files), which the leftovers check above asserts.
test('SIGKILL of a worker mid-backfill: every partition exactly once, right row counts', async () => {
  await crashAndRecover();
});
