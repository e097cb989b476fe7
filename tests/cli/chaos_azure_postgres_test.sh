# Chaos on the Azure shape (issue 8): a 200-symbol backfill (200 symbols x 2 years = 400 tasks)
# on Azure Blob + Azure Storage Queue (Azurite, the ctest fixture) with the catalog on
# PostgreSQL (the postgres fixture), drained by `trib worker --drain` processes while
#   - every 2-3 s one running worker is SIGKILLed and a replacement started, and
#   - every request to Azurite, blob and queue, goes through tests/fault_proxy, which fails a
#     share of them (503/500/429 before forwarding, a 500 after the service applied the request,
#     or the connection closed without an answer, before or after forwarding).
# The queue's visibility timeout is 5 s, so a killed worker's task comes back quickly.
#
# Then, talking to Azurite directly: every planned partition exists exactly once, in the catalog
# and in the lake, with the rows (and bytes) of the same backfill run on a local workspace
# without faults; verify is clean; the queue is empty; no dedupe marker is left behind; no worker
# died of anything but our SIGKILL; and nothing is poisoned, since every fault here is transient.
# Every delivery that ends without a result costs an attempt, though — a kill, a Get Messages
# whose answer was lost (the message is leased to nobody until its lease ends), a remove whose
# lease check lost its answer (the new pop receipt is unknown: the message comes back when that
# lease ends) — and a task unlucky max_attempts times in a row is poisoned by design, as a task
# that keeps killing its worker must be. About 1 delivery in 6 ends so here, and with the default
# max_attempts of 5 some task would be poisoned in about 1 run in 20: the workspace allows 20.
# The last line reports what happened.
# CHAOS_SEED replays the proxies' decisions (the kills stay random); CHAOS_KEEP=DIR keeps the
# run's files (worker logs, proxy stats) there.
source "$(dirname "$0")/lib.sh"

need_postgres
need_azurite
pg_url=$PG_URL
az=$AZURE_CONN
# The proxy is built next to the test binaries: <build>/tests/fault_proxy (trib is <build>/apps/trib/trib).
proxy_bin="$(cd "$(dirname "$TRIB_BIN")/../.." && pwd)/tests/fault_proxy"
[ -x "$proxy_bin" ] || { fail "no fault proxy at $proxy_bin (build the fault_proxy target)"; finish; }
blob_port=$(sed -n 's|.*BlobEndpoint=http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' <<< "$az")
queue_port=$(sed -n 's|.*QueueEndpoint=http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' <<< "$az")
[ -n "$blob_port" ] && [ -n "$queue_port" ] || { fail "no 127.0.0.1 endpoints in the connection string"; finish; }

