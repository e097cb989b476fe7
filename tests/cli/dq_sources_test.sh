# `trib dq` on real data: the rules across rows (jumps no split explains, missing sessions, stale
# bars) and vendors that overlap (`--conflicts`): Lean's raw bars against Yahoo's chart (its
# split-adjusted prices turned back into raw ones) and Stooq's dividend-adjusted SPY; the
# precedence decides whose row the lake keeps, whatever order the files arrive in.
source "$(dirname "$0")/lib.sh"
LEAN="$TRIB_SHARED_DATA/equities-daily/lean-us-equity-daily"
YAHOO="$TRIB_SHARED_DATA/vendor-samples/yahoo/chart/chart-AAPL-2020-08-31-to-2020-11-07.json"
STOOQ="$TRIB_SHARED_DATA/vendor-samples/stooq/spy_us_daily.csv"
[ -d "$LEAN" ] && [ -f "$YAHOO" ] || { echo "skip: no ../shared/data"; exit 0; }
# The chart answer as a user would have saved it (the recording wraps it), dated when it was fetched.
jq '.response.bodyJson' "$YAHOO" > aapl-chart.json
touch -d "$(jq -r '.response.headers.date' "$YAHOO")" aapl-chart.json

"$TRIB_BIN" init ws > /dev/null
for s in aapl wm bno; do "$TRIB_BIN" -w ws ingest --vendor csv --file "$LEAN/raw/$s.csv" > /dev/null; done

# Rules across rows, each on its real example.
out=$("$TRIB_BIN" -w ws dq)
grep -qE "^unexplained_jump +[0-9]+ +3  AAPL" <<< "$out" && pass "the summary counts each rule's findings and symbols" || fail "dq: $out"
"$TRIB_BIN" -w ws dq --json > dq.json
count() { jq --arg r "$1" --arg s "$2" '[.findings[] | select(.rule == $r and .symbol == $s)] | length' dq.json; }
[ "$(count unexplained_jump AAPL)" == 5 ] && pass "AAPL's 4 splits and its 2000 crash are jumps" || fail "AAPL jumps: $(count unexplained_jump AAPL)"
[ "$(count missing_sessions WM)" -ge 1 ] && pass "WM's missing sessions" || fail "WM: $(count missing_sessions WM)"
[ "$(count stale_bars BNO)" == 1 ] && pass "BNO's stale run" || fail "BNO: $(count stale_bars BNO)"
out=$("$TRIB_BIN" -w ws dq --symbol AAPL --rule unexplained_jump)
grep -q "on 2014-06-09 after .*near a 7:1 split's ratio" <<< "$out" && pass "the 2014 jump named as a 7:1 split" || fail "jumps: $out"
total=$("$TRIB_BIN" -w ws dq --symbol WM --rule missing_sessions --json | jq '[.findings[].count] | add')
[ "$total" == 214 ] && pass "WM misses 214 sessions (counted against exchange_calendars)" || fail "WM missing: $total"
"$TRIB_BIN" -w ws actions import "$LEAN/factor_files/aapl.csv" > /dev/null
out=$("$TRIB_BIN" -w ws dq --symbol AAPL --rule unexplained_jump --json | jq -r '[.findings[].first] | join(" ")')
[ "$out" == "2000-09-29" ] && pass "with Lean's actions only the real crash is left" || fail "after import: $out"
sed -i 's/^stale_sessions = 5/stale_sessions = 6/' ws/trib.toml
out=$("$TRIB_BIN" -w ws dq --rule stale_bars --json | jq '.findings | length')
[ "$out" == 0 ] && pass "[quality] stale_sessions = 6: no stale run" || fail "stale with 6: $out"

# Two vendors for AAPL: Lean's raw bars win by [prices] bar_precedence; Yahoo's rows are kept aside.
"$TRIB_BIN" -w ws ingest --vendor yahoo --file aapl-chart.json --symbol AAPL > /dev/null
out=$("$TRIB_BIN" -w ws dq --conflicts)
grep -q "AAPL: 49 row(s) of yahoo overlap, 1 disagree; yahoo's close / the curated close: median 1.0000" <<< "$out" && pass "49 overlapping sessions, closes equal on the raw basis" || fail "conflicts: $out"
grep -qE "^AAPL +2020-11-03 +high +0\.56%  csv" <<< "$out" && pass "the one disagreement: 2020-11-03's high" || fail "conflicts: $out"
"$TRIB_BIN" -w ws bars AAPL --from 2020-08-31 --to 2020-11-06 --format csv > a.csv
[ "$(cut -d, -f8 a.csv | sort | uniq -c | tr -s ' ' | sed 's/^ //' | tr '\n' ' ')" == "49 csv 1 source " ] && pass "the curated rows are Lean's" || fail "sources: $(cut -d, -f8 a.csv | sort | uniq -c)"

# The other order gives the same lake and the same findings.
"$TRIB_BIN" init ws2 > /dev/null
"$TRIB_BIN" -w ws2 ingest --vendor yahoo --file aapl-chart.json --symbol AAPL > /dev/null
"$TRIB_BIN" -w ws2 ingest --vendor csv --file "$LEAN/raw/aapl.csv" > /dev/null
"$TRIB_BIN" -w ws2 actions import "$LEAN/factor_files/aapl.csv" > /dev/null
"$TRIB_BIN" -w ws bars AAPL --format csv > one.csv
"$TRIB_BIN" -w ws2 bars AAPL --format csv > two.csv
cmp -s one.csv two.csv && pass "Yahoo first or Lean first: the same $(wc -l < one.csv) lines" || fail "order matters: $(diff one.csv two.csv | head -4)"
out=$("$TRIB_BIN" -w ws2 dq --conflicts)
grep -q "AAPL: 49 row(s) of yahoo overlap, 1 disagree" <<< "$out" && pass "the same conflicts either way" || fail "ws2 conflicts: $out"

