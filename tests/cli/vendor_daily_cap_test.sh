# A used-up daily request cap: `trib update` fetches what the cap allows, leaves the rest waiting
# in the queue without spending their attempts (none reaches poison, however often it is refused),
# ends at once instead of waiting for 00:00 UTC, and says so; a second run the same day asks the
# vendor nothing more and still poisons nothing.
source "$(dirname "$0")/lib.sh"
# The cap is per UTC day on the wall clock: too close to midnight the budget resets mid-test.
if [ $(( 86400 - $(date -u +%s) % 86400 )) -lt 300 ]; then
  echo "skipped: less than 5 minutes to 00:00 UTC, when the daily cap resets"; exit 0
fi
start_mock_vendor
init_polygon_ws "requests_per_day = 2"
sed -i 's/^max_attempts = .*/max_attempts = 2/' ws/trib.toml
grep -q "^max_attempts = 2" ws/trib.toml || fail "trib init wrote no [queue] max_attempts"
"$TRIB_BIN" -w ws universe add AAPL MSFT IBM NVDA --vendor polygon --start 2024-03-01 > /dev/null

start=$(date +%s)
rc=0
"$TRIB_BIN" -w ws update --as-of 2024-03-15 > u1.txt 2> u1.err || rc=$?
elapsed=$(( $(date +%s) - start ))
[ "$elapsed" -lt 60 ] && pass "update ends at once ($elapsed s) instead of waiting for the cap" || fail "update took $elapsed s"
[ "$rc" == 1 ] && pass "exit 1: not everything was fetched" || fail "exit $rc"
grep -q "2 of 4 task(s) done; 0 moved to poison" u1.txt && pass "two tasks done within the cap" || fail "u1: $(cat u1.txt)"
grep -q "2 task(s) wait in the queue for a vendor's request budget" u1.txt && pass "the rest wait, and the output says why" \
  || fail "u1: $(cat u1.txt)"
[ "$(mock_stats | jq .vendors.polygon.requests)" == 2 ] && pass "the vendor got exactly the 2 requests the cap allows" \
  || fail "requests: $(mock_stats | jq .vendors.polygon)"

"$TRIB_BIN" -w ws queue list --json > list.json
[ "$(jq length list.json)" == 2 ] && pass "two tasks queued" || fail "list: $(cat list.json)"
[ "$(jq '[.[] | select(.dequeue_count == 0)] | length' list.json)" == 2 ] && pass "no attempt spent on them" \
  || fail "counts: $(jq -c '[.[] | .dequeue_count]' list.json)"
jq -r '.[0].last_error' list.json | grep -q "budget is used up" && pass "the reason is recorded" || fail "error: $(jq -r '.[0].last_error' list.json)"

# Cron runs again the same day (and again): nothing new is asked, nothing is poisoned.
for i in 1 2; do timeout 60 "$TRIB_BIN" -w ws update --as-of 2024-03-15 > /dev/null 2>&1 || true; done
timeout 60 "$TRIB_BIN" -w ws worker --drain > drain.txt 2>&1 || fail "worker --drain: $(tail -3 drain.txt)"
"$TRIB_BIN" -w ws status --json > status.json
[ "$(jq .queue.poison status.json)" == 0 ] && [ "$(jq .queue.pending status.json)" == 2 ] \
  && pass "nothing in poison after three runs and a worker; the two still wait" || fail "queue: $(jq -c .queue status.json)"
[ "$(mock_stats | jq .vendors.polygon.requests)" == 2 ] && pass "still only 2 requests" || fail "requests moved"
finish
