# trib coverage: per instrument and year, the sessions the calendar expects vs the sessions in
# curated bars, with the missing dates, checked against an independent count (jq over
# `trib bars` and over the quarantine files) and the exchange's own session counts.
source "$(dirname "$0")/lib.sh"

"$TRIB_BIN" init ws > /dev/null
# Corrupted bars (deterministic per symbol, day and seed) are quarantined: those sessions are
# missing from curated. A duplicate row keeps its first copy, so its session stays present.
"$TRIB_BIN" -w ws backfill --vendor sim --symbols 2 --from 2020-01-01 --to 2021-06-30 --fault-rate 0.03 > /dev/null

"$TRIB_BIN" -w ws coverage SIM0001 --json > cov.json || fail "coverage --json: exit $?"
[ "$(jq length cov.json)" == 1 ] && [ "$(jq -r '.[0].symbol + " " + .[0].vendor + " " + .[0].timeframe' cov.json)" == "SIM0001 sim 1d" ] \
  && pass "one series: SIM0001 sim 1d" || fail "series: $(jq -c '.[] | del(.years)' cov.json)"
[ "$(jq -r '.[0].from + ".." + .[0].to' cov.json)" == "2020-01-02..2021-06-30" ] && [ "$(jq '.[0].in_universe' cov.json)" == false ] \
  && pass "outside the universe: from the first to the last curated session" || fail "range: $(jq -c '.[0] | del(.years)' cov.json)"
# The exchange's counts: 253 NYSE sessions in 2020, 124 in 2021-01-01..2021-06-30 (252 in 2021:
# Juneteenth closes the exchange only from 2022).
[ "$(jq -c '[.[0].years[] | [.year, .expected]]' cov.json)" == "[[2020,253],[2021,124]]" ] \
  && pass "expected sessions: 253 in 2020, 124 in 2021 H1" || fail "expected: $(jq -c '[.[0].years[] | [.year, .expected]]' cov.json)"

# Independent count: the session dates `trib bars` returns, per year.
"$TRIB_BIN" -w ws bars SIM0001 --format json | jq -r .session_date | sort -u > present.txt
for y in 2020 2021; do
  want=$(grep -c "^$y-" present.txt)
  got=$(jq ".[0].years[] | select(.year == $y) | .present" cov.json)
  [ "$got" == "$want" ] && pass "$y: $got sessions present, as trib bars says" || fail "$y present: coverage $got, bars $want"
  miss=$(jq ".[0].years[] | select(.year == $y) | .missing | length" cov.json)
  exp=$(jq ".[0].years[] | select(.year == $y) | .expected" cov.json)
  [ $((want + miss)) == "$exp" ] && pass "$y: present + missing = expected ($want + $miss = $exp)" || fail "$y: $want + $miss != $exp"
