# Corporate actions from REST vendors asked for in trib.toml ([vendors.X] actions = "true"): an
# ingest from the alpaca mock (Alpaca's /v1/corporate-actions in its documented shape, real
# actions) records AAPL's 4:1 split and its dividends as alpaca's, known from the fetch, and the
# split-adjusted bars use them.
source "$(dirname "$0")/lib.sh"
start_mock_vendor
export APCA_API_KEY_ID=mock-key-7f3a9c2e51 APCA_API_SECRET_KEY=mock-secret-0d4b8e6a
"$TRIB_BIN" init ws > /dev/null
cat >> ws/trib.toml <<TOML

[vendors.alpaca]
base_url = "$MOCK_URL/alpaca"
actions = "true"
TOML
"$TRIB_BIN" -w ws ingest --vendor alpaca --symbol AAPL --from 2020-01-02 --to 2020-12-31 > /dev/null
list=$("$TRIB_BIN" -w ws actions list AAPL --format csv)
grep -qE "^AAPL,split,2020-08-31,4,,alpaca," <<< "$list" && pass "alpaca's 4:1 split recorded" || fail "list: $list"
[ "$(grep -c ',dividend,' <<< "$list")" == 3 ] && pass "alpaca's 3 dividends of 2020 recorded" || fail "dividends: $list"
# The bars came with them: the mock's synthetic closes, split-adjusted across 2020-08-31 by 4.
raw=$("$TRIB_BIN" -w ws bars AAPL --from 2020-08-28 --to 2020-08-28 --format csv | tail -1 | cut -d, -f6)
split=$("$TRIB_BIN" -w ws bars AAPL --from 2020-08-28 --to 2020-08-28 --adjust split --format csv | tail -1 | cut -d, -f6)
awk -v r="$raw" -v s="$split" 'BEGIN { exit !(s > 0 && (r / s - 4) < 1e-9 && (r / s - 4) > -1e-9) }' \
  && pass "2020-08-28 split-adjusted = raw / 4 ($raw -> $split)" || fail "raw $raw split $split"
"$TRIB_BIN" init ws2 > /dev/null
printf '\n[vendors.alpaca]\naction = "true"\n' >> ws2/trib.toml
expect_error "a misspelt option" 2 "\[vendors.alpaca\] action is not a known key; known: .*function, actions" -- \
  "$TRIB_BIN" -w ws2 status
finish
