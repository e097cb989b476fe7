# Time travel and maintenance on real data (Lean's AAPL): `--as-of` reads the lake as it was
# (each partition's version then, partitions not yet committed left out); `trib vacuum` removes
# only replaced versions no --as-of in its window needs (dry run by default, never the live one);
# `trib verify` rebuilds every partition from raw in scratch space and finds what raw does not
# explain.
source "$(dirname "$0")/lib.sh"
LEAN="$TRIB_SHARED_DATA/equities-daily/lean-us-equity-daily"
[ -d "$LEAN" ] || { echo "skip: no ../shared/data"; exit 0; }
stamp() { date -u +%Y-%m-%dT%H:%M:%S.%NZ; }
"$TRIB_BIN" init ws > /dev/null
t0=$(stamp); sleep 1
"$TRIB_BIN" -w ws ingest --vendor csv --file "$LEAN/raw/aapl.csv" --to 2010-12-31 > /dev/null
sleep 1; t1=$(stamp); sleep 1
"$TRIB_BIN" -w ws ingest --vendor csv --file "$LEAN/raw/aapl.csv" > /dev/null
# A user's correction of one session, from a later file (the same vendor: the later fetch wins).
printf 'Date,Open,High,Low,Close,Volume\n2005-06-01,40.0,40.5,39.5,40.25,1000\n' > aapl-fix.csv
"$TRIB_BIN" -w ws ingest --vendor csv --file aapl-fix.csv --symbol AAPL > /dev/null
sleep 1; t2=$(stamp)

then=$("$TRIB_BIN" -w ws bars AAPL --as-of "$t1" --format csv)
[ "$(echo "$then" | tail -1 | cut -d, -f1)" == 2010-12-31 ] && pass "as of t1 the lake ends 2010-12-31" || fail "t1 last: $(echo "$then" | tail -1)"
grep -q "^2005-06-01,.*,csv$" <<< "$then" && ! grep -q "^2005-06-01,.*,40.25," <<< "$then" && pass "as of t1: the 2005-06-01 bar before the correction" || fail "t1 2005-06-01: $(echo "$then" | grep 2005-06-01)"
now=$("$TRIB_BIN" -w ws bars AAPL --format csv)
grep -q "^2005-06-01,.*,40.25," <<< "$now" && pass "now: the corrected close" || fail "now 2005-06-01: $(echo "$now" | grep 2005-06-01)"
[ "$("$TRIB_BIN" -w ws bars AAPL --as-of "$t2" --format csv | md5sum)" == "$(echo "$now" | md5sum)" ] && pass "as of t2 = now" || fail "t2 differs from now"
[ "$(echo "$now" | wc -l)" == 5850 ] && pass "now: 5849 sessions" || fail "now: $(echo "$now" | wc -l)"
bt=$("$TRIB_BIN" -w ws backtest --symbol AAPL --as-of "$t1" --json)
[ "$(jq -r .to <<< "$bt")" == 2010-12-31 ] && pass "backtest --as-of t1 ends where the lake did" || fail "backtest as of: $bt"
expect_error "before the first commit" 3 "no curated 1d bars for AAPL as of .*: the first were committed at" -- "$TRIB_BIN" -w ws bars AAPL --as-of "$t0"

# Vacuum: the correction replaced the 2005 partition; its first version is what --as-of t1 reads.
out=$("$TRIB_BIN" -w ws vacuum)
grep -q "^0 replaced version(s)" <<< "$out" && pass "30 days: nothing to remove ($(echo "$out" | head -1))" || fail "vacuum 30d: $out"
out=$("$TRIB_BIN" -w ws vacuum --older-than 0m)
grep -qE "^bars 1d AAPL 2005 version 1 " <<< "$out" && grep -q "dry run: nothing removed" <<< "$out" && pass "0m: the replaced 2005 version listed, dry run" || fail "vacuum 0m: $out"
"$TRIB_BIN" -w ws bars AAPL --as-of "$t1" --format csv > /dev/null && pass "a dry run removes nothing" || fail "after dry run"
out=$("$TRIB_BIN" -w ws vacuum --older-than 0m --apply)
grep -q "removed 1 object(s)" <<< "$out" && pass "--apply removed it" || fail "apply: $out"
expect_error "vacuumed as-of" 3 "AAPL 1d partition 2005 as of .* is no longer held: .trib vacuum. removed" -- "$TRIB_BIN" -w ws bars AAPL --as-of "$t1"
[ "$("$TRIB_BIN" -w ws bars AAPL --format csv | md5sum)" == "$(echo "$now" | md5sum)" ] && pass "the live version untouched" || fail "live changed"
expect_error "bad duration" 2 "--older-than '30' is not a duration; use a whole number and a unit" -- "$TRIB_BIN" -w ws vacuum --older-than 30

# Verify: everything equals a rebuild from raw; a partition changed behind the catalog's back is found.
out=$("$TRIB_BIN" -w ws verify)
grep -q "rebuilt from 3 raw object(s) in scratch space: 24 partition(s) equal, 0 differ, 0 not from raw, 0 missing" <<< "$out" && pass "verify: $(echo "$out" | sed -n 2p)" || fail "verify: $out"
# A raw object the ETL never applied (a crash between storing raw and curating it) is found.
sed -i 's/^bar_precedence = .*/bar_precedence = "stooq,csv"/' ws/trib.toml
"$TRIB_BIN" -w ws ingest --vendor stooq --file "$TRIB_SHARED_DATA/vendor-samples/stooq/spy_us_daily.csv" --symbol AAPL > /dev/null
sed -i 's/^bar_precedence = .*/bar_precedence = "csv,stooq"/' ws/trib.toml
rc=0; out=$("$TRIB_BIN" -w ws verify) || rc=$?
[ "$rc" == 1 ] && grep -qE "[1-9][0-9]* differ" <<< "$out" && grep -q "bars 1d AAPL 2018: the committed rows are not what raw rebuilds to" <<< "$out" && pass "a lake built with another precedence differs from raw (exit 1)" || fail "verify after precedence change: rc $rc $out"
"$TRIB_BIN" -w ws etl --rebuild > /dev/null
"$TRIB_BIN" -w ws verify > /dev/null && pass "after etl --rebuild: verify clean" || fail "verify after rebuild: $("$TRIB_BIN" -w ws verify)"
finish
