# One paper cycle per session: running `trade --once` twice places exactly one order, and the
# ledger's position and cash match what the fill says.
source "$(dirname "$0")/lib.sh"

"$TRIB_BIN" init ws > /dev/null
# A risk limit large enough for the S&P at ~2800: a 100k account buys ~35 units.
sed -i 's/^max_position_notional = .*/max_position_notional = 200000.00/; s/^max_order_notional = .*/max_order_notional = 200000.00/' ws/trib.toml
"$TRIB_BIN" -w ws ingest --vendor csv --file "$SP500" --symbol ^GSPC --to 2020-02-14 > /dev/null
"$TRIB_BIN" -w ws trade --once --json > t1.json
"$TRIB_BIN" -w ws trade --once --json > t2.json
node -e '
const t1 = JSON.parse(require("fs").readFileSync("t1.json")), t2 = JSON.parse(require("fs").readFileSync("t2.json"));
const fail = (m) => { console.error("FAIL: " + m); process.exitCode = 1; };
if (t1.session_date !== "2020-02-14") fail("session " + t1.session_date);
if (t1.action !== "placed") fail("first action " + t1.action);
if (t2.action !== "already_ran") fail("second action " + t2.action);
if (t1.order.status !== "filled") fail("status " + t1.order.status);
const pos = t1.positions.find((p) => p.symbol === "^GSPC");
if (!pos || pos.qty !== t1.target_qty) fail("position " + JSON.stringify(pos));
// Whole units, and the target is the largest that 100% of 100k buys at the close plus slippage.
if (!Number.isInteger(t1.target_qty) || t1.target_qty * 3380.16 > 100000) fail("qty " + t1.target_qty);
console.log("ok: first cycle placed", t1.order.client_order_id, "second:", t2.action);
'
orders=$(sqlite3 ws/catalog.db "SELECT count(*) FROM ledger_orders")
fills=$(sqlite3 ws/catalog.db "SELECT count(*) FROM ledger_fills")
[ "$orders" == 1 ] && pass "one order in the ledger" || fail "orders: $orders"
[ "$fills" == 1 ] && pass "one fill in the ledger" || fail "fills: $fills"

# A tight order limit: the order is denied, with its reason recorded, and nothing is filled.
"$TRIB_BIN" init ws2 > /dev/null
sed -i 's/^max_order_notional = .*/max_order_notional = 1000.00/' ws2/trib.toml
"$TRIB_BIN" -w ws2 ingest --vendor csv --file "$SP500" --symbol ^GSPC --to 2020-02-14 > /dev/null
"$TRIB_BIN" -w ws2 trade --once > denied.txt
grep -q "denied" denied.txt && grep -q "max_order_notional\|order notional" denied.txt && pass "denial shown with its reason" || fail "denial: $(cat denied.txt)"
status=$(sqlite3 ws2/catalog.db "SELECT status || '|' || reason FROM ledger_orders")
[[ "$status" == denied\|* ]] && pass "denial recorded: $status" || fail "ledger: $status"
[ "$(sqlite3 ws2/catalog.db 'SELECT count(*) FROM ledger_fills')" == 0 ] && pass "no fill for a denied order" || fail "denied order filled"
finish