SYMBOLS=200 FROM=2019-01-01 TO=2020-12-31 TASKS=400 WORKERS=4 DRAIN_LIMIT_S=200
FAIL=${CHAOS_FAIL:-0.1} LOSE=${CHAOS_LOSE:-0.05} DROP=${CHAOS_DROP:-0.02}
seed=${CHAOS_SEED:-$(( (RANDOM << 15) | RANDOM ))}
schema="chaos_$$_$RANDOM"
container="chaos-$$-$RANDOM"
qname="chaos$$x$RANDOM"
declare -A live=()  # worker pid -> its number
proxy_pids=()
cleanup() {
  for pid in "${!live[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  for pid in "${proxy_pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  psql -q -X "$pg_url" -c "DROP SCHEMA IF EXISTS $schema CASCADE" > /dev/null 2>&1 || true
  if [ -n "${CHAOS_KEEP:-}" ]; then mkdir -p "$CHAOS_KEEP" && cp -r "$TMP/." "$CHAOS_KEEP/"; fi
  rm -rf "$TMP"
}
trap cleanup EXIT
psql -q -X "$pg_url" -c "CREATE SCHEMA $schema" || { fail "cannot create schema $schema"; finish; }
url="$pg_url?options=-csearch_path%3D$schema"
t0=$(date +%s.%N)
elapsed() { awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }'; }

# One proxy per service, each with its own seed.
start_proxy() {  # NAME TARGET_PORT SEED
  "$proxy_bin" --target-port "$2" --fail "$FAIL" --lose "$LOSE" --drop "$DROP" --seed "$3" \
    --port-file "$1.port" --stats-file "$1.stats" > "$1.out" 2> "$1.err" &
  proxy_pids+=($!)
  for _ in $(seq 1 200); do [ -s "$1.port" ] && break; sleep 0.02; done
  [ -s "$1.port" ] || { fail "fault proxy for $1 did not start: $(cat "$1.err")"; finish; }
}
start_proxy blob "$blob_port" "$seed"
start_proxy queue "$queue_port" "$((seed + 1))"
chaos_az="${az/127.0.0.1:$blob_port\//127.0.0.1:$(cat blob.port)/}"
chaos_az="${chaos_az/127.0.0.1:$queue_port\//127.0.0.1:$(cat queue.port)/}"
[[ "$chaos_az" != *":$blob_port/"* && "$chaos_az" != *":$queue_port/"* ]] || { fail "endpoints not rewritten"; finish; }

mkdir cloud
cat > cloud/trib.toml <<TOML
[lake]
kind = "azure"
container = "$container"
prefix = "chaos"

[catalog]
kind = "postgres"
url = "$url"

[queue]
kind = "azure"
name = "$qname"
visibility_timeout_s = 5
max_attempts = 20
TOML
# Everything from here to the end of the drain goes through the proxies.
export AZURE_STORAGE_CONNECTION_STRING="$chaos_az"
"$TRIB_BIN" -w cloud init > init.txt 2>&1 || { cat init.txt >&2; fail "init through the proxies"; finish; }
# A request can fail past the client's retries (1 in ~10^5 at these rates): the backfill then
# exits 75 and is rerun, as its message says; a rerun queues only what is not queued yet.
plans=0
until "$TRIB_BIN" -w cloud backfill --vendor sim --symbols $SYMBOLS --from $FROM --to $TO --no-drain --json > plan.json 2> plan.err; do
  rc=$?; plans=$((plans + 1))
  [ $rc == 75 ] && [ $plans -lt 5 ] || { cat plan.err >&2; fail "planning the backfill through the proxies (exit $rc)"; finish; }
  echo "backfill exited 75 (transient), rerunning: $(tail -1 plan.err)"
done
[ "$(jq '.queued + .already_queued' plan.json)" == $TASKS ] && [ "$(jq .already_done plan.json)" == 0 ] \
  && pass "planned $TASKS tasks through the proxies ($((plans + 1)) run(s))" || fail "plan: $(cat plan.json)"

alive() { [ -r "/proc/$1/stat" ] && [ "$(cut -d' ' -f3 "/proc/$1/stat")" != Z ]; }
nworkers=0 kills=0 crashes=0 drained=0
start_worker() {
  nworkers=$((nworkers + 1))
  "$TRIB_BIN" -w cloud worker --drain --json > "worker$nworkers.json" 2> "worker$nworkers.err" &
  live[$!]=$nworkers
}
for _ in $(seq 1 $WORKERS); do start_worker; done
drain_t0=$SECONDS
while true; do
  sleep "2.$((RANDOM % 10))"
  for pid in "${!live[@]}"; do
    alive "$pid" && continue
    rc=0; wait "$pid" || rc=$?
    n=${live[$pid]}; unset "live[$pid]"
    if [ "$rc" == 0 ]; then
      drained=$((drained + 1))
    else  # it died by itself: a crash (replaced, so the run still drains; the test fails below)
      crashes=$((crashes + 1))
      echo "worker $n exited $rc: $(tail -3 "worker$n.err")" >&2
      start_worker
    fi
  done
  [ ${#live[@]} == 0 ] && break
  if [ $((SECONDS - drain_t0)) -gt $DRAIN_LIMIT_S ]; then
    fail "the queue was not drained after $DRAIN_LIMIT_S s (${#live[@]} worker(s) still running)"
    break
  fi
  pids=("${!live[@]}")
  victim=${pids[$((RANDOM % ${#pids[@]}))]}
  kill -KILL "$victim" 2>/dev/null || true
  wait "$victim" 2>/dev/null || true
  unset "live[$victim]"
  kills=$((kills + 1))
  start_worker
done
drain_s=$((SECONDS - drain_t0))
for pid in "${!live[@]}"; do kill -KILL "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; unset "live[$pid]"; done
for pid in "${proxy_pids[@]}"; do kill -TERM "$pid"; wait "$pid" || fail "a proxy exited $?"; done
proxy_pids=()
[ $crashes == 0 ] && pass "no worker died but by SIGKILL ($kills killed, $drained drained)" \
  || fail "$crashes worker(s) exited non-zero by themselves"

# From here on, Azurite directly.
export AZURE_STORAGE_CONNECTION_STRING="$az"
"$TRIB_BIN" -w cloud queue list > queue.txt 2>&1 || fail "queue list: $(cat queue.txt)"
grep -q "^queue '$qname': 0 message(s) (0 visible), 0 poisoned" queue.txt && pass "queue and poison queue empty" \
  || fail "queue: $(cat queue.txt)"
"$TRIB_BIN" -w cloud queue poison --json > poison.json || fail "queue poison"
[ "$(jq length poison.json)" == 0 ] && pass "nothing poisoned" || fail "poisoned: $(jq -c '.[] | {id, last_error}' poison.json | head -5)"

# The reference: the same backfill on a local workspace (SQLite, a folder), no faults.
"$TRIB_BIN" init local > /dev/null
"$TRIB_BIN" -w local backfill --vendor sim --symbols $SYMBOLS --from $FROM --to $TO --workers 2 --json > local.json \
  || fail "local backfill"
q="SELECT symbol || ' ' || partition || ' ' || row_count || ' ' || content_sha256 || ' v' || version FROM partitions
   WHERE dataset = 'bars' ORDER BY 1"
sqlite3 local/catalog.db "$q" > expected.txt
psql -X -A -t -q "$url" -c "$q" > actual.txt
[ "$(wc -l < expected.txt)" == $TASKS ] || fail "the local reference has $(wc -l < expected.txt) partitions"
if cmp -s expected.txt actual.txt; then
  pass "all $TASKS partitions once in the catalog, each with the reference's row count and content, version 1"
else
  fail "catalog differs from the reference ($(wc -l < actual.txt) partitions):"
  diff expected.txt actual.txt | head -10 >&2 || true
fi
count() { psql -X -A -t -q "$url" -c "SELECT count(*) FROM $1"; }
[ "$(count raw_objects)" == $TASKS ] && [ "$(count tasks_done)" == $TASKS ] \
  && pass "$TASKS raw objects and $TASKS tasks done" || fail "raw objects $(count raw_objects), tasks done $(count tasks_done)"

# The lake: one live file per partition, one version object each, one raw payload (+ sidecar)
# per task; nothing else.
keys() { "$TRIB_BIN" -w "$1" lake ls "$2" --json | jq -r '.[].key' > "$3" || fail "lake ls $2 in $1"; }
keys cloud curated/ live.txt
keys local curated/ live.expected
cmp -s live.txt live.expected && [ "$(sort -u live.txt | wc -l)" == $TASKS ] \
  && pass "$TASKS live files, the reference's keys" || fail "live files: $(wc -l < live.txt), differences: $(diff live.expected live.txt | head -5)"
keys cloud _versions/ versions.txt
keys local _versions/ versions.expected
cmp -s versions.txt versions.expected && [ "$(wc -l < versions.txt)" == $TASKS ] \
  && pass "one version object per partition" || fail "version objects: $(wc -l < versions.txt), differences: $(diff versions.expected versions.txt | head -5)"
keys cloud raw/ raw.txt
keys local raw/ raw.expected
cmp -s raw.txt raw.expected && pass "raw zone: the reference's $(wc -l < raw.txt) objects" \
  || fail "raw objects: $(wc -l < raw.txt), differences: $(diff raw.expected raw.txt | head -5)"
keys cloud quarantine/ quarantine.txt
keys local quarantine/ quarantine.expected
cmp -s quarantine.txt quarantine.expected && pass "quarantine: the reference's $(wc -l < quarantine.txt) objects" \
  || fail "quarantine differs: $(diff quarantine.expected quarantine.txt | head -5)"
"$TRIB_BIN" -w cloud verify > verify.txt 2>&1 && grep -q "0 corrupt, 0 stale" verify.txt \
  && pass "verify: $(head -1 verify.txt)" || fail "verify: $(cat verify.txt)"

# Dedupe-key markers: every message that was removed freed its key.
markers=$(node -e '
  const { BlobServiceClient } = require(process.argv[1] + "/node_modules/@azure/storage-blob");
  (async () => {
    const c = BlobServiceClient.fromConnectionString(process.argv[2]).getContainerClient("trib-queue-keys");
    let n = 0;
    for await (const _ of c.listBlobsFlat({ prefix: process.argv[3] + "/" })) n++;
    console.log(n);
  })().catch((e) => { console.error(e.message); process.exit(1); });
' "$TRIB_SOURCE_DIR" "$az" "$qname") || markers="?"
[ "$markers" == 0 ] && pass "no dedupe marker left" || fail "$markers dedupe marker(s) left under trib-queue-keys/$qname/"

# The report. Killed workers print no summary, so attempts come from what every worker logged;
# deliveries are counted by the queue proxy in the Get Messages answers that reached a worker.
pstat() { jq -s "map(.$1) | add" blob.stats queue.stats; }
logged() { cat worker*.err | grep -c -- "$1" || true; }
printf 'chaos report: %d tasks, %d workers started, %d killed, %d drained; proxy (seed %s): %d requests forwarded, %d failed before, %d answers lost, %d connections dropped (%d before, %d after forwarding), %d upstream errors; workers: %d failed attempts (%d on a stale pop receipt), %d transient poll failures, %d sent to poison; %d deliveries, %d redeliveries; drained in %d s, %s s in all\n' \
  $TASKS $nworkers $kills $drained "$seed" "$(pstat forwarded)" "$(pstat failed_before)" "$(pstat lost_answers)" \
  "$(( $(pstat dropped_before) + $(pstat dropped_after) ))" "$(pstat dropped_before)" "$(pstat dropped_after)" "$(pstat upstream_errors)" \
  "$(logged ' failed (attempt ')" "$(logged 'failed (attempt .*pop receipt .* is stale')" \
  "$(logged 'polling the queue failed')" "$(logged 'failed permanently')" \
  "$(pstat deliveries)" "$(pstat redeliveries)" $drain_s "$(elapsed)"
[ "$(pstat failed_before)" -gt 0 ] && [ "$(pstat lost_answers)" -gt 0 ] && [ "$(( $(pstat dropped_before) + $(pstat dropped_after) ))" -gt 0 ] \
  && [ $kills -gt 0 ] && pass "faults were injected and workers killed" || fail "the chaos did not happen"
finish
