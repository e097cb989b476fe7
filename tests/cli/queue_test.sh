# trib queue list|poison|redrive|purge, and a permanent error sent to poison at once.
source "$(dirname "$0")/lib.sh"

"$TRIB_BIN" init ws > /dev/null
"$TRIB_BIN" -w ws backfill --vendor sim --symbols 2 --from 2020-01-01 --to 2020-12-31 --no-drain > /dev/null
# A message that is not a task (a bad producer): permanent, never worth a retry.
sqlite3 ws/catalog.db "INSERT INTO queue_messages (queue, id, body, visible_at_ns, inserted_at_ns) VALUES ('tasks', 'junk0000000000000000000000000001', 'not a task', 0, 0)"
"$TRIB_BIN" -w ws queue list > list.txt
grep -q "3 message(s) (3 visible), 0 poisoned" list.txt && pass "list shows 3 messages" || fail "list: $(cat list.txt)"
grep -q "fetch sim SIM0001 2020-01-01..2020-12-31" list.txt && pass "list describes tasks" || fail "list body"
[ "$("$TRIB_BIN" -w ws queue list --json | jq length)" == 3 ] && pass "list --json" || fail "list json"

"$TRIB_BIN" -w ws worker --drain --json > worker.json
[ "$(jq .processed worker.json)" == 2 ] && [ "$(jq .dead_lettered worker.json)" == 1 ] && [ "$(jq .failed_attempts worker.json)" == 0 ] \
  && pass "2 tasks done, the junk message poisoned on its first delivery" || fail "worker: $(cat worker.json)"
"$TRIB_BIN" -w ws queue poison > poison.txt
grep -q "junk0000000000000000000000000001  deliveries 1" poison.txt && grep -q "invalid-input" poison.txt \
  && pass "poison lists it with its reason" || fail "poison: $(cat poison.txt)"

"$TRIB_BIN" -w ws queue redrive > redrive.txt
grep -q "^1 message(s) moved" redrive.txt && pass "redrive moves it back" || fail "redrive: $(cat redrive.txt)"
[ "$("$TRIB_BIN" -w ws queue list --json | jq '.[0].dequeue_count')" == 0 ] && pass "redriven with a fresh count" || fail "dequeue count"
expect_error "redrive of an unknown id" 3 "not in the poison queue" -- "$TRIB_BIN" -w ws queue redrive --id nope
expect_error "purge without saying what" 2 "--poison .* or --all" -- "$TRIB_BIN" -w ws queue purge
"$TRIB_BIN" -w ws worker --drain > /dev/null
[ "$("$TRIB_BIN" -w ws queue poison --json | jq length)" == 1 ] && pass "poisoned again" || fail "poison again"
"$TRIB_BIN" -w ws queue purge --poison > purge.txt
grep -q "purged 1 message" purge.txt && pass "purge --poison" || fail "purge: $(cat purge.txt)"
"$TRIB_BIN" -w ws backfill --vendor sim --symbols 1 --from 2019-01-01 --to 2019-12-31 --no-drain > /dev/null
"$TRIB_BIN" -w ws queue purge --all > /dev/null
[ "$("$TRIB_BIN" -w ws status --json | jq .queue.pending)" == 0 ] && pass "purge --all empties the queue" || fail "purge all"
finish
