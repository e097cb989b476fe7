# `trib bars` reads only the partitions in range, and prints the file's own numbers.
source "$(dirname "$0")/lib.sh"
"$TRIB_BIN" init ws > /dev/null
"$TRIB_BIN" -w ws ingest --vendor csv --file "$SP500" --symbol ^GSPC > /dev/null

out=$("$TRIB_BIN" -w ws bars ^GSPC --from 2020-03-02 --to 2020-03-06)
echo "$out" | grep -q "5 bar(s) of ^GSPC from 1 partition file(s)" && pass "one partition read for one week" || fail "bars: $out"
out=$("$TRIB_BIN" -w ws bars ^GSPC --from 2008-12-30 --to 2009-01-05 --format csv)
[ "$(echo "$out" | wc -l)" == 5 ] && pass "csv: header + 4 sessions across a year boundary" || fail "csv: $out"
# Compare with the source file's text for 2009-01-02 (open, high, low, close, volume).
src=$(grep '^2009-01-02,' "$SP500")
close_src=$(echo "$src" | cut -d, -f5)
close_ours=$(echo "$out" | grep '^2009-01-02,' | cut -d, -f6)
awk -v a="$close_src" -v b="$close_ours" 'BEGIN { exit !(a + 0 == b + 0) }' && pass "2009-01-02 close $close_ours equals the CSV" || fail "close $close_ours vs $close_src"
ts=$(echo "$out" | grep '^2009-01-02,' | cut -d, -f2)
[ "$ts" == "2009-01-02T14:30:00Z" ] && pass "ts is the 09:30 New York open in UTC" || fail "ts $ts"
json=$("$TRIB_BIN" -w ws bars ^GSPC --from 2020-04-17 --format json)
echo "$json" | node -e 'const l = require("fs").readFileSync(0, "utf8").trim().split("\n").map(JSON.parse); if (l.length !== 1 || l[0].session_date !== "2020-04-17") process.exit(1)' \
  && pass "json lines" || fail "json: $json"
finish
