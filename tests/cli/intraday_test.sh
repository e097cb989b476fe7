# Minute bars from the command line: Lean's minute files and FXCM's 24x5 bid minutes; refusals
# that name the fix (no --timeframe, FX on the NYSE calendar, a quote file, a width that does not
# divide a day); the rules across rows see intraday sessions right.
source "$(dirname "$0")/lib.sh"
MIN="$TRIB_SHARED_DATA/intraday/lean-us-equity-minute/raw"
FX="$TRIB_SHARED_DATA/intraday/fxcm/usdjpy-m1-ask-2013.csv"
[ -d "$MIN" ] && [ -f "$FX" ] || { echo "skip: no ../shared/data"; exit 0; }
"$TRIB_BIN" init ws > /dev/null

expect_error "minutes without --timeframe" 2 "holds Lean minute bars; ingest it with --timeframe 1m" -- \
  "$TRIB_BIN" -w ws ingest --vendor csv --file "$MIN/spy/20131004_spy_minute_trade.csv"
expect_error "a quote file" 2 "Lean minute quote file" -- \
  "$TRIB_BIN" -w ws ingest --vendor csv --file "$MIN/spy/20131004_spy_minute_quote.csv" --timeframe 1m
expect_error "FX on the NYSE calendar" 2 "fall outside nyse sessions .*ingest it with --calendar fx" -- \
  "$TRIB_BIN" -w ws ingest --vendor csv --file "$FX" --timeframe 1m
expect_error "bad calendar" 2 "calendar 'lse' is not known; use 'nyse' or 'fx'" -- \
  "$TRIB_BIN" -w ws ingest --vendor csv --file "$FX" --timeframe 1m --calendar lse

out=$("$TRIB_BIN" -w ws ingest --vendor csv --file "$MIN/spy/*_trade.csv" --timeframe 1m)
grep -q "rows: 5786 in, 5786 curated, 0 quarantined" <<< "$out" && pass "SPY: Lean's 5,786 minute bars" || fail "spy: $out"
out=$("$TRIB_BIN" -w ws ingest --vendor csv --file "$FX" --timeframe 1m --calendar fx)
grep -q "USDJPY.ASK: 28761 rows in, 28761 curated" <<< "$out" && pass "USDJPY.ASK: 28,761 minutes on the fx calendar" || fail "fx: $out"

d=$("$TRIB_BIN" -w ws bars SPY --timeframe 1d --format csv)
[ "$(wc -l <<< "$d")" == 8 ] && pass "SPY: 7 daily bars grouped from minutes" || fail "spy daily: $d"
grep -q "^2013-10-04,2013-10-04T13:30:00Z," <<< "$d" && pass "a daily bar's time is the 09:30 open" || fail "spy daily: $d"
h=$("$TRIB_BIN" -w ws bars USDJPY.ASK --timeframe 4h --from 2013-02-04 --to 2013-02-04 --format csv)
# Monday's session starts Sunday 17:00 New York (22:00 UTC): its first 4-hour bar is the clock
# bucket 20:00-24:00 UTC, holding 22:00 onwards.
[ "$(sed -n 2p <<< "$h" | cut -d, -f1-2)" == "2013-02-04,2013-02-03T20:00:00Z" ] && pass "Monday's fx session starts Sunday evening (4h bars)" || fail "4h: $h"
expect_error "width" 2 "--timeframe '7m' is not known; use minutes or hours that divide a day" -- \
  "$TRIB_BIN" -w ws bars SPY --timeframe 7m

dq=$("$TRIB_BIN" -w ws dq --timeframe 1m --json)
[ "$(jq '[.findings[] | select(.rule == "session_mismatch")] | length' <<< "$dq")" == 0 ] && pass "no minute bar outside its session" || fail "dq: $dq"
# A backtest on the minute bars: decisions at each minute's close fill at the next minute's open;
# the metrics are on the 7 sessions' closes.
bt=$("$TRIB_BIN" -w ws backtest --symbol SPY --timeframe 1m --fast 5 --slow 20 --benchmark SPY --no-save --json)
trades=$(jq .trades <<< "$bt"); sessions=$(jq .sessions <<< "$bt")
[ "$trades" -gt 50 ] && [ "$sessions" -ge 6 ] && [ "$sessions" -le 7 ] \
  && pass "SPY minute backtest: $trades trades over $sessions sessions' daily returns" || fail "minute backtest: $bt"
finish