done
jq -r '.[0].years[].missing[]' cov.json > missing.txt
[ "$(wc -l < missing.txt)" -gt 3 ] && pass "$(wc -l < missing.txt) sessions missing" || fail "too few missing: $(cat missing.txt)"
[ -z "$(comm -12 present.txt missing.txt)" ] && pass "no missing date is present" || fail "missing and present: $(comm -12 present.txt missing.txt)"
# ... and the missing ones are exactly the sessions with a quarantined row and no accepted one
# (a duplicated row keeps its first copy, whatever rule the second broke).
for f in ws/lake/quarantine/bars/timeframe=1d/symbol=SIM0001/*.parquet; do
  "$TRIB_BIN" parquet cat "$f" --columns rule,session_date --format json
done | jq -r .session_date | sort -u > quarantined.txt
comm -23 quarantined.txt present.txt > lost.txt
cmp -s missing.txt lost.txt && pass "missing = the sessions quarantined and not present ($(wc -l < lost.txt) of $(wc -l < quarantined.txt) quarantined)" \
  || fail "missing vs quarantined: $(diff missing.txt lost.txt | head -5)"
# No weekend and no NYSE holiday is ever expected.
for d in $(cat missing.txt); do
  case $(date -u -d "$d" +%u) in 6|7) fail "weekend $d expected";; esac
  case $d in 2020-01-01|2020-01-20|2020-02-17|2020-04-10|2020-05-25|2020-07-03|2020-09-07|2020-11-26|2020-12-25|2021-01-01|2021-01-18|2021-02-15|2021-04-02|2021-05-31) fail "holiday $d expected";; esac
done

# The table: one line per year, exit 0.
"$TRIB_BIN" -w ws coverage SIM0001 > cov.txt || fail "coverage: exit $?"
n2020=$(jq '.[0].years[0].missing | length' cov.json)
grep -qE "^  2020 +253 +$((253 - n2020)) +$n2020  " cov.txt && pass "table: 2020 253 $((253 - n2020)) $n2020" || fail "table: $(cat cov.txt)"
grep -q "curated, not in the universe" cov.txt && pass "table says where the range comes from" || fail "table header: $(head -1 cov.txt)"

# Everything: both symbols; --from/--to narrow to years; --vendor filters.
[ "$("$TRIB_BIN" -w ws coverage --json | jq -c '[.[].symbol]')" == '["SIM0001","SIM0002"]' ] && pass "all instruments" || fail "all"
[ "$("$TRIB_BIN" -w ws coverage SIM0001 --from 2021 --json | jq -c '[.[0].years[].year]')" == "[2021]" ] && pass "--from 2021" || fail "--from"
[ "$("$TRIB_BIN" -w ws coverage SIM0001 --to 2020 --json | jq -c '[.[0].years[] | [.year, .expected]]')" == "[[2020,253]]" ] && pass "--to 2020" || fail "--to"
[ "$("$TRIB_BIN" -w ws coverage --vendor polygon --json | jq length)" == 0 ] && pass "--vendor polygon: none" || fail "--vendor"

# A universe entry is expected from its start through the last session closed (--as-of here):
# SIM0002 from 2020-01-01 through 2022-01-07, so 2021 H2 and 2022 are missing in full.
"$TRIB_BIN" -w ws universe add SIM0002 --vendor sim --start 2020-01-01 > /dev/null
"$TRIB_BIN" -w ws coverage SIM0002 --as-of 2022-01-07 --json > uni.json
[ "$(jq -c '.[0] | [.in_universe, .from, .to]' uni.json)" == '[true,"2020-01-01","2022-01-07"]' ] \
  && pass "universe entry: start date to the last session closed" || fail "universe: $(jq -c '.[0] | del(.years)' uni.json)"
[ "$(jq -c '[.[0].years[] | [.year, .expected]]' uni.json)" == "[[2020,253],[2021,252],[2022,5]]" ] \
  && pass "2021 has 252 sessions, 2022-01-03..07 five" || fail "universe years: $(jq -c '[.[0].years[] | [.year, .expected]]' uni.json)"
[ "$(jq '.[0].years[2].present' uni.json)" == 0 ] && [ "$(jq '.[0].years[1].missing | map(select(. > "2021-06-30")) | length' uni.json)" == 128 ] \
  && pass "the updater's part not done yet is missing (2021 H2: 128)" || fail "universe missing: $(jq -c '.[0].years[1:]' uni.json)"

# A workspace from before partition_sessions: nothing present until partitions are touched.
sqlite3 ws/catalog.db "DELETE FROM partition_sessions"
[ "$("$TRIB_BIN" -w ws coverage SIM0001 --json | jq '.[0].present')" == 0 ] && pass "without partition sessions nothing is present" || fail "emptied"
"$TRIB_BIN" -w ws etl > /dev/null
"$TRIB_BIN" -w ws coverage SIM0001 --json | jq -S . > again.json
cmp -s <(jq -S . cov.json) again.json && pass "trib etl fills them in (unchanged commits)" || fail "after etl: $(diff <(jq -S . cov.json) again.json | head -5)"
# A lost catalog rebuilt from the lake has them too.
rm -f ws/catalog.db ws/catalog.db-wal ws/catalog.db-shm
"$TRIB_BIN" -w ws catalog rebuild > /dev/null || fail "catalog rebuild"
"$TRIB_BIN" -w ws coverage SIM0001 --json | jq -S . > rebuilt.json
cmp -s <(jq -S . cov.json) rebuilt.json && pass "catalog rebuild writes them from the live files" || fail "after rebuild: $(diff <(jq -S . cov.json) rebuilt.json | head -5)"

expect_error "unknown symbol" 3 "NOPE is neither in the universe" -- "$TRIB_BIN" -w ws coverage NOPE
expect_error "years the wrong way round" 2 "--from 2021 is after --to 2020" -- "$TRIB_BIN" -w ws coverage --from 2021 --to 2020
finish
