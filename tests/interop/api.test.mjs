// `trib serve` as a client uses it, on a workspace with five stocks of the Kaggle S&P 500 file, a
// saved backtest and a paper account: every response is validated against docs/openapi.json
// (Ajv, JSON Schema 2020-12), bars equal the CSV, pages join up, immutable resources answer 304,
// bodies are gzipped on request, bad requests (unknown symbol, malformed dates, huge limits,
// path traversal, missing or wrong token) get 4xx JSON errors and change nothing, the halt switch
// works with the token, /metrics counts it all, and SIGTERM stops the server cleanly.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import Ajv2020 from 'ajv/dist/2020.js';
import { ROOT, startServe, tempDir, trib, tradingWorkspace } from './helpers.mjs';

const SPEC = JSON.parse(fs.readFileSync(path.join(ROOT, 'docs/openapi.json'), 'utf8'));
const ajv = new Ajv2020({ strict: false, allErrors: true });
ajv.addSchema(SPEC, 'openapi.json');
const TOKEN = 'test-token-0123456789abcdef';
const SYMBOLS = ['AAPL', 'MSFT', 'XOM', 'KO', 'JPM'];

const dir = tempDir('api');
let ws;
let server;
let base;
let csv;
let runId;

// The schema the OpenAPI file gives for `route` (its template), `method` and `status`.
function validate(route, method, status, body) {
  const op = SPEC.paths[route]?.[method];
  assert.ok(op, `${method} ${route} is not in docs/openapi.json`);
  let response = op.responses[String(status)];
  assert.ok(response, `${method} ${route} does not document status ${status}`);
  if (response.$ref) response = SPEC.components.responses[response.$ref.split('/').pop()];
  const schema = Object.values(response.content ?? {})[0]?.schema;
  if (!schema) return;
  const check = ajv.compile(schema.$ref ? { $ref: `openapi.json${schema.$ref}` } : schema);
  assert.ok(check(body), `${method} ${route} ${status}: ${ajv.errorsText(check.errors)}\n${JSON.stringify(body).slice(0, 400)}`);
}

async function call(route, url, { method = 'get', status = 200, headers = {}, body } = {}) {
  const res = await fetch(`${base}${url}`, { method: method.toUpperCase(), headers, body });
  assert.equal(res.status, status, `${method} ${url}: ${res.status} ${await res.clone().text()}`);
  if (status === 304) return { res, json: null };
  const json = await res.json();
  validate(route, method, status, json);
  return { res, json };
}

before(async () => {
  ({ ws, csv, runId } = tradingWorkspace(dir, SYMBOLS));
  ({ server, base } = await startServe(ws, dir, { TRIB_API_TOKEN: TOKEN }));
});

after(() => server?.kill('SIGKILL'));

