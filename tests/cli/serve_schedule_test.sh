# `trib serve --schedule` as the always-on bot runs it (the Container Apps `bot` app): the API
# answers while the daily update runs at once beside it (against the mock Polygon), followed by
# an end-of-day trading cycle of [strategy] on the paper account; the next update is announced
# at a close + the publishing delay; SIGTERM stops both cleanly with the data committed.
source "$(dirname "$0")/lib.sh"
start_mock_vendor
init_polygon_ws "publish_delay_minutes = 45"
start=$(date -u -d '400 days ago' +%F)
"$TRIB_BIN" -w ws universe add AAPL MSFT --vendor polygon --start "$start" > /dev/null
sed -i 's/^symbol = "^GSPC"/symbol = "AAPL"/; s/^fast = 50/fast = 5/; s/^slow = 200/slow = 20/' ws/trib.toml

"$TRIB_BIN" -w ws --log-level info serve --schedule --port 0 --port-file port > serve.out 2> serve.err &
pid=$!
for _ in $(seq 1 600); do grep -q "next update at" serve.err 2>/dev/null && break; sleep 0.1; done
port=$(cat port 2>/dev/null || echo 0)
curl -s "http://127.0.0.1:$port/healthz" | grep -q ok && pass "the API answers beside the scheduler" || fail "no API on $port"
grep -q '"done":2' serve.out && pass "the update ran at once: 2 of 2 tasks done" || fail "update: $(cat serve.out)"
queue=$(curl -s "http://127.0.0.1:$port/api/v1/queue")
[ "$(jq .tasks_done <<< "$queue")" == 2 ] && [ "$(jq '[.tasks_done_per_hour[].tasks] | add' <<< "$queue")" == 2 ] \
  && pass "the queue page counts the 2 tasks done, in this hour's throughput" || fail "queue: $queue"
curl -s "http://127.0.0.1:$port/metrics" | grep -q '^trib_tasks{outcome="done"} 2$' && pass "/metrics: trib_tasks{outcome=\"done\"} 2" \
  || fail "metrics: $(curl -s "http://127.0.0.1:$port/metrics" | grep trib_tasks)"
instruments=$(curl -s "http://127.0.0.1:$port/api/v1/instruments" | jq .total)
[ "$instruments" == 2 ] && pass "the API sees the 2 instruments the update curated" || fail "instruments: $instruments"
grep -q "end-of-day trading cycle: {" serve.err && pass "an end-of-day trading cycle followed the update" \
  || fail "no trading cycle: $(grep -i "trading cycle" serve.err | head -3)"
[ "$(curl -s "http://127.0.0.1:$port/api/v1/trading/state" | jq -r .traded)" == true ] \
  && pass "the paper account was marked by the cycle" || fail "state: $(curl -s "http://127.0.0.1:$port/api/v1/trading/state")"
next=$(sed -n 's/.*next update at \([0-9T:.-]*Z\).*/\1/p' serve.err | head -1)
ny_min=$(TZ=America/New_York date -d "$next" +%H:%M 2>/dev/null || echo "?")
case "$ny_min" in 16:45|13:45) pass "next update at the close + the publishing delay ($ny_min New York)" ;;
  *) fail "next update at '$next' ($ny_min New York)" ;; esac
kill -TERM $pid
rc=0; wait $pid || rc=$?
[ "$rc" == 0 ] && pass "SIGTERM stops the server and the scheduler" || fail "exit $rc: $(tail -3 serve.err)"
finish