# Another precedence, re-applied to everything by a rebuild: Yahoo's rows win, Lean's are the others.
sed -i 's/^bar_precedence = .*/bar_precedence = "yahoo,csv"/' ws2/trib.toml
"$TRIB_BIN" -w ws2 etl --rebuild > /dev/null
src=$("$TRIB_BIN" -w ws2 bars AAPL --from 2020-11-03 --to 2020-11-03 --format csv | tail -1)
grep -qE "^2020-11-03,[^,]*,109\.66[0-9]*,111\.4[89][0-9]*,.*,yahoo$" <<< "$src" && pass "bar_precedence = yahoo,csv: Yahoo's row (raw basis) $src" || fail "row: $src"
out=$("$TRIB_BIN" -w ws2 dq --conflicts)
grep -q "AAPL: 49 row(s) of csv overlap, 1 disagree" <<< "$out" && pass "now Lean's rows are the other vendor's" || fail "swapped: $out"

# Stooq's SPY is dividend-adjusted up to its fetch, past Lean's last factor (2021): a steady offset.
if [ -f "$STOOQ" ]; then
  "$TRIB_BIN" -w ws ingest --vendor csv --file "$LEAN/raw/spy.csv" > /dev/null
  "$TRIB_BIN" -w ws actions import "$LEAN/factor_files/spy.csv" > /dev/null
  "$TRIB_BIN" -w ws ingest --vendor stooq --file "$STOOQ" > /dev/null
  out=$("$TRIB_BIN" -w ws dq --conflicts --symbol SPY)
  grep -qE "SPY: 780 row\(s\) of stooq overlap, 780 disagree; .*a steady offset: stooq adjusted for actions the catalog does not hold" <<< "$out" && pass "Stooq's offset named" || fail "stooq: $out"
fi
# A Yahoo download through the csv vendor: its Close is split-adjusted (as of the download), which
# its Adj Close column gives away; read back into raw prices, never adjusted twice. NVDA's chart
# answer (fetched 2025-02-22, after the 2021 4:1 and 2024 10:1 splits) written as Yahoo's CSV.
NVDA="$TRIB_SHARED_DATA/vendor-samples/yahoo/chart/historical-via-chart-NVDA-split-2021-02-01-to-2022-01-31.csv.json"
jq -r '.response.bodyJson.chart.result[0] as $r | $r.indicators.quote[0] as $q | "Date,Open,High,Low,Close,Adj Close,Volume",
  (range($r.timestamp | length) as $i | [($r.timestamp[$i] | strftime("%Y-%m-%d")), $q.open[$i], $q.high[$i], $q.low[$i],
   $q.close[$i], $r.indicators.adjclose[0].adjclose[$i], $q.volume[$i]] | @csv)' "$NVDA" > NVDA.csv
touch -d "$(jq -r '.response.headers.date' "$NVDA")" NVDA.csv
"$TRIB_BIN" init ws3 > /dev/null
"$TRIB_BIN" -w ws3 ingest --vendor csv --file NVDA.csv > /dev/null
printf 'symbol,kind,ex_date,ratio\nNVDA,split,2021-07-20,4\nNVDA,split,2024-06-10,10\n' > nvda-splits.csv
"$TRIB_BIN" -w ws3 actions import nvda-splits.csv > /dev/null
row=$("$TRIB_BIN" -w ws3 bars NVDA --from 2021-02-01 --to 2021-02-01 --format csv | tail -1)
close=$(cut -d, -f6 <<< "$row")
awk -v c="$close" 'BEGIN { exit !(c > 529.47 && c < 529.49) }' && [ "$(cut -d, -f8 <<< "$row")" == "csv:split" ] \
  && pass "Yahoo CSV declared split-adjusted by its header: 2021-02-01 reads as traded, 529.48 ($row)" || fail "nvda: $row"
split=$("$TRIB_BIN" -w ws3 bars NVDA --from 2021-02-01 --to 2021-02-01 --adjust split --format csv | tail -1 | cut -d, -f6)
awk -v c="$split" 'BEGIN { exit !(c > 13.236 && c < 13.238) }' && pass "split-adjusted once: $split (Yahoo's own value)" || fail "split: $split"
"$TRIB_BIN" init ws4 > /dev/null
"$TRIB_BIN" -w ws4 ingest --vendor csv --file NVDA.csv --price-basis raw > /dev/null
raw=$("$TRIB_BIN" -w ws4 bars NVDA --from 2021-02-01 --to 2021-02-01 --format csv | tail -1 | cut -d, -f6)
awk -v c="$raw" 'BEGIN { exit !(c < 14) }' && pass "--price-basis raw takes the file at its word: $raw" || fail "raw: $raw"
expect_error "bad basis" 2 "--price-basis 'adjusted' is not known; use auto, raw, split or total" -- \
  "$TRIB_BIN" -w ws4 ingest --vendor csv --file NVDA.csv --price-basis adjusted
expect_error "vendor file with no symbol" 2 "its name does not say which symbol" -- "$TRIB_BIN" -w ws ingest --vendor yahoo --file aapl-chart.json
expect_error "sim file" 2 "sim takes --symbol, --from and --to" -- "$TRIB_BIN" -w ws ingest --vendor sim --file a.csv
finish
