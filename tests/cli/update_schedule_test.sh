# `trib update --every-session` on the wall clock against the mock: it updates at once, says when
# it runs next (a session close after now, plus the vendor's publishing delay), and stops cleanly
# on SIGTERM with the data committed. (The schedule itself is tested on a fake clock in
# tests/runtime/schedule_test.cpp.)
source "$(dirname "$0")/lib.sh"
start_mock_vendor
init_polygon_ws "publish_delay_minutes = 45"
start=$(date -u -d '20 days ago' +%F)
"$TRIB_BIN" -w ws universe add AAPL MSFT --vendor polygon --start "$start" > /dev/null

"$TRIB_BIN" -w ws update --every-session > sched.txt 2> sched.err &
pid=$!
for _ in $(seq 1 600); do grep -q "^next update at" sched.txt 2>/dev/null && break; sleep 0.1; done
kill -TERM $pid
rc=0; wait $pid || rc=$?
[ "$rc" == 0 ] && pass "stops cleanly on SIGTERM" || fail "exit $rc: $(tail -3 sched.err)"
grep -q "2 of 2 task(s) done" sched.txt && pass "updated at once" || fail "$(cat sched.txt)"
next=$(sed -n 's/^next update at //p' sched.txt | head -1)
[ -n "$next" ] || fail "no next run announced: $(cat sched.txt)"
next_s=$(date -u -d "$next" +%s)
now_s=$(date -u +%s)
[ "$next_s" -gt "$now_s" ] && [ "$next_s" -le $((now_s + 5 * 86400)) ] && pass "next run ahead, within 5 days ($next)" \
  || fail "next run $next"
# Closes are 16:00 (or 13:00) New York; + 45 minutes.
ny_min=$(TZ=America/New_York date -d "$next" +%H:%M)
case "$ny_min" in 16:45|13:45) pass "at the close + the publishing delay ($ny_min New York)" ;; *) fail "at $ny_min New York" ;; esac
last=$("$TRIB_BIN" -w ws bars AAPL --format json | tail -1 | jq -r .session_date)
[ -n "$last" ] && [ "$last" \> "$start" ] && pass "AAPL curated through $last" || fail "AAPL: $last"
finish
