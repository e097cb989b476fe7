# The daily updater against the mock vendor (Polygon's protocol): a universe with one symbol the
# vendor does not know, `trib update` on a fake clock (--as-of), running it twice, a missed week,
# the unknown symbol recorded once and never asked again, `trib backfill --vendor csv` refused,
# and the API key in no file of the workspace.
source "$(dirname "$0")/lib.sh"
start_mock_vendor --unknown ZZZZ
init_polygon_ws
"$TRIB_BIN" -w ws vendors > vendors.txt
grep -qE "^polygon .* $MOCK_URL/polygon +POLYGON_API_KEY \(set\)" vendors.txt && pass "vendors shows the base url and the key set" \
  || fail "vendors: $(cat vendors.txt)"
grep -qE "^alpaca +200 " vendors.txt && pass "alpaca's published budget by default" || fail "alpaca budget: $(grep alpaca vendors.txt)"

"$TRIB_BIN" -w ws universe add AAPL MSFT ZZZZ --vendor polygon --start 2024-01-02 > add.txt
grep -q "3 added" add.txt && pass "universe add" || fail "add: $(cat add.txt)"
printf 'symbol,start\nIBM,2024-02-01\n' > more.csv
"$TRIB_BIN" -w ws universe add --file more.csv --vendor polygon > /dev/null
[ "$("$TRIB_BIN" -w ws universe list --json | jq length)" == 4 ] && pass "universe add --file" || fail "list after file"
expect_error "universe add without a vendor" 2 "--vendor is required" -- "$TRIB_BIN" -w ws universe add NVDA
expect_error "universe add csv" 2 "csv vendor reads files" -- "$TRIB_BIN" -w ws universe add NVDA --vendor csv
expect_error "backfill from csv" 2 "trib ingest --vendor csv" -- \
  "$TRIB_BIN" -w ws backfill --vendor csv --symbols AAPL --from 2020-01-01 --to 2020-12-31

# Friday 2024-03-15 after the close: AAPL and MSFT from 2024-01-02, IBM from 2024-02-01.
"$TRIB_BIN" -w ws update --as-of 2024-03-15 --json > u1.json || true
[ "$(jq .through u1.json)" == '"2024-03-15"' ] && pass "update through Friday's session" || fail "u1: $(cat u1.json)"
[ "$(jq .queued u1.json)" == 4 ] && pass "one task per instrument" || fail "queued: $(cat u1.json)"
rows=$("$TRIB_BIN" -w ws bars AAPL --from 2024-01-02 --to 2024-03-15 --format json | wc -l)
[ "$rows" == 52 ] && pass "AAPL: the 52 sessions 2024-01-02..2024-03-15 curated" || fail "AAPL rows $rows"
"$TRIB_BIN" -w ws universe list > list.txt
grep -qE "^ZZZZ .* unknown_symbol" list.txt && pass "ZZZZ recorded as unknown to polygon" || fail "list: $(cat list.txt)"
"$TRIB_BIN" -w ws status > status.txt
grep -q "unknown ZZZZ (polygon)" status.txt && pass "status shows the permanent finding" || fail "status: $(cat status.txt)"
before=$(mock_stats | jq .vendors.polygon.requests)

# The same update again (cron twice a day): nothing is asked twice, ZZZZ is skipped.
"$TRIB_BIN" -w ws update --as-of 2024-03-15 --json > u2.json
[ "$(jq .planned u2.json)" == 0 ] && [ "$(jq .skipped_unknown u2.json)" == 1 ] && pass "second run plans nothing" \
  || fail "u2: $(cat u2.json)"
[ "$(mock_stats | jq .vendors.polygon.requests)" == "$before" ] && pass "no request to the vendor" || fail "requests moved"

# A missed week: the next run (Friday 2024-03-22) asks each symbol for 03-16..03-22 only.
"$TRIB_BIN" -w ws update --as-of 2024-03-22 --json > u3.json
[ "$(jq .queued u3.json)" == 3 ] && pass "missed week: one task per known instrument" || fail "u3: $(cat u3.json)"
rows=$("$TRIB_BIN" -w ws bars MSFT --from 2024-01-02 --to 2024-03-22 --format json | wc -l)
[ "$rows" == 57 ] && pass "MSFT now has 57 sessions" || fail "MSFT rows $rows"

if grep -rl --binary-files=text "mock-key-7f3a9c2e51" ws > leaked.txt; then
  fail "the API key is in: $(cat leaked.txt)"
else
  pass "no file in the workspace holds the key"
fi
finish