test('health, readiness and the instruments, paginated', async () => {
  await call('/healthz', '/healthz');
  const ready = await call('/readyz', '/readyz');
  assert.deepEqual(ready.json.checks, { catalog: 'ok', lake: 'ok', queue: 'ok' });
  const seen = [];
  let cursor = '';
  for (let pages = 0; pages < 10; pages++) {
    const { json } = await call('/api/v1/instruments', `/api/v1/instruments?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
    assert.ok(json.items.length <= 2);
    seen.push(...json.items.map((i) => i.symbol));
    if (json.next_cursor === null) break;
    cursor = json.next_cursor;
  }
  assert.deepEqual(seen, [...SYMBOLS].sort());
});

test('bars equal the CSV, in pages, with an ETag and gzip', async () => {
  const rows = fs.readFileSync(csv, 'utf8').split('\n').filter((l) => l.endsWith(',AAPL') && l >= '2016-03-01' && l < '2016-04-01');
  const url = '/api/v1/bars/AAPL?from=2016-03-01&to=2016-03-31&adjust=raw&limit=10';
  const got = [];
  let next = url;
  let first;
  while (next) {
    const { res, json } = await call('/api/v1/bars/{symbol}', next, { headers: { 'accept-encoding': 'gzip' } });
    first ??= res;
    got.push(...json.bars);
    next = json.next_cursor === null ? null : `${url}&cursor=${json.next_cursor}`;
  }
  assert.equal(got.length, rows.length);
  rows.forEach((line, i) => {
    const [date, open, high, low, close, volume] = line.split(',');
    assert.equal(got[i].session_date, date);
    assert.deepEqual([got[i].open, got[i].high, got[i].low, got[i].close, got[i].volume], [open, high, low, close, volume].map(Number));
  });
  assert.equal(first.headers.get('content-encoding'), 'gzip');
  const etag = first.headers.get('etag');
  assert.match(etag, /^"[0-9a-f]{32}"$/);
  await call('/api/v1/bars/{symbol}', url, { status: 304, headers: { 'if-none-match': etag } });
});

test('backtests: list, summary, equity and trades (immutable: 304), models, coverage, dq, queue', async () => {
  const list = await call('/api/v1/backtests', '/api/v1/backtests');
  assert.ok(list.json.items.some((b) => b.run_id === runId));
  const summary = await call('/api/v1/backtests/{run_id}', `/api/v1/backtests/${runId}`);
  assert.equal(summary.json.run_id, runId);
  const etag = summary.res.headers.get('etag');
  await call('/api/v1/backtests/{run_id}', `/api/v1/backtests/${runId}`, { status: 304, headers: { 'if-none-match': etag } });
  const equity = await call('/api/v1/backtests/{run_id}/equity', `/api/v1/backtests/${runId}/equity`);
  assert.equal(equity.json.points.length, summary.json.sessions + 1);  // the start, then each session
  assert.equal(equity.json.points.at(-1).equity, summary.json.final_equity);
  const trades = await call('/api/v1/backtests/{run_id}/trades', `/api/v1/backtests/${runId}/trades?limit=5`);
  assert.equal(trades.json.total, summary.json.trades);
  await call('/api/v1/models', '/api/v1/models');
  const cov = await call('/api/v1/coverage/{symbol}', '/api/v1/coverage/MSFT');
  assert.ok(cov.json.years.length >= 5);
  await call('/api/v1/dq', '/api/v1/dq?limit=5');
  await call('/api/v1/quarantine', '/api/v1/quarantine?symbol=AAPL');
  await call('/api/v1/quarantine', '/api/v1/quarantine?symbol=..%2Fx', { status: 400 });
  await call('/api/v1/queue', '/api/v1/queue');
});

test('the paper account: orders, fills, positions, state', async () => {
  const orders = await call('/api/v1/orders', '/api/v1/orders?account=paper&limit=3');
  assert.ok(orders.json.total > 0);
  const fills = await call('/api/v1/fills', '/api/v1/fills');
  assert.ok(fills.json.total > 0);
  await call('/api/v1/positions', '/api/v1/positions?account=paper');
  const state = await call('/api/v1/trading/state', '/api/v1/trading/state');
  assert.equal(state.json.state, 'ACTIVE');
});

test('bad requests get 4xx JSON errors and change nothing', async () => {
  await call('/api/v1/bars/{symbol}', '/api/v1/bars/NOPE', { status: 404 });
  await call('/api/v1/bars/{symbol}', '/api/v1/bars/AAPL?from=2016-13-01', { status: 400 });
  await call('/api/v1/bars/{symbol}', '/api/v1/bars/AAPL?from=2017-01-01&to=2016-01-01', { status: 400 });
  await call('/api/v1/bars/{symbol}', '/api/v1/bars/AAPL?limit=99999999', { status: 400 });
  await call('/api/v1/bars/{symbol}', '/api/v1/bars/..%2F..%2Fcatalog.db', { status: 400 });
  await call('/api/v1/bars/{symbol}', '/api/v1/bars/AAPL?cursor=..%2Fx', { status: 400 });
  await call('/api/v1/backtests/{run_id}', '/api/v1/backtests/..%2F..%2Fetc', { status: 400 });
  await call('/api/v1/backtests/{run_id}', '/api/v1/backtests/bt-000000000000', { status: 404 });
  await call('/api/v1/models/{model_id}', '/api/v1/models/..%2Fx', { status: 400 });
  await call('/api/v1/orders', '/api/v1/orders?account=..%2F..', { status: 400 });
  await call('/api/v1/trading/halt', '/api/v1/trading/halt', { method: 'post', status: 401 });
  await call('/api/v1/trading/halt', '/api/v1/trading/halt', { method: 'post', status: 401, headers: { authorization: 'Bearer wrong-token-0123456789ab' } });
  await call('/api/v1/trading/halt', '/api/v1/trading/halt', { method: 'post', status: 400,
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: '[1,2]' });
  const state = await call('/api/v1/trading/state', '/api/v1/trading/state');
  assert.equal(state.json.state, 'ACTIVE');
  assert.ok(fs.readFileSync(path.join(ws, 'trib.toml')).length > 0);
});

test('halt and resume with the token; /metrics counts requests and the risk state', async () => {
  const halted = await call('/api/v1/trading/halt', '/api/v1/trading/halt', { method: 'post',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ reason: 'api test' }) });
  assert.equal(halted.json.state, 'HALTED');
  assert.match(halted.json.reason, /api test/);
  const cli = JSON.parse(trib(ws, 'halt', '--account', 'paper', '--json', '--reason', 'again').trim());
  assert.equal(cli.state, 'HALTED');
  const metrics = await (await fetch(`${base}/metrics`)).text();
  assert.match(metrics, /trib_risk_state\{account="paper"\} 2/);
  assert.match(metrics, /trib_http_requests_total\{method="GET",route="\/api\/v1\/bars\/\{symbol\}",status="200"\} \d+/);
  assert.match(metrics, /trib_http_request_duration_seconds_bucket\{route="\/api\/v1\/bars\/\{symbol\}",le="\+Inf"\} \d+/);
  assert.match(metrics, /trib_instruments 5/);
  const resumed = await call('/api/v1/trading/resume', '/api/v1/trading/resume', { method: 'post',
    headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(resumed.json.state, 'ACTIVE');
  // The access log: one JSON line per request, never the token.
  assert.match(server.stderrText, /"access":true/);
  assert.ok(!server.stderrText.includes(TOKEN));
});

test('SIGTERM stops the server cleanly', async () => {
  const exited = new Promise((resolve) => server.on('exit', (code) => resolve(code)));
  server.kill('SIGTERM');
  assert.equal(await exited, 0);
});
