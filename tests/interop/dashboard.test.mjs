// The dashboard as a person uses it, in Debian's Chromium (headless, driven by playwright-core),
// served by `trib serve` on a workspace with all 505 stocks of the Kaggle S&P 500 file: the
// candles drawn equal the API's bars (read back from the chart's own API), the raw/adjusted
// toggle and the symbol switch redraw them, a backtest's trades become markers, the symbol list
// stays virtual with 505 symbols, the coverage heatmap has a row per symbol, and the halt switch
// changes the state the API reports. Screenshots of every tab go to build/test-output/dashboard/.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { chromium } from 'playwright-core';
import { ROOT, startServe, tempDir, tradingWorkspace } from './helpers.mjs';

const CHROMIUM = process.env.TRIB_CHROMIUM ?? '/usr/bin/chromium';
const TOKEN = 'dashboard-token-0123456789';
const OUT = path.join(ROOT, 'build/test-output/dashboard');
const dir = tempDir('dashboard');
let ws;
let csv;
let runId;
let server;
let base;
let browser;
let page;
const pageErrors = [];

async function bars(symbol, adjust) {
  const out = [];
  let cursor = null;
  for (;;) {
    const res = await fetch(`${base}/api/v1/bars/${symbol}?adjust=${adjust}&limit=10000${cursor ? `&cursor=${cursor}` : ''}`);
    const body = await res.json();
    out.push(...body.bars);
    if (body.next_cursor === null) return out;
    cursor = body.next_cursor;
  }
}

// Waits until the page drew `symbol` in `adjust` mode and returns what the chart holds.
async function drawn(symbol, adjust) {
  await page.waitForFunction(([s, a]) => window.tributary?.drawn?.symbol === s && window.tributary.drawn.adjust === a,
    [symbol, adjust], { timeout: 30000 });
  return page.evaluate(() => {
    const t = window.tributary;
    return { candles: t.priceSeries.data().length, volume: t.volumeSeries.data().length, last: t.priceSeries.data().at(-1),
      markers: t.markers.markers().length };
  });
}

async function shot(name) {
  fs.mkdirSync(OUT, { recursive: true });
  await page.screenshot({ path: path.join(OUT, `${name}.png`), fullPage: true });
}

before(async () => {
  assert.ok(fs.existsSync(CHROMIUM), `no Chromium at ${CHROMIUM}: scripts/install-deps installs Debian's chromium`);
  ({ ws, csv, runId } = tradingWorkspace(dir));
  ({ server, base } = await startServe(ws, dir, { TRIB_API_TOKEN: TOKEN }));
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.on('pageerror', (e) => pageErrors.push(e.message));
});

after(async () => {
  await browser?.close();
  server?.kill('SIGTERM');
});

test('the market page draws the API\'s candles, adjusted and raw, and switches symbols', async () => {
  await page.goto(`${base}/?symbol=AAPL`);
  const total = await drawn('AAPL', 'total');
  const api = await bars('AAPL', 'total');
  assert.equal(total.candles, api.length);
  assert.equal(total.volume, api.length);
  assert.equal(total.last.close, api.at(-1).close);
  await shot('market-aapl-total');
  await page.selectOption('#adjust', 'raw');
  const raw = await drawn('AAPL', 'raw');
  const csvLast = fs.readFileSync(csv, 'utf8').split('\n').filter((l) => l.endsWith(',AAPL')).at(-1).split(',');
  assert.equal(raw.candles, api.length);
  assert.equal(raw.last.close, Number(csvLast[4]));
  const csvFirst = fs.readFileSync(csv, 'utf8').split('\n').find((l) => l.endsWith(',AAPL')).split(',');
  assert.equal(await page.evaluate(() => window.tributary.priceSeries.data()[0].close), Number(csvFirst[4]));
  await page.fill('#symbol-search', 'MSF');
  await page.click('#symbol-list .row:has-text("MSFT")');
  const msft = await drawn('MSFT', 'raw');
  assert.equal(msft.candles, (await bars('MSFT', 'raw')).length);
  await shot('market-msft-raw');
});

