# The request budget against the mock vendor at Alpaca's published limit: a backfill of 500
# symbols with 4 worker processes (each its own budget gate, sharing the catalog's) makes zero
# requests over 200/minute (burst 10) and gets zero 429s from the budget; five 429s injected on
# top (Retry-After: 1) are waited out without costing any task an attempt. ~2.5 minutes: the
# budget's own minimum for 500 requests is (500 - 10) x 0.3 s = 147 s.
source "$(dirname "$0")/lib.sh"
start_mock_vendor --budget alpaca=200/10
export APCA_API_KEY_ID=mock-key-7f3a9c2e51 APCA_API_SECRET_KEY=mock-secret-0d4b8e6a

"$TRIB_BIN" init ws > /dev/null
cat >> ws/trib.toml <<TOML

[vendors.alpaca]
base_url = "$MOCK_URL/alpaca"
TOML
# 500 made-up tickers (the mock synthesises bars for any symbol it has no recording of).
symbols=$(awk 'BEGIN { n = 0; for (a = 0; a < 26 && n < 500; a++) for (b = 0; b < 26 && n < 500; b++) {
  printf "%sQ%c%c", (n ? "," : ""), 65 + a, 65 + b; n++ } }')
curl -s "$MOCK_URL/_mock/inject?vendor=alpaca&fault=429&times=5&retry_after=1" > /dev/null
start=$(date +%s)
"$TRIB_BIN" -w ws backfill --vendor alpaca --symbols "$symbols" --from 2024-01-02 --to 2024-03-28 \
  --workers 4 --worker-mode process --json > backfill.json
end=$(date +%s)
stats=$(mock_stats)
echo "mock: $stats; backfill: $(jq -c '{tasks, processed, failed_attempts, poisoned, seconds}' backfill.json)"
[ "$(jq .tasks backfill.json)" == 500 ] && [ "$(jq .processed backfill.json)" == 500 ] \
  && pass "500 tasks done" || fail "backfill: $(cat backfill.json)"
[ "$(echo "$stats" | jq .over_budget)" == 0 ] && pass "zero requests over the budget (no 429 from it)" \
  || fail "over budget: $stats"
[ "$(echo "$stats" | jq .faults_served)" == 5 ] && pass "the 5 injected 429s were served" || fail "faults: $stats"
[ "$(jq .failed_attempts backfill.json)" == 0 ] && [ "$(jq .poisoned backfill.json)" == 0 ] \
  && pass "429s waited out by Retry-After: no attempt spent" || fail "attempts: $(cat backfill.json)"
requests=$(echo "$stats" | jq .vendors.alpaca.requests)
[ "$requests" == 505 ] && pass "505 requests: one per task and one per 429" || fail "requests $requests"
elapsed=$((end - start))
[ "$elapsed" -ge 140 ] && pass "took ${elapsed}s (the budget allows no less than ~147 s)" || fail "too fast: ${elapsed}s"
rows=$("$TRIB_BIN" -w ws status --json | jq .curated_rows)
[ "$rows" == $((500 * 61)) ] && pass "500 x 61 sessions curated" || fail "rows $rows"
finish
