// The Tributary dashboard: plain ES modules over the JSON API of `trib serve` (docs/openapi.json),
// charts by lightweight-charts (window.LightweightCharts, served from /static). No build step.
// `window.tributary` exposes the charts' series so tests can read back what was drawn.
const LW = window.LightweightCharts;
const $ = (id) => document.getElementById(id);
const state = { symbols: [], filtered: [], symbol: null, tab: 'market', backtest: null, queue: [] };
window.tributary = state;

async function api(path, options = {}) {
  const res = await fetch(path, options);
  const body = res.status === 204 ? null : await res.json();
  if (!res.ok) throw new Error(body?.error?.message ?? `${res.status}`);
  return body;
}

// Every page of a paginated list.
async function all(path, key = 'items', max = 50) {
  const out = [];
  let cursor = null;
  for (let i = 0; i < max; i++) {
    const sep = path.includes('?') ? '&' : '?';
    const page = await api(`${path}${cursor ? `${sep}cursor=${encodeURIComponent(cursor)}` : ''}`);
    out.push(...page[key]);
    if (page.next_cursor === null || page.next_cursor === undefined) break;
    cursor = page.next_cursor;
  }
  return out;
}

const fmt = (x, d = 2) => (x === null || x === undefined || Number.isNaN(x) ? '—' : Number(x).toFixed(d));
const pct = (x, d = 2) => (x === null || x === undefined ? '—' : `${(100 * x).toFixed(d)}%`);
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
const day = (ts) => Math.floor(Date.parse(ts) / 1000);

