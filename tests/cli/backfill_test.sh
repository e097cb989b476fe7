# Backfill under Ctrl-C and reruns: a SIGINT stops the workers gracefully (exit 130, the remaining
# count and how to resume on stderr); rerunning the same backfill queues nothing twice, skips what
# is done, and its summary counts only what it did; nothing is lost or processed twice.
source "$(dirname "$0")/lib.sh"

"$TRIB_BIN" init ws > /dev/null
args=(backfill --vendor sim --symbols 12 --from 2018-01-01 --to 2020-12-31 --workers 2 --latency-ms 150)
"$TRIB_BIN" -w ws "${args[@]}" --json > first.json 2> first.err &
pid=$!
sleep 2
kill -INT "$pid"
rc=0; wait "$pid" || rc=$?
[ "$rc" == 130 ] && pass "interrupted backfill exits 130" || fail "exit $rc (stderr: $(cat first.err))"
grep -q "interrupted" first.err && grep -q "remain in queue 'tasks'" first.err && grep -q "worker --drain" first.err \
  && pass "says how many remain and how to resume" || fail "stderr: $(cat first.err)"
done1=$(jq .processed first.json)
left=$(jq .left_in_queue first.json)
[ "$done1" -gt 0 ] && [ "$left" -gt 0 ] && [ $((done1 + left)) == 36 ] \
  && pass "first run: $done1 done, $left left of 36" || fail "first run: $(cat first.json)"
[ "$(jq -r .interrupted first.json)" == true ] && pass "summary marks the run interrupted" || fail "interrupted flag"
[ "$(sqlite3 ws/catalog.db "SELECT status FROM runs WHERE kind = 'backfill'")" == interrupted ] \
  && pass "run recorded as interrupted" || fail "run status"

"$TRIB_BIN" -w ws "${args[@]}" --json > second.json 2> second.err || fail "second run failed: $(cat second.err)"
[ "$(jq .already_done second.json)" == "$done1" ] && pass "rerun skips the $done1 done tasks" || fail "already_done: $(cat second.json)"
[ "$(jq .queued second.json)" == 0 ] && [ "$(jq .already_queued second.json)" == "$left" ] \
  && pass "rerun queues nothing twice ($left already queued)" || fail "queued: $(cat second.json)"
[ "$(jq .processed second.json)" == "$left" ] && pass "rerun counts only its own work" || fail "processed: $(cat second.json)"
[ "$(jq .left_in_queue second.json)" == 0 ] && pass "queue drained" || fail "left: $(cat second.json)"

# Exactly one raw object and one version per (symbol, year): nothing was fetched or merged twice.
[ "$(sqlite3 ws/catalog.db "SELECT count(*) FROM raw_objects")" == 36 ] && pass "36 raw objects" || fail "raw objects: $(sqlite3 ws/catalog.db 'SELECT count(*) FROM raw_objects')"
[ "$(sqlite3 ws/catalog.db "SELECT count(*) FROM partitions WHERE version = 1")" == 36 ] && pass "36 partitions, each committed once" || fail "partitions"
[ "$(sqlite3 ws/catalog.db "SELECT count(*) FROM tasks_done")" == 36 ] && pass "36 tasks done" || fail "tasks_done"

"$TRIB_BIN" -w ws "${args[@]}" --json > third.json
[ "$(jq .already_done third.json)" == 36 ] && [ "$(jq .processed third.json)" == 0 ] \
  && pass "a third run has nothing to do" || fail "third: $(cat third.json)"

# Process workers: same guarantees.
"$TRIB_BIN" -w ws backfill --vendor sim --symbols 3 --from 2021-01-01 --to 2021-12-31 --workers 2 \
  --worker-mode process --json > proc.json
[ "$(jq .processed proc.json)" == 3 ] && [ "$(jq .left_in_queue proc.json)" == 0 ] \
  && pass "process workers: 3 tasks done" || fail "process mode: $(cat proc.json)"
# Ctrl-C with process workers: the children stop gracefully (none killed), the rerun finishes.
pargs=(backfill --vendor sim --symbols 6 --from 2015-01-01 --to 2017-12-31 --workers 2 --worker-mode process --latency-ms 300)
"$TRIB_BIN" -w ws "${pargs[@]}" --json > pint.json 2> pint.err &
pid=$!
sleep 1.5
kill -INT "$pid"
rc=0; wait "$pid" || rc=$?
[ "$rc" == 130 ] && [ "$(jq .dead_workers pint.json)" == 0 ] && [ "$(jq .left_in_queue pint.json)" -gt 0 ] \
  && pass "process workers stop gracefully on Ctrl-C ($(jq .left_in_queue pint.json) left)" || fail "process interrupt: rc $rc $(cat pint.json) $(cat pint.err)"
"$TRIB_BIN" -w ws "${pargs[@]}" --json > pres.json
[ "$(jq .left_in_queue pres.json)" == 0 ] && [ "$(jq .queued pres.json)" == 0 ] \
  && pass "process rerun finishes without queueing twice" || fail "process rerun: $(cat pres.json)"
"$TRIB_BIN" -w ws verify > verify.txt && pass "verify: $(head -1 verify.txt)" || fail "verify: $(cat verify.txt)"
finish
