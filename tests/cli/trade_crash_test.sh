# The live runner against the mock Alpaca Trading API (tests/mock_vendor), SIGKILLed at each step
# of a cycle (TRIB_FAILPOINT): before an order is sent, after it is sent but before the answer is
# recorded, and after the broker reported a fill but before the ledger recorded it. Each time a
# restart finishes the work: every order reaches Alpaca exactly once, every fill is recorded once,
# and the ledger's positions equal Alpaca's. Then an order placed behind the runner's back (a fill
# no order explains) halts the account with a report.
source "$(dirname "$0")/lib.sh"
start_mock_vendor

src="$TRIB_SHARED_DATA/equities-daily/all_stocks_5yr.csv.zst"
[ -f "$src" ] || { fail "no $src"; exit 1; }
zstd -q -d -c "$src" | awk -F, 'NR == 1 || ($7 == "AAPL" || $7 == "MSFT" || $7 == "KO")' > stocks.csv
export APCA_API_KEY_ID=mock-key-7f3a9c2e51 APCA_API_SECRET_KEY=mock-secret-0d4b8e6a
ALPACA="$MOCK_URL/alpaca-trading"
control() { curl -sf -X POST -H 'Content-Type: application/json' -d "${2:-}" "$ALPACA/_mock/$1"; }
# The market opens on session $1: every open order fills at that session's open.
open_on() {
  local prices
  prices=$(awk -F, -v d="$1" '$1 == d { printf "%s\"%s\": %s", (n++ ? ", " : ""), $7, $2 }' stocks.csv)
  control open "{\"prices\": {$prices}}" > /dev/null
}
S1=2016-01-04; S2=2016-01-05; S3=2016-01-06
STRAT=(--universe AAPL,MSFT,KO --strategy buy_and_hold)

setup() {
  rm -rf ws
  "$TRIB_BIN" init ws > /dev/null
  sed -i "s|^kind = \"paper\"|kind = \"alpaca\"\nurl = \"$ALPACA\"|" ws/trib.toml
  "$TRIB_BIN" -w ws ingest --vendor csv --file stocks.csv > /dev/null
  control "reset?cash=100000" > /dev/null
}

# Crashes the cycle for $2 at failpoint $1; expects the SIGKILL exit (137).
crash() {
  local rc=0
  # (bash notes the SIGKILL on stderr: "Killed ...", expected here)
  TRIB_FAILPOINT=$1 "$TRIB_BIN" -w ws trade "${STRAT[@]}" --session "$2" > /dev/null 2>&1 || rc=$?
  [ $rc == 137 ] && pass "$1: killed in the cycle for $2" || fail "$1: exit $rc, expected 137"
}

# Alpaca's book and the ledger agree, with each order once.
check() {
  local name=$1 state broker_orders ids ledger_orders broker_fills ledger_fills
  state=$(control state)
  broker_orders=$(jq '.orders | length' <<< "$state")
  ids=$(jq -r '.orders[].client_order_id' <<< "$state" | sort | uniq -d | wc -l)
  ledger_orders=$(sqlite3 ws/catalog.db "SELECT count(*) FROM ledger_orders")
  broker_fills=$(curl -sf -H "APCA-API-KEY-ID: $APCA_API_KEY_ID" -H "APCA-API-SECRET-KEY: $APCA_API_SECRET_KEY" \
    "$ALPACA/v2/account/activities/FILL" | jq length)
  ledger_fills=$(sqlite3 ws/catalog.db "SELECT count(*) FROM ledger_fills")
  local bpos lpos
  bpos=$(jq -r '.positions[] | "\(.symbol)=\(.qty)"' <<< "$state" | sort | tr '\n' ' ')
  lpos=$(sqlite3 ws/catalog.db "SELECT symbol || '=' || (qty_micros / 1000000) FROM ledger_positions WHERE qty_micros != 0 ORDER BY symbol" | tr '\n' ' ')
  if [ "$broker_orders" == 3 ] && [ "$ids" == 0 ] && [ "$ledger_orders" == 3 ] && [ "$broker_fills" == "$ledger_fills" ] \
     && [ "$ledger_fills" == 3 ] && [ "$bpos" == "$lpos" ]; then
    pass "$name: 3 orders at Alpaca (none twice), 3 in the ledger, $ledger_fills fills on both sides, positions $lpos"
  else
    fail "$name: broker orders $broker_orders (dup ids $ids), ledger $ledger_orders, fills $broker_fills/$ledger_fills, positions '$bpos' vs '$lpos'"
  fi
}

for point in before_submit after_submit_before_ack; do
  setup
  crash $point $S1
  "$TRIB_BIN" -w ws trade "${STRAT[@]}" --session $S1 --json > restart.json
  [ "$(jq '.orders | length' restart.json)" == 3 ] && pass "$point: the restart has the 3 orders ($(jq -c .reconcile restart.json))" \
    || fail "$point restart: $(cat restart.json)"
  open_on $S2
  "$TRIB_BIN" -w ws trade "${STRAT[@]}" --session $S2 > /dev/null
  check "$point"
done

setup
"$TRIB_BIN" -w ws trade "${STRAT[@]}" --session $S1 > /dev/null
open_on $S2
crash after_fill_before_ledger $S2
[ "$(sqlite3 ws/catalog.db 'SELECT count(*) FROM ledger_fills')" == 0 ] && pass "the fill was not recorded before the kill" \
  || fail "fills recorded before the kill"
"$TRIB_BIN" -w ws trade "${STRAT[@]}" --session $S2 --json > restart.json
[ "$(jq .reconcile.fills_imported restart.json)" == 3 ] && pass "the restart imported the 3 fills" || fail "restart: $(cat restart.json)"
"$TRIB_BIN" -w ws trade "${STRAT[@]}" --session $S3 > /dev/null
check "after_fill_before_ledger"

# Someone trades the account behind the runner's back: the next cycle halts it with a report.
curl -sf -X POST -H "APCA-API-KEY-ID: $APCA_API_KEY_ID" -H "APCA-API-SECRET-KEY: $APCA_API_SECRET_KEY" \
  -H 'Content-Type: application/json' -d '{"symbol":"KO","qty":"5","side":"buy","type":"market","time_in_force":"day"}' \
  "$ALPACA/v2/orders" > /dev/null
open_on $S3
"$TRIB_BIN" -w ws trade "${STRAT[@]}" --session 2016-01-07 --json > drift.json
[ "$(jq -r .state drift.json)" == HALTED ] && jq -r '.reconcile.differences[]' drift.json | grep -q "KO: the broker holds" \
  && pass "a position no order explains halts the account: $(jq -r '.reconcile.differences[0]' drift.json)" \
  || fail "drift: $(cat drift.json)"
[ "$(jq '.orders | length' drift.json)" == 0 ] && pass "nothing sent while halted" || fail "orders while halted"
finish
