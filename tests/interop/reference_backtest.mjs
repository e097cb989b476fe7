// An independent implementation of the portfolio backtest's rules in plain JavaScript, for
// tests/interop/portfolio_backtest.test.mjs (trade for trade, to the cent) and the peer of
// bench/run-backtest.mjs. Written from docs/architecture.md ("Trading"), not from the C++:
// default costs (0.005/share, min 1, max 1% of value; 5 bps slippage), a 5% volume cap, a cash
// account, gross and net exposure at most 1x equity, default order and position limits.
const CASH = 100000;
const PER_SHARE = 0.005, MIN_FEE = 1, MAX_PCT = 1, SLIP = 5e-4, PARTICIPATION = 0.05;

const fee = (q, price) => (q === 0 ? 0 : Math.min(Math.max(MIN_FEE, q * PER_SHARE), q * price * MAX_PCT / 100));
// The most whole shares (<= wanted) whose cost with the fee fits in cash.
function affordable(wanted, price, cash) {
  let n = Math.floor(wanted + 1e-9);
  if (!(cash > 0) || n < 1) return 0;
  n = Math.min(n, Math.floor(cash / price) + 1);
  while (n > 0 && n * price + fee(n, price) > cash) n -= 1;
  return n;
}

// The backtest as the docs define it (docs/architecture.md, "Trading"), from the bars alone:
// bars = [{symbol, rows: [{day: 'YYYY-MM-DD', open, high, low, close, volume}]}]; SMA(fast/slow)
// cross at 1/N each; trading from `from` (the strategy warms up on the sessions before it; no
// `from`: from the session after its warm-up).
// Returns {trades, curve}. Windows are summed afresh each bar (no running sums): plain and slow.
// With `incremental`, the window sums slide instead (what a fast implementation does; the bench's
// peer).
export function referenceBacktest(bars, { from, fast: FAST, slow: SLOW, incremental = false }) {
  const days = [...new Set(bars.flatMap((b) => b.rows.map((r) => r.day)))].sort();
  const N = bars.length;
  const byDay = bars.map((b) => new Map(b.rows.map((r) => [r.day, r])));
  const closes = bars.map(() => []);
  const sums = bars.map(() => [0, 0]);
  const qty = new Array(N).fill(0), price = new Array(N).fill(NaN), avg = new Array(N).fill(0);
  const signal = new Array(N).fill(-1), weight = new Array(N).fill(0), targetQty = new Array(N).fill(0);
  const managed = new Array(N).fill(false), resize = new Array(N).fill(false);
  let cash = CASH;
  // The first decision traded: the close before `from`, or without it the strategy's warm-up.
  const firstTraded = from === undefined ? SLOW : days.findIndex((d) => d >= from);
  const start = firstTraded > 0 ? firstTraded - 1 : 0;
  let pending = [];
  const trades = [], curve = [];
  for (let t = 0; t < days.length; t++) {
    const day = days[t];
    // Fills at the open.
    for (const o of pending) {
      const bar = byDay[o.i].get(day);
      if (!bar || !(bar.volume > 0)) continue;
      let q = Math.min(o.qty, Math.floor(PARTICIPATION * bar.volume + 1e-9));
      if (q <= 0) continue;
      const px = bar.open * (1 + o.side * SLIP);
      if (o.side > 0) q = Math.min(q, affordable(q, px, cash));
      if (q <= 0) continue;
      const f = fee(q, px);
      cash -= o.side * q * px + f;
      let realized = 0;
      if (qty[o.i] === 0 || Math.sign(qty[o.i]) === o.side) {
        avg[o.i] = (avg[o.i] * Math.abs(qty[o.i]) + px * q) / Math.abs(qty[o.i] + o.side * q);
        qty[o.i] += o.side * q;
      } else {
        realized = Math.min(q, Math.abs(qty[o.i])) * (px - avg[o.i]) * Math.sign(qty[o.i]);
        qty[o.i] += o.side * q;
        if (qty[o.i] === 0) avg[o.i] = 0;
      }
      trades.push({ day, symbol: bars[o.i].symbol, side: o.side > 0 ? 'buy' : 'sell', qty: q, price: px, commission: f, realized });
    }
    pending = [];
    const updated = [];
    for (let i = 0; i < N; i++) {
      const bar = byDay[i].get(day);
      if (bar) {
        updated.push(i);
        price[i] = bar.close;
        closes[i].push(bar.close);
      }
    }
    let net = 0, gross = 0;
    for (let i = 0; i < N; i++) {
      if (qty[i] === 0) continue;
      net += qty[i] * price[i];
      gross += Math.abs(qty[i] * price[i]);
    }
    const equity = cash + net;
    if (t >= start) curve.push({ day, equity });
    // SMA cross: a target of 1/N when the fast mean crosses above the slow one, 0 below.
    for (const i of updated) {
      const c = closes[i];
      const n = c.length;
      if (incremental) {
        // Window sums kept as they slide (re-added from scratch now and then, so rounding stays
        // far below the tie tolerance).
        if (n % 1024 === 0) {
          sums[i][0] = c.slice(Math.max(0, n - FAST)).reduce((a, b) => a + b, 0);
          sums[i][1] = c.slice(Math.max(0, n - SLOW)).reduce((a, b) => a + b, 0);
        } else {
          sums[i][0] += c[n - 1] - (n > FAST ? c[n - 1 - FAST] : 0);
          sums[i][1] += c[n - 1] - (n > SLOW ? c[n - 1 - SLOW] : 0);
        }
      }
      if (n < SLOW) continue;
      const mean = (k) => c.slice(n - k).reduce((a, b) => a + b, 0) / k;
      const f = incremental ? sums[i][0] / FAST : mean(FAST), sl = incremental ? sums[i][1] / SLOW : mean(SLOW);
      const s = f - sl > 1e-12 * Math.abs(sl) ? 1 : 0;  // a tie (to 1e-12) is flat
      if (s !== signal[i]) {
        signal[i] = s;
        weight[i] = s / N;
        managed[i] = true;
        resize[i] = true;
      }
    }
    if (t < start || t + 1 >= days.length) continue;
    // Orders: targets sized at this close, then each order cut to what the cash and the gross
    // exposure (1x equity) allow, reducing orders first.
    for (let i = 0; i < N; i++) {
      if (resize[i] && price[i] > 0) {
        const raw = weight[i] * equity / price[i];
        targetQty[i] = Math.trunc(raw + (raw > 0 ? 1e-9 : -1e-9)) + 0;
        resize[i] = false;
      }
    }
    const reducing = [], increasing = [];
    for (let i = 0; i < N; i++) {
      if (!managed[i] || resize[i]) continue;
      const delta = targetQty[i] - qty[i];
      if (Math.abs(delta) < 0.5) continue;
      const o = { i, side: delta > 0 ? 1 : -1, qty: Math.abs(delta) };
      (o.side * qty[i] < 0 ? reducing : increasing).push(o);
    }
    const book = { cash, gross, net, qty: [...qty] };
    for (const o of [...reducing, ...increasing]) {
      const p = price[o.i], q = book.qty[o.i];
      const reduces = o.side * q < 0;
      const posCap = (a) => (reduces ? Math.abs(q) + Math.max(a, 0) : Math.max(0, a - Math.abs(q)));
      const caps = [
        posCap((1.0 * equity - book.gross + Math.abs(q) * p) / p),
        Math.max(reduces ? Math.abs(q) : 0, (1.0 * equity - o.side * book.net) / p),
        posCap(1.0 * Math.max(equity, 0) / p),
        posCap(1e6 / p), 1e6 / p, 1e6,
      ];
      if (o.side < 0) caps.push(Math.max(q, 0));
      if (o.side > 0) caps.push(affordable(o.qty, p * (1 + SLIP), book.cash));
      const x = Math.min(Math.floor(o.qty + 1e-9), ...caps.map((c) => Math.max(0, Math.floor(c + 1e-9))));
      if (x <= 0) continue;
      const est = p * (1 + o.side * SLIP);
      book.cash -= o.side * x * est + fee(x, est);
      book.gross += (Math.abs(q + o.side * x) - Math.abs(q)) * p;
      book.net += o.side * x * p;
      book.qty[o.i] = q + o.side * x;
      pending.push({ i: o.i, side: o.side, qty: x });
    }
  }
  return { trades, curve };
}

