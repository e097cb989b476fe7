# POST /api/v1/update on a running `trib serve`, against the mock Polygon: with the token it
# queues the daily update and drains it in the background (202 at once, then the queue empties
# and the instruments appear); the same call again queues nothing twice; without the token, or
# on a read-only server, it is refused and nothing is queued.
source "$(dirname "$0")/lib.sh"
start_mock_vendor
init_polygon_ws
start=$(date -u -d '60 days ago' +%F)
"$TRIB_BIN" -w ws universe add AAPL MSFT --vendor polygon --start "$start" > /dev/null
TOKEN=serve-update-token-0123456789

TRIB_API_TOKEN=$TOKEN "$TRIB_BIN" -w ws serve --port 0 --port-file port > serve.out 2> serve.err &
pid=$!
for _ in $(seq 1 200); do [ -s port ] && break; sleep 0.05; done
api="http://127.0.0.1:$(cat port)"
code=$(curl -s -o refused.json -w '%{http_code}' -X POST -d '' "$api/api/v1/update")
[ "$code" == 401 ] && [ "$(jq -r .error.code refused.json)" == unauthorized ] && [ "$(curl -s "$api/api/v1/queue" | jq .depth)" == 0 ] \
  && pass "no token: 401, nothing queued" || fail "no token: $code $(cat refused.json)"
code=$(curl -s -o started.json -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" "$api/api/v1/update" -d '{"workers": 2}')
[ "$code" == 202 ] && [ "$(jq .planned started.json)" == 2 ] && [ "$(jq .queued started.json)" == 2 ] && [ "$(jq .draining started.json)" == true ] \
  && pass "202: 2 tasks planned and queued, draining" || fail "start: $code $(cat started.json)"
for _ in $(seq 1 300); do
  q=$(curl -s "$api/api/v1/queue")
  [ "$(jq .tasks_done <<< "$q")" == 2 ] && [ "$(jq .depth <<< "$q")" == 0 ] && break
  sleep 0.1
done
[ "$(jq .tasks_done <<< "$q")" == 2 ] && [ "$(jq .depth <<< "$q")" == 0 ] && pass "drained in the background: 2 tasks done, queue empty" \
  || fail "queue: $q"
[ "$(curl -s "$api/api/v1/instruments" | jq .total)" == 2 ] && pass "AAPL and MSFT curated" || fail "instruments"
curl -s -X POST -d '' -H "Authorization: Bearer $TOKEN" "$api/api/v1/update" > again.json
[ "$(jq .queued again.json)" == 0 ] && pass "again: nothing queued twice ($(jq -c '{planned, already_done}' again.json))" \
  || fail "again: $(cat again.json)"
[ "$(curl -s "$api/api/v1/runs?kind=update" | jq .total)" -ge 1 ] && pass "the update runs are listed" || fail "runs"
kill -TERM $pid; wait $pid || true

"$TRIB_BIN" -w ws serve --port 0 --port-file port2 > /dev/null 2>&1 &
pid=$!
for _ in $(seq 1 200); do [ -s port2 ] && break; sleep 0.05; done
code=$(curl -s -o ro.json -w '%{http_code}' -X POST -d '' -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$(cat port2)/api/v1/update")
[ "$code" == 403 ] && [ "$(jq -r .error.code ro.json)" == read_only ] && pass "a read-only server refuses it: 403" || fail "read-only: $code $(cat ro.json)"
kill -TERM $pid; wait $pid || true
finish