function table(el, headers, rows, onClick) {
  el.innerHTML = `<thead><tr>${headers.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead>` +
    `<tbody>${rows.map((r, i) => `<tr data-i="${i}">${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('')}</tbody>`;
  if (onClick) el.querySelectorAll('tbody tr').forEach((tr) => tr.addEventListener('click', () => onClick(Number(tr.dataset.i))));
}

function chart(el, options = {}) {
  return LW.createChart(el, { autoSize: true, layout: { background: { color: '#11151c' }, textColor: '#c9d1d9' },
    grid: { vertLines: { color: '#1c2330' }, horzLines: { color: '#1c2330' } }, timeScale: { timeVisible: true }, ...options });
}

// ---- tabs ----
document.querySelectorAll('#tabs button').forEach((b) => b.addEventListener('click', () => show(b.dataset.tab)));
function show(tab) {
  state.tab = tab;
  document.querySelectorAll('#tabs button').forEach((b) => b.classList.toggle('active', b.dataset.tab === tab));
  document.querySelectorAll('.tab').forEach((s) => s.classList.toggle('active', s.id === tab));
  ({ market: () => {}, quality: loadQuality, backtests: loadBacktests, models: loadModels, trading: loadTrading, operations: loadOperations })[tab]();
}

// ---- market: a virtualised symbol list (500+ rows stay cheap), candles, volume, SMA, markers ----
const ROW = 24;
const list = $('symbol-list');
const spacer = list.querySelector('.spacer');
function renderList() {
  const top = list.scrollTop;
  const first = Math.max(0, Math.floor(top / ROW) - 5);
  const count = Math.ceil(list.clientHeight / ROW) + 10;
  spacer.style.height = `${state.filtered.length * ROW}px`;
  list.querySelectorAll('.row').forEach((r) => r.remove());
  for (let i = first; i < Math.min(state.filtered.length, first + count); i++) {
    const s = state.filtered[i];
    const row = document.createElement('div');
    row.className = `row${s.symbol === state.symbol ? ' selected' : ''}`;
    row.style.top = `${i * ROW}px`;
    row.textContent = s.symbol;
    row.title = `${s.bars} bars, ${s.first_ts.slice(0, 10)} .. ${s.last_ts.slice(0, 10)}`;
    row.addEventListener('click', () => selectSymbol(s.symbol));
    list.appendChild(row);
  }
}
list.addEventListener('scroll', renderList);
$('symbol-search').addEventListener('input', (e) => {
  const q = e.target.value.trim().toUpperCase();
  state.filtered = q ? state.symbols.filter((s) => s.symbol.includes(q)) : state.symbols;
  $('symbol-count').textContent = `${state.filtered.length} of ${state.symbols.length} symbols`;
  list.scrollTop = 0;
  renderList();
});

const price = chart($('price-chart'));
state.priceSeries = price.addSeries(LW.CandlestickSeries, { upColor: '#2ea043', downColor: '#f85149', borderVisible: false,
  wickUpColor: '#2ea043', wickDownColor: '#f85149' });
state.volumeSeries = price.addSeries(LW.HistogramSeries, { priceFormat: { type: 'volume' }, color: '#30363d' }, 1);
state.smaSeries = price.addSeries(LW.LineSeries, { color: '#d29922', lineWidth: 1 });
state.markers = LW.createSeriesMarkers(state.priceSeries, []);
for (const id of ['adjust', 'timeframe', 'sma', 'marker-run']) $(id).addEventListener('change', () => drawPrice());

async function selectSymbol(symbol) {
  state.symbol = symbol;
  renderList();
  await drawPrice();
}

async function drawPrice() {
  if (!state.symbol) return;
  const adjust = $('adjust').value;
  const timeframe = $('timeframe').value;
  const note = $('chart-note');
  note.textContent = 'loading…';
  try {
    const bars = await all(`/api/v1/bars/${encodeURIComponent(state.symbol)}?adjust=${adjust}&timeframe=${timeframe}&limit=10000`, 'bars', 20);
    const time = (b) => (timeframe === '1d' ? b.session_date : day(b.ts));
    state.priceSeries.setData(bars.map((b) => ({ time: time(b), open: b.open, high: b.high, low: b.low, close: b.close })));
    state.volumeSeries.setData(bars.map((b) => ({ time: time(b), value: b.volume, color: b.close >= b.open ? '#23863680' : '#da363380' })));
    const n = Number($('sma').value);
    const sma = [];
    let sum = 0;
    bars.forEach((b, i) => {
      sum += b.close;
      if (i >= n) sum -= bars[i - n].close;
      if (n > 0 && i >= n - 1) sma.push({ time: time(b), value: sum / n });
    });
    state.smaSeries.setData(sma);
    let markers = [];
    const run = $('marker-run').value;
    if (run && timeframe === '1d') {
      const trades = await all(`/api/v1/backtests/${run}/trades?limit=1000`);
      markers = trades.filter((t) => t.symbol === state.symbol).map((t) => ({ time: t.session_date,
        position: t.side === 'buy' ? 'belowBar' : 'aboveBar', color: t.side === 'buy' ? '#2ea043' : '#f85149',
        shape: t.side === 'buy' ? 'arrowUp' : 'arrowDown', text: `${t.side} ${t.qty}` }));
    }
    state.markers.setMarkers(markers);
    state.drawn = { symbol: state.symbol, adjust, timeframe, bars: bars.length, markers: markers.length };
    $('chart-title').textContent = state.symbol;
    note.textContent = `${bars.length} bars, ${adjust}${markers.length ? `, ${markers.length} trades` : ''}`;
    price.timeScale().fitContent();
  } catch (e) {
    note.textContent = e.message;
    state.drawn = { error: e.message };
  }
}

// ---- data quality: a heatmap aggregated by the server, findings with drill-down by rule/symbol ----
async function loadQuality() {
  const cov = await api('/api/v1/coverage');
  const years = cov.years;
  const cells = cov.symbols.map((s) => `<div class="hm-row"><span class="hm-sym">${esc(s.symbol)}</span>${years.map((y) => {
    const c = s.years[y];
    if (!c) return '<span class="hm-cell none"></span>';
    const ratio = c.expected ? c.present / c.expected : 1;
    const cls = ratio >= 1 ? 'full' : ratio >= 0.95 ? 'most' : ratio > 0 ? 'some' : 'none';
    return `<span class="hm-cell ${cls}" title="${esc(s.symbol)} ${y}: ${c.present}/${c.expected}"></span>`;
  }).join('')}</div>`).join('');
  $('heatmap').innerHTML = `<div class="hm-row"><span class="hm-sym"></span>${years.map((y) => `<span class="hm-year">${y}</span>`).join('')}</div>${cells}`;
  await loadFindings();
}
$('dq-rule').addEventListener('change', loadFindings);
$('dq-symbol').addEventListener('change', loadFindings);
async function loadFindings() {
  const rule = $('dq-rule').value;
  const symbol = $('dq-symbol').value.trim().toUpperCase();
  const dq = await api(`/api/v1/dq?limit=500${rule ? `&rule=${rule}` : ''}${symbol ? `&symbol=${encodeURIComponent(symbol)}` : ''}`);
  // A quarantine count opens the rows behind it: what was rejected, why, and the raw text.
  table($('quarantine'), ['Quarantined: dataset', 'rule', 'rows'], dq.quarantined.map((q) => [q.dataset, q.rule, q.rows]),
    async (i) => {
      const rows = await api(`/api/v1/quarantine?rule=${encodeURIComponent(dq.quarantined[i].rule)}&limit=200`);
      state.quarantineRows = rows.items.length;
      table($('quarantine-rows'), ['Symbol', 'Line', 'Rule', 'Reason', 'Session', 'Raw text', 'Source'],
        rows.items.map((r) => [r.symbol, r.line, r.rule, r.reason, r.session_date ?? '', r.raw_text, r.source]));
    });
  table($('findings'), ['Rule', 'Symbol', 'First', 'Last', 'Count', 'Detail'],
    dq.items.map((f) => [f.rule, f.symbol, f.first, f.last, f.count, f.detail]),
    (i) => { $('symbol-search').value = dq.items[i].symbol; selectSymbol(dq.items[i].symbol); show('market'); });
  $('dq-summary').textContent = `${dq.total} finding(s)${dq.total > dq.items.length ? `, first ${dq.items.length} shown` : ''}`;
  const rules = new Set([...$('dq-rule').options].map((o) => o.value));
  for (const f of dq.items) if (!rules.has(f.rule)) { $('dq-rule').add(new Option(f.rule, f.rule)); rules.add(f.rule); }
}

// ---- backtests: equity against the benchmark, drawdown, metrics; trades go on the price chart ----
const equity = chart($('equity-chart'));
state.equitySeries = equity.addSeries(LW.LineSeries, { color: '#58a6ff', lineWidth: 2 });
state.benchmarkSeries = equity.addSeries(LW.LineSeries, { color: '#8b949e', lineWidth: 1 });
const drawdown = chart($('drawdown-chart'));
state.drawdownSeries = drawdown.addSeries(LW.AreaSeries, { lineColor: '#f85149', topColor: '#f8514900', bottomColor: '#f8514966' });
async function loadBacktests() {
  const runs = await all('/api/v1/backtests');
  state.runs = runs;
  table($('backtest-list'), ['Run', 'Strategy', 'From', 'To', 'Return', 'Sharpe', 'Max DD'],
    runs.map((r) => [r.run_id, r.strategy ?? '', r.start ?? '', r.end ?? '', pct(r.total_return), fmt(r.sharpe), pct(r.max_drawdown)]),
    (i) => openBacktest(runs[i].run_id));
  const sel = $('marker-run');
  const have = new Set([...sel.options].map((o) => o.value));
  for (const r of runs) if (!have.has(r.run_id)) sel.add(new Option(`${r.run_id} ${r.strategy ?? ''}`, r.run_id));
}
async function openBacktest(runId) {
  const [s, eq] = await Promise.all([api(`/api/v1/backtests/${runId}`), api(`/api/v1/backtests/${runId}/equity`)]);
  state.backtest = runId;
  const st = s.parameters?.strategy;
  $('backtest-title').textContent = `${runId}: ${st?.name ?? ''} ${st?.params ?? ''} on ${s.universe.length} symbol(s)`;
  const b = s.benchmark ?? {};
  table($('backtest-metrics'), ['', 'Strategy', `Benchmark ${b.symbol ?? ''}`], [
    ['Total return', pct(s.total_return), pct(b.total_return)], ['CAGR', pct(s.cagr), pct(b.cagr)],
    ['Sharpe', fmt(s.sharpe), fmt(b.sharpe)], ['Max drawdown', pct(s.max_drawdown), pct(b.max_drawdown)],
    ['Trades', s.trades, ''], ['Costs', fmt(s.costs.total), '']]);
  const first = eq.points[0];
  state.equitySeries.setData(eq.points.map((p) => ({ time: p.session_date, value: p.equity })));
  state.benchmarkSeries.setData(first && first.benchmark > 0
    ? eq.points.map((p) => ({ time: p.session_date, value: (p.benchmark / first.benchmark) * first.equity })) : []);
  let peak = -Infinity;
  state.drawdownSeries.setData(eq.points.map((p) => { peak = Math.max(peak, p.equity); return { time: p.session_date, value: 100 * (p.equity / peak - 1) }; }));
  equity.timeScale().fitContent();
  drawdown.timeScale().fitContent();
  $('marker-run').value = runId;
}

// ---- models: the information coefficient per date ----
const ic = chart($('ic-chart'));
state.icSeries = ic.addSeries(LW.HistogramSeries, { color: '#58a6ff' });
state.icMean = ic.addSeries(LW.LineSeries, { color: '#d29922', lineWidth: 2 });
async function loadModels() {
  const models = await all('/api/v1/models');
  table($('model-list'), ['Model', 'Kind', 'Features', 'From', 'To'], models.map((m) => [m.model_id, m.kind, m.feature_set, m.from, m.to]),
    async (i) => {
      const m = models[i];
      const [detail, series] = await Promise.all([api(`/api/v1/models/${m.model_id}`), api(`/api/v1/models/${m.model_id}/ic`)]);
      $('model-title').textContent = m.model_id;
      state.icSeries.setData(series.points.map((p) => ({ time: p.date, value: p.ic, color: p.ic >= 0 ? '#2ea04399' : '#f8514999' })));
      let sum = 0;
      state.icMean.setData(series.points.map((p, k) => { sum += p.ic; return { time: p.date, value: sum / (k + 1) }; }));
      ic.timeScale().fitContent();
      const t = detail.metrics?.test ?? {};
      table($('model-metrics'), ['Test metric', 'Value'], Object.entries(t).filter(([, v]) => typeof v === 'number').map(([k, v]) => [k, fmt(v, 4)]));
    });
}

// ---- trading: the risk state with the halt switch, positions, orders ----
$('token').value = sessionStorage.getItem('trib-token') ?? '';
$('token').addEventListener('change', (e) => sessionStorage.setItem('trib-token', e.target.value));
for (const action of ['halt', 'resume']) {
  $(action).addEventListener('click', async () => {
    const msg = $('trading-message');
    try {
      const s = await api(`/api/v1/trading/${action}`, { method: 'POST', headers: { authorization: `Bearer ${$('token').value}`,
        'content-type': 'application/json' }, body: JSON.stringify({ account: $('account').value, reason: 'dashboard' }) });
      msg.textContent = `${s.state}`;
    } catch (e) {
      msg.textContent = e.message;
    }
    await loadTrading();
  });
}
async function loadTrading() {
  const account = encodeURIComponent($('account').value);
  const [s, positions, orders] = await Promise.all([api(`/api/v1/trading/state?account=${account}`),
    api(`/api/v1/positions?account=${account}`), api(`/api/v1/orders?account=${account}&limit=200`)]);
  $('trading-state').textContent = `${s.state}${s.reason ? ` (${s.reason})` : ''}`;
  $('trading-state').className = s.state.toLowerCase();
  badge(s);
  table($('positions'), ['Symbol', 'Qty', 'Avg price', 'Realized P&L'], positions.positions.map((p) => [p.symbol, p.qty, fmt(p.avg_price), fmt(p.realized_pnl)]));
  table($('orders'), ['Session', 'Symbol', 'Side', 'Qty', 'Filled', 'Type', 'Status', 'Reason'],
    orders.items.map((o) => [o.session, o.symbol, o.side, o.qty, o.filled_qty, o.type, o.status, o.reason]));
}
function badge(s) {
  const el = $('risk-badge');
  el.textContent = `${s.account}: ${s.state}`;
  el.className = `badge ${s.state.toLowerCase()}`;
}

// ---- operations: queue depth over time, poison, requests ----
const queue = chart($('queue-chart'));
state.queueSeries = queue.addSeries(LW.LineSeries, { color: '#58a6ff' });
const throughput = chart($('throughput-chart'));
state.throughputSeries = throughput.addSeries(LW.HistogramSeries, { color: '#2ea043' });
async function loadOperations() {
  const q = await api('/api/v1/queue');
  state.queue.push({ time: Math.floor(Date.now() / 1000), value: q.depth });
  state.queueSeries.setData(state.queue);
  $('queue-now').textContent = `${q.depth} queued (${q.visible} visible), ${q.poison} poison, ${q.tasks_done} done`;
  state.throughputSeries.setData(q.tasks_done_per_hour.map((h) => ({ time: day(h.hour), value: h.tasks })));
  throughput.timeScale().fitContent();
  table($('poison'), ['Id', 'Deliveries', 'Last error'], q.poison_messages.map((p) => [p.id, p.dequeue_count, p.last_error]));
  const text = await (await fetch('/metrics')).text();
  const rows = [...text.matchAll(/^trib_http_requests_total\{method="([^"]+)",route="([^"]+)",status="(\d+)"\} (\d+)$/gm)]
    .map((m) => [m[1], m[2], m[3], Number(m[4])]).sort((a, b) => b[3] - a[3]);
  table($('requests'), ['Method', 'Route', 'Status', 'Requests'], rows);
}
setInterval(() => { if (state.tab === 'operations') loadOperations(); }, 5000);

// ---- start ----
(async () => {
  state.symbols = await all('/api/v1/instruments?limit=1000');
  state.filtered = state.symbols;
  $('symbol-count').textContent = `${state.symbols.length} symbols`;
  renderList();
  api('/api/v1/trading/state').then(badge).catch(() => {});
  loadBacktests().catch(() => {});
  const start = new URLSearchParams(location.search).get('symbol') ?? state.symbols[0]?.symbol;
  if (start) await selectSymbol(start);
  state.ready = true;
})();
