// The shipped strategies. Each keeps its state per symbol and touches only the symbols that
// traded this session.
#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

#include "trib/core/config.hpp"
#include "trib/core/error.hpp"
#include "trib/trading/strategy.hpp"

namespace trib::trading {
namespace {

class SmaCross final : public Strategy {
 public:
  SmaCross(int fast, int slow) : fast_(fast), slow_(slow) {
    if (fast < 1 || fast >= slow) {
      throw Error::InvalidInput(fmt::format("sma_cross: needs 1 <= fast < slow, got fast={} slow={}", fast, slow));
    }
  }
  std::string name() const override { return "sma_cross"; }
  std::string params() const override { return fmt::format("fast={},slow={}", fast_, slow_); }
  int warmup_bars() const override { return slow_; }

  void on_bar(const MarketView& market, const Portfolio&, Decision& out) override {
    if (state_.empty()) state_.resize(market.size());
    const double weight = 1.0 / static_cast<double>(market.size());
    for (size_t i : market.updated()) {
      State& st = state_[i];
      const auto c = market.close(i);
      const size_t n = c.size();
      // Running sums, re-summed from the window every `slow` bars so rounding cannot drift.
      if (n % static_cast<size_t>(slow_) == 0) {
        st.fast = sum(c, n, fast_);
        st.slow = sum(c, n, slow_);
      } else {
        st.fast += c[n - 1] - (n > static_cast<size_t>(fast_) ? c[n - 1 - fast_] : 0.0);
        st.slow += c[n - 1] - (n > static_cast<size_t>(slow_) ? c[n - 1 - slow_] : 0.0);
      }
      if (n < static_cast<size_t>(slow_)) continue;
      // Strictly above: equal averages (a flat market) stay flat. Prices in cents make exact ties
      // (IPG on 2016-10-07: both means 22.7332); within 1e-12 the means count as equal, so the
      // rounding of a running sum cannot decide a tie.
      const double fast_mean = st.fast / fast_, slow_mean = st.slow / slow_;
      const int signal = fast_mean - slow_mean > 1e-12 * std::fabs(slow_mean) ? 1 : 0;
      if (signal != st.signal) {
        st.signal = signal;
        out.target(i, signal * weight);
      }
    }
  }

 private:
  static double sum(std::span<const double> c, size_t n, int w) {
    double s = 0;
    for (size_t k = n - std::min(n, static_cast<size_t>(w)); k < n; ++k) s += c[k];
    return s;
  }
  struct State {
    double fast = 0, slow = 0;
    int signal = -1;  // unknown until the first full window
  };
  int fast_, slow_;
  std::vector<State> state_;
};

class Momentum final : public Strategy {
 public:
  Momentum(int lookback, int skip, int top_k, int rebalance_days)
      : lookback_(lookback), skip_(skip), top_k_(top_k), rebalance_days_(rebalance_days) {
    if (lookback < 1 || skip < 0 || skip >= lookback || top_k < 1 || rebalance_days < 1) {
      throw Error::InvalidInput(fmt::format(
          "momentum: needs lookback >= 1, 0 <= skip < lookback, top_k >= 1, rebalance_days >= 1; got lookback={} "
          "skip={} top_k={} rebalance_days={}",
          lookback, skip, top_k, rebalance_days));
    }
  }
  std::string name() const override { return "momentum"; }
  std::string params() const override {
    return fmt::format("lookback={},skip={},top_k={},rebalance_days={}", lookback_, skip_, top_k_, rebalance_days_);
  }
  int warmup_bars() const override { return lookback_ + 1; }

  void on_bar(const MarketView& market, const Portfolio&, Decision& out) override {
    if (held_.empty()) held_.assign(market.size(), 0);
    ++sessions_since_;
    if (rebalanced_ && sessions_since_ < rebalance_days_) return;
    scores_.clear();
    for (size_t i : market.updated()) {
      const auto c = market.close(i);
      const size_t n = c.size();
      if (n < static_cast<size_t>(lookback_) + 1) continue;
      scores_.emplace_back(c[n - 1 - skip_] / c[n - 1 - lookback_] - 1.0, i);
    }
    if (scores_.empty()) return;
    // Best first; ties to the lower index.
    std::sort(scores_.begin(), scores_.end(), [](const auto& a, const auto& b) {
      return a.first != b.first ? a.first > b.first : a.second < b.second;
    });
    const size_t k = std::min(scores_.size(), static_cast<size_t>(top_k_));
    std::vector<char> keep(market.size(), 0);
    for (size_t r = 0; r < k; ++r) keep[scores_[r].second] = 1;
    for (size_t i = 0; i < market.size(); ++i) {
      if (held_[i] && !keep[i]) out.target(i, 0.0);
      held_[i] = keep[i];
    }
    for (size_t r = 0; r < k; ++r) out.target(scores_[r].second, 1.0 / top_k_);
    rebalanced_ = true;
    sessions_since_ = 0;
  }

