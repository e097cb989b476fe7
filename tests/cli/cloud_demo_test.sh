# scripts/cloud-demo, as a user runs it: Azurite + PostgreSQL started by the script itself, the
# backfill drained by 4 worker processes, the daily update through the Azure Functions custom
# handler, and every curated and feature file of the local demo byte-identical in the Azure lake.
source "$(dirname "$0")/lib.sh"

TRIB_BIN="$TRIB_BIN" "$TRIB_SOURCE_DIR/scripts/cloud-demo" "$TMP/cloud" > out.txt 2>&1 || { cat out.txt >&2; fail "scripts/cloud-demo failed"; finish; }
grep -q "cloud demo OK" out.txt && pass "cloud demo OK" || fail "no OK line"
grep -q "550 task(s) processed" out.txt && pass "4 worker processes drained 550 tasks" || fail "$(grep '^3\.' out.txt)"
grep -q '"succeeded":50,"failed":0' out.txt && pass "RunTask ran the 50 update tasks" || fail "$(grep RunTask out.txt)"
grep -q "all byte-identical in the Azure lake" out.txt && pass "curated and feature files identical to the local demo" || fail "$(grep '^6\.' out.txt)"
grep -q "Eby8vdM02\|AccountKey=" out.txt "$TMP"/cloud/*.log "$TMP"/cloud/*.json 2>/dev/null && fail "the account key reached an output" || pass "no key in any output"
pgrep -f "$TMP/cloud/azurite" > /dev/null && fail "Azurite left running" || pass "servers stopped"
finish
