"""Python twins of the engine's built-in strategies (src/trading/strategies.cpp), written from
their documented rules with the same arithmetic, so a backtest of either gives the same fills."""

import tributary


class SmaCross(tributary.Strategy):
    """Long 1/N while SMA(fast) of the closes is above SMA(slow) by more than 1e-12 of it."""

    def __init__(self, fast=10, slow=30):
        self.fast, self.slow = fast, slow
        self.params = {"fast": fast, "slow": slow}
        self.warmup_bars = slow
        self.state = {}  # symbol -> [fast sum, slow sum, signal]

    def on_bar(self, view, portfolio):
        weight = 1.0 / len(view)
        out = {}
        for symbol in view.updated:
            st = self.state.setdefault(symbol, [0.0, 0.0, -1])
            c = view.close(symbol)
            n = len(c)
            # Running sums, re-summed from the window every `slow` bars (as the engine does).
            if n % self.slow == 0:
                st[0] = self._sum(c, n, self.fast)
                st[1] = self._sum(c, n, self.slow)
            else:
                st[0] += c[n - 1] - (c[n - 1 - self.fast] if n > self.fast else 0.0)
                st[1] += c[n - 1] - (c[n - 1 - self.slow] if n > self.slow else 0.0)
            if n < self.slow:
                continue
            fast_mean, slow_mean = st[0] / self.fast, st[1] / self.slow
            signal = 1 if fast_mean - slow_mean > 1e-12 * abs(slow_mean) else 0
            if signal != st[2]:
                st[2] = signal
                out[symbol] = signal * weight
        return out

    @staticmethod
    def _sum(c, n, w):
        s = 0.0
        for k in range(n - min(n, w), n):
            s += c[k]
        return s


class Momentum(tributary.Strategy):
    """Every `rebalance_days` sessions hold the `top_k` best returns from `lookback` to `skip`
    sessions ago at 1/top_k each; ties go to the lower symbol index."""

    def __init__(self, lookback=60, skip=5, top_k=2, rebalance_days=21):
        self.lookback, self.skip, self.top_k, self.rebalance_days = lookback, skip, top_k, rebalance_days
        self.params = dict(lookback=lookback, skip=skip, top_k=top_k, rebalance_days=rebalance_days)
        self.warmup_bars = lookback + 1
        self.held = set()
        self.rebalanced = False
        self.since = 0

    def on_bar(self, view, portfolio):
        self.since += 1
        if self.rebalanced and self.since < self.rebalance_days:
            return None
        scores = []
        for symbol in view.updated:
            c = view.close(symbol)
            n = len(c)
            if n < self.lookback + 1:
                continue
            scores.append((c[n - 1 - self.skip] / c[n - 1 - self.lookback] - 1.0, view.index(symbol), symbol))
        if not scores:
            return None
        scores.sort(key=lambda s: (-s[0], s[1]))
        keep = [s[2] for s in scores[: self.top_k]]
        out = {}
        for symbol in view.symbols:
            if symbol in self.held and symbol not in keep:
                out[symbol] = 0.0
        self.held = set(keep)
        for symbol in keep:
            out[symbol] = 1.0 / self.top_k
        self.rebalanced = True
        self.since = 0
        return out