test('505 symbols: the list stays virtual and scrolls to the last one', async () => {
  await page.fill('#symbol-search', '');
  await page.dispatchEvent('#symbol-search', 'input');
  const count = await page.textContent('#symbol-count');
  assert.match(count, /505 of 505 symbols/);
  const rows = await page.locator('#symbol-list .row').count();
  assert.ok(rows > 5 && rows < 80, `${rows} rows in the DOM`);
  await page.evaluate(() => { const l = document.getElementById('symbol-list'); l.scrollTop = l.scrollHeight; l.dispatchEvent(new Event('scroll')); });
  await page.waitForSelector('#symbol-list .row:has-text("ZTS")');
});

test('a backtest: equity against the benchmark, drawdown, and its trades on the price chart', async () => {
  await page.click('#tabs button[data-tab="backtests"]');
  await page.click(`#backtest-list tbody tr:has-text("${runId}")`);
  await page.waitForFunction((id) => window.tributary.backtest === id, runId);
  const points = await page.evaluate(() => [window.tributary.equitySeries.data().length, window.tributary.drawdownSeries.data().length]);
  const equity = await (await fetch(`${base}/api/v1/backtests/${runId}/equity`)).json();
  assert.deepEqual(points, [equity.points.length, equity.points.length]);
  await shot('backtests');
  await page.click('#tabs button[data-tab="market"]');
  await page.selectOption('#adjust', 'raw');
  await page.fill('#symbol-search', 'AAPL');
  await page.click('#symbol-list .row:has-text("AAPL")');
  await page.waitForFunction(() => window.tributary.drawn?.symbol === 'AAPL' && window.tributary.drawn.markers > 0, null, { timeout: 30000 });
  const trades = (await (await fetch(`${base}/api/v1/backtests/${runId}/trades?limit=1000`)).json()).items.filter((t) => t.symbol === 'AAPL');
  assert.equal(await page.evaluate(() => window.tributary.markers.markers().length), trades.length);
  await shot('market-trades');
});

test('data quality: a heatmap row per symbol, findings', async () => {
  await page.click('#tabs button[data-tab="quality"]');
  await page.waitForSelector('#heatmap .hm-cell');
  assert.equal(await page.locator('#heatmap .hm-row').count(), 506);  // the years' header + 505
  await page.waitForSelector('#findings thead');
  // A quarantine count opens the rows behind it.
  const counts = (await (await fetch(`${base}/api/v1/dq?limit=1`)).json()).quarantined;
  assert.ok(counts.length > 0, 'the file\'s incomplete rows were quarantined');
  await page.click('#quarantine tbody tr');
  await page.waitForSelector('#quarantine-rows tbody tr');
  assert.equal(await page.locator('#quarantine-rows tbody tr').count(), Math.min(200, counts[0].rows));
  await shot('quality');
});

test('trading: the halt switch changes the state the API reports', async () => {
  await page.click('#tabs button[data-tab="trading"]');
  await page.waitForSelector('#orders tbody tr');
  await page.fill('#token', TOKEN);
  await page.dispatchEvent('#token', 'change');
  await page.click('#halt');
  await page.waitForFunction(() => document.getElementById('trading-state').textContent.startsWith('HALTED'));
  const state = await (await fetch(`${base}/api/v1/trading/state`)).json();
  assert.equal(state.state, 'HALTED');
  assert.match(await page.textContent('#risk-badge'), /HALTED/);
  await shot('trading-halted');
  await page.click('#resume');
  await page.waitForFunction(() => document.getElementById('trading-state').textContent.startsWith('ACTIVE'));
  assert.equal((await (await fetch(`${base}/api/v1/trading/state`)).json()).state, 'ACTIVE');
  // A wrong token changes nothing and says why.
  await page.fill('#token', 'wrong-token-000000000000');
  await page.dispatchEvent('#token', 'change');
  await page.click('#halt');
  await page.waitForFunction(() => /bearer token/.test(document.getElementById('trading-message').textContent));
  assert.equal((await (await fetch(`${base}/api/v1/trading/state`)).json()).state, 'ACTIVE');
});

test('operations and models pages load', async () => {
  await page.click('#tabs button[data-tab="operations"]');
  await page.waitForSelector('#requests tbody tr');
  await shot('operations');
  await page.click('#tabs button[data-tab="models"]');
  await page.waitForSelector('#model-list thead');
  await shot('models');
});

test('no script error on any page', () => {
  assert.deepEqual(pageErrors, []);
});
