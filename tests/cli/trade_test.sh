# trib trade as a user runs it, on 10 stocks of the Kaggle S&P 500 file: SMA(10/30) paper trading
# session by session over Jan-Mar 2016 gives exactly the orders and fills of `trib backtest` over
# the same sessions; a rerun sends nothing twice; stale data is refused; one strategy per account;
# a restricted symbol is denied without taking its order id and is placed once the limit goes;
# halt and resume.
source "$(dirname "$0")/lib.sh"

src="$TRIB_SHARED_DATA/equities-daily/all_stocks_5yr.csv.zst"
[ -f "$src" ] || { fail "no $src"; exit 1; }
SYMBOLS="AAPL MSFT AMZN JPM XOM DHR BMY KO PFE GOOG"
UNIVERSE=$(echo $SYMBOLS | tr ' ' ',')
# Complete, consistent rows only (the quarantine is another test's subject).
zstd -q -d -c "$src" | awk -F, -v keep="$SYMBOLS" 'BEGIN { n = split(keep, k, " "); for (i = 1; i <= n; i++) want[k[i]] = 1 }
  NR == 1 || (($7 in want) && $2 != "" && $3 != "" && $4 != "" && $5 != "" && $6 != "" &&
              $4 <= ($2 < $5 ? $2 : $5) && $3 >= ($2 > $5 ? $2 : $5))' > stocks.csv
"$TRIB_BIN" init ws > /dev/null
"$TRIB_BIN" -w ws ingest --vendor csv --file stocks.csv > /dev/null
STRAT=(--universe "$UNIVERSE" --fast 10 --slow 30)

# Paper trading, one cycle per session, each a fresh process.
sessions=$(awk -F, '$7 == "AAPL" && $1 >= "2016-01-04" && $1 <= "2016-03-31" { print $1 }' stocks.csv)
for d in $sessions; do
  "$TRIB_BIN" -w ws trade "${STRAT[@]}" --session "$d" --json >> cycles.jsonl
done
n=$(wc -l < cycles.jsonl)
[ "$n" -ge 60 ] && pass "$n paper cycles" || fail "cycles: $n"
first=$(echo "$sessions" | head -1); second=$(echo "$sessions" | sed -n 2p); last=$(echo "$sessions" | tail -1)
bt=$("$TRIB_BIN" -w ws backtest "${STRAT[@]}" --from "$second" --to "$last" --json)
run_dir="ws/lake/$(jq -r .saved <<< "$bt")"
"$TRIB_BIN" parquet cat "$run_dir/trades.parquet" --columns session_date,symbol,side,qty,price,commission \
  | tail -n +2 | awk -F, '{ printf "%s,%s,%s,%d,%.6f,%.6f\n", $1, $2, $3, $4, $5, $6 }' > backtest_trades.csv
sqlite3 -csv ws/catalog.db "SELECT date(f.ts_ns / 1000000000, 'unixepoch'), f.symbol, f.side, f.qty_micros / 1000000,
    f.price_micros / 1e6, f.commission_micros / 1e6 FROM ledger_fills f JOIN ledger_orders o USING (client_order_id)
    ORDER BY o.created_at_ns" | awk -F, '{ printf "%s,%s,%s,%d,%.6f,%.6f\n", $1, $2, $3, $4, $5, $6 }' > paper_fills.csv
trades=$(wc -l < backtest_trades.csv)
if [ "$trades" -gt 20 ] && diff -q backtest_trades.csv paper_fills.csv > /dev/null; then
  pass "paper fills = backtest trades, $trades of them (date, symbol, side, qty, price and fee to the micro-unit)"
else
  fail "paper and backtest differ ($trades backtest trades): $(diff backtest_trades.csv paper_fills.csv | head -5)"
