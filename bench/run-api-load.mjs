#!/usr/bin/env node
// Load on `trib serve` (bounded, loopback only): GET /api/v1/bars/{symbol} for a year of daily
// bars under 50 concurrent clients for 10 s (autocannon), rotating over five symbols and both
// raw and total-return prices, on a workspace with the Kaggle S&P 500 file's 505 stocks. The
// peer in the same run: Node's own http server answering the very same JSON bodies from memory
// (no lake, no catalog: the transport's ceiling on this machine). Prints requests/s, latency
// percentiles and the ratio.
//
//   node bench/run-api-load.mjs [SECONDS] [CONNECTIONS]     (build first: scripts/build)
import http from 'node:http';
import path from 'node:path';
import autocannon from 'autocannon';
import { startServe, tempDir, tradingWorkspace } from '../tests/interop/helpers.mjs';

const SECONDS = Number(process.argv[2] ?? 10);
const CONNECTIONS = Number(process.argv[3] ?? 50);
const SYMBOLS = ['AAPL', 'MSFT', 'XOM', 'KO', 'JPM'];
const PATHS = SYMBOLS.flatMap((s) => ['raw', 'total'].map((a) => `/api/v1/bars/${s}?from=2017-01-01&to=2017-12-31&adjust=${a}`));

function run(url) {
  return new Promise((resolve, reject) => {
    let i = 0;
    const instance = autocannon({
      url, connections: CONNECTIONS, duration: SECONDS, pipelining: 1,
      requests: [{ setupRequest: (req) => ({ ...req, path: PATHS[i++ % PATHS.length] }) }],
    }, (err, result) => (err ? reject(err) : resolve(result)));
    autocannon.track(instance, { renderProgressBar: false, renderResultsTable: false, renderLatencyTable: false });
  });
}

const dir = tempDir('bench-api');
process.stdout.write('workspace: 505 stocks ... ');
const { ws } = tradingWorkspace(dir);
console.log('ready');
const { server, base } = await startServe(ws, path.join(dir), {});
// The peer serves what we serve, byte for byte, from memory.
const bodies = new Map();
for (const p of PATHS) bodies.set(p, Buffer.from(await (await fetch(`${base}${p}`)).text()));
const peer = http.createServer((req, res) => {
  const body = bodies.get(req.url);
  res.writeHead(body ? 200 : 404, { 'content-type': 'application/json', 'content-length': body?.length ?? 0 });
  res.end(body);
});
await new Promise((r) => peer.listen(0, '127.0.0.1', r));

const ours = await run(base);
if (ours.non2xx) console.log('non-2xx answers:', JSON.stringify(ours.statusCodeStats), server.stderrText.split('\n').filter((l) => /"status":[45]/.test(l)).slice(0, 3));
const theirs = await run(`http://127.0.0.1:${peer.address().port}`);
server.kill('SIGTERM');
peer.close();

const row = (name, r) => console.log(
  `${name.padEnd(34)} ${String(Math.round(r.requests.average)).padStart(8)} req/s   p50 ${r.latency.p50} ms   p99 ${r.latency.p99} ms   ` +
  `max ${r.latency.max} ms   errors ${r.errors} timeouts ${r.timeouts} non-2xx ${r.non2xx}   ${(r.throughput.average / 1e6).toFixed(1)} MB/s`);
console.log(`\n${CONNECTIONS} connections, ${SECONDS} s, one year of daily bars per request (${PATHS.length} URLs rotating)`);
row('trib serve /api/v1/bars', ours);
row('node http, same bodies in memory', theirs);
console.log(`ratio (trib / in-memory node): ${(ours.requests.average / theirs.requests.average).toFixed(2)}x requests/s`);