 private:
  int lookback_, skip_, top_k_, rebalance_days_;
  bool rebalanced_ = false;
  int sessions_since_ = 0;
  std::vector<char> held_;
  std::vector<std::pair<double, size_t>> scores_;
};

class TopkDropout final : public Strategy {
 public:
  TopkDropout(int top_k, int drop_n, std::string model) : top_k_(top_k), drop_n_(drop_n), model_(std::move(model)) {
    if (top_k < 1 || drop_n < 0 || drop_n > top_k) {
      throw Error::InvalidInput(
          fmt::format("topk_dropout: needs top_k >= 1 and 0 <= drop_n <= top_k, got top_k={} drop_n={}", top_k, drop_n));
    }
    if (model_.empty()) {
      throw Error::InvalidInput(
          "topk_dropout: name the model whose predictions rank the symbols ([strategy] model or --model; trib ml list)");
    }
  }
  std::string name() const override { return "topk_dropout"; }
  std::string params() const override { return fmt::format("top_k={},drop_n={},model={}", top_k_, drop_n_, model_); }
  int warmup_bars() const override { return 1; }
  std::string model() const override { return model_; }

  void on_bar(const MarketView& market, const Portfolio&, Decision& out) override {
    if (held_.empty()) held_.assign(market.size(), 0);
    const Date today = market.date();
    // Today's score; a name without a prediction for today ranks last.
    auto score = [&](size_t i) {
      const auto d = market.prediction_date(i);
      return d && *d == today ? *market.prediction(i) : -INFINITY;
    };
    auto better = [&](size_t a, size_t b) {
      const double sa = score(a), sb = score(b);
      return sa != sb ? sa > sb : a < b;
    };
    bool any = false;
    for (size_t i : market.updated()) any = any || std::isfinite(score(i));
    if (!any) return;  // no predictions today: nothing to rank on

    std::vector<size_t> last, candidates;
    for (size_t i = 0; i < market.size(); ++i) {
      if (held_[i]) last.push_back(i);
    }
    for (size_t i : market.updated()) {
      if (!held_[i] && std::isfinite(score(i))) candidates.push_back(i);
    }
    std::sort(last.begin(), last.end(), better);
    std::sort(candidates.begin(), candidates.end(), better);
    const size_t want = static_cast<size_t>(drop_n_) + static_cast<size_t>(top_k_) - std::min(last.size(), static_cast<size_t>(top_k_));
    if (candidates.size() > want) candidates.resize(want);
    // The worst drop_n of held + candidates: the held names among them are sold (if they can
    // trade today).
    std::vector<size_t> comb = last;
    comb.insert(comb.end(), candidates.begin(), candidates.end());
    std::sort(comb.begin(), comb.end(), better);
    std::vector<char> bottom(market.size(), 0);
    for (size_t r = comb.size() - std::min(comb.size(), static_cast<size_t>(drop_n_)); r < comb.size(); ++r) bottom[comb[r]] = 1;
    size_t sold = 0;
    for (size_t i : last) {
      if (bottom[i] && market.has_bar(i)) {
        held_[i] = 0;
        out.target(i, 0.0);
        ++sold;
      }
    }
    const size_t room = sold + static_cast<size_t>(top_k_) - std::min(last.size(), static_cast<size_t>(top_k_));
    for (size_t r = 0; r < std::min(room, candidates.size()); ++r) {
      held_[candidates[r]] = 1;
      out.target(candidates[r], 1.0 / top_k_);
    }
  }

 private:
  int top_k_, drop_n_;
  std::string model_;
  std::vector<char> held_;
};

class BuyAndHold final : public Strategy {
 public:
  std::string name() const override { return "buy_and_hold"; }
  std::string params() const override { return ""; }
  int warmup_bars() const override { return 1; }
  void on_bar(const MarketView& market, const Portfolio&, Decision& out) override {
    if (started_.empty()) started_.assign(market.size(), 0);
    for (size_t i : market.updated()) {
      if (!started_[i]) {
        started_[i] = 1;
        out.target(i, 1.0 / static_cast<double>(market.size()));
      }
    }
  }

 private:
  std::vector<char> started_;
};

}  // namespace

std::unique_ptr<Strategy> make_sma_cross(int fast, int slow) { return std::make_unique<SmaCross>(fast, slow); }
std::unique_ptr<Strategy> make_momentum(int lookback, int skip, int top_k, int rebalance_days) {
  return std::make_unique<Momentum>(lookback, skip, top_k, rebalance_days);
}
std::unique_ptr<Strategy> make_topk_dropout(int top_k, int drop_n, std::string model) {
  return std::make_unique<TopkDropout>(top_k, drop_n, std::move(model));
}
std::unique_ptr<Strategy> make_buy_and_hold() { return std::make_unique<BuyAndHold>(); }

std::unique_ptr<Strategy> make_strategy(const StrategyConfig& c) {
  if (c.name == "sma_cross") return make_sma_cross(c.fast, c.slow);
  if (c.name == "momentum") return make_momentum(c.lookback, c.skip, c.top_k, c.rebalance_days);
  if (c.name == "topk_dropout") return make_topk_dropout(c.top_k, c.drop_n, c.model);
  if (c.name == "buy_and_hold") return make_buy_and_hold();
  throw Error::InvalidInput(
      fmt::format("strategy '{}' is not known; use sma_cross, momentum, topk_dropout or buy_and_hold", c.name));
}

}  // namespace trib::trading