fi
# The run is saved once: a rerun is the same run id, the same bytes, one catalog record.
before=$(sha256sum "$run_dir"/* | sort)
bt2=$("$TRIB_BIN" -w ws backtest "${STRAT[@]}" --from "$second" --to "$last" --json)
[ "$(jq -r .run_id <<< "$bt2")" == "$(jq -r .run_id <<< "$bt")" ] && [ "$(sha256sum "$run_dir"/* | sort)" == "$before" ] \
  && [ "$(sqlite3 ws/catalog.db "SELECT count(*) FROM runs WHERE kind = 'backtest'")" == 1 ] \
  && pass "a rerun of the backtest: run $(jq -r .run_id <<< "$bt"), same files, one catalog run" || fail "backtest rerun"
grep -q '"max_order_notional": 1000000.0' "$run_dir/result.json" && grep -q 'fast = 10' "$run_dir/result.json" \
  && pass "result.json holds the parameters and the config" || fail "result.json: $(head -c 300 "$run_dir/result.json")"
equity=$(tail -1 cycles.jsonl | jq .equity)
bt_equity=$(jq .final_equity <<< "$bt")
node -e "process.exit(Math.abs($equity - $bt_equity) < 0.01 ? 0 : 1)" && pass "paper equity $equity = backtest $bt_equity" \
  || fail "equity: paper $equity, backtest $bt_equity"

# A rerun of the last session sends nothing.
orders=$(sqlite3 ws/catalog.db "SELECT count(*) FROM ledger_orders")
again=$("$TRIB_BIN" -w ws trade "${STRAT[@]}" --session "$last" --json)
[ "$(jq -r .action <<< "$again")" == already_ran ] && [ "$(sqlite3 ws/catalog.db 'SELECT count(*) FROM ledger_orders')" == "$orders" ] \
  && pass "a rerun for $last: already_ran, still $orders orders" || fail "rerun: $again"

expect_error "stale data refused" 2 "stale data: the newest curated session of the universe is 2018-02-07" -- \
  "$TRIB_BIN" -w ws trade "${STRAT[@]}"
expect_error "one strategy per account" 4 "account paper trades sma_cross\(fast=10,slow=30\)" -- \
  "$TRIB_BIN" -w ws trade --universe "$UNIVERSE" --fast 5 --slow 30 --session 2016-04-01
expect_error "a future session" 2 "has not closed yet" -- "$TRIB_BIN" -w ws trade "${STRAT[@]}" --session 2099-01-02

# Halt and resume, persisted in the catalog.
"$TRIB_BIN" -w ws halt --reason "earnings week" | grep -q "account paper: HALTED (trib halt: earnings week)" \
  && pass "halted" || fail "halt"
h=$("$TRIB_BIN" -w ws trade "${STRAT[@]}" --session 2016-04-01 --json)
[ "$(jq -r .action <<< "$h")" == halted ] && [ "$(jq '.orders | length' <<< "$h")" == 0 ] && pass "a halted cycle sends nothing" \
  || fail "halted cycle: $h"
"$TRIB_BIN" -w ws resume | grep -q "account paper: ACTIVE" && pass "resumed" || fail "resume"
r=$("$TRIB_BIN" -w ws trade "${STRAT[@]}" --session 2016-04-04 --json)
[ "$(jq -r .state <<< "$r")" == ACTIVE ] && pass "trading again after resume: $(jq -r .action <<< "$r")" || fail "after resume: $r"

# A restricted symbol: denied with its reason, no order id taken; placed once the limit goes.
"$TRIB_BIN" init ws2 > /dev/null
"$TRIB_BIN" -w ws2 ingest --vendor csv --file stocks.csv > /dev/null
sed -i 's/^restricted = .*/restricted = "AAPL"/' ws2/trib.toml
"$TRIB_BIN" -w ws2 trade --universe AAPL,MSFT --strategy buy_and_hold --session 2016-01-04 > denied.txt
grep -q "denied buy .* AAPL: restricted" denied.txt && pass "denial shown: $(grep denied denied.txt)" || fail "denial: $(cat denied.txt)"
[ "$(sqlite3 ws2/catalog.db "SELECT count(*) FROM risk_denials WHERE symbol = 'AAPL' AND rule = 'restricted'")" == 1 ] \
  && [ "$(sqlite3 ws2/catalog.db "SELECT count(*) FROM ledger_orders WHERE symbol = 'AAPL'")" == 0 ] \
  && pass "the denial is recorded and takes no order id" || fail "ledger after denial"
sed -i 's/^restricted = .*/restricted = ""/' ws2/trib.toml
"$TRIB_BIN" -w ws2 trade --universe AAPL,MSFT --strategy buy_and_hold --session 2016-01-05 --json > placed.json
[ "$(jq '[.orders[] | select(.symbol == "AAPL")] | length' placed.json)" == 1 ] && pass "placed after the limit changed" \
  || fail "after the change: $(cat placed.json)"
finish
