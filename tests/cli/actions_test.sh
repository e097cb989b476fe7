# `trib actions` and `trib bars --adjust` on real data: Lean's raw AAPL bars and Lean's factor
# and map files; a user's CSV that corrects and contradicts them; bad files refused whole with the
# line named; the actions survive a catalog rebuild from the lake (they came through the raw zone).
source "$(dirname "$0")/lib.sh"
LEAN="$TRIB_SHARED_DATA/equities-daily/lean-us-equity-daily"
[ -d "$LEAN" ] || { echo "skip: no ../shared/data"; exit 0; }
"$TRIB_BIN" init ws > /dev/null
"$TRIB_BIN" -w ws ingest --vendor csv --file "$LEAN/raw/aapl.csv" --symbol AAPL > /dev/null

out=$("$TRIB_BIN" -w ws actions import "$LEAN")
echo "$out" | grep -qE "^imported 4[0-9] file\(s\): [0-9]+ action\(s\), [0-9]+ new to the catalog" && pass "lean folder: $out" || fail "import: $out"
out=$("$TRIB_BIN" -w ws actions import "$LEAN/factor_files/aapl.csv")
echo "$out" | grep -q ", 0 new to the catalog" && pass "importing again adds nothing" || fail "again: $out"

list=$("$TRIB_BIN" -w ws actions list AAPL --format csv)
echo "$list" | grep -qE "^AAPL,split,2014-06-09,6\.99999[0-9]*,,lean," && pass "AAPL 7:1 split from Lean" || fail "list: $list"
[ "$(echo "$list" | grep -c ',split,')" == 4 ] && pass "AAPL: 4 splits" || fail "splits: $list"
wm=$("$TRIB_BIN" -w ws actions list WM --format csv)
echo "$wm" | grep -q "^WMI,symbol_change,2009-08-05,WM," && pass "WMI -> WM from the map file" || fail "wm: $wm"

# Split-adjusted closes are continuous across 2014-06-09 and 2020-08-31; raw ones are not.
ret() {  # ret MODE DAY: the close-to-close return into DAY
  "$TRIB_BIN" -w ws bars AAPL --adjust "$1" --format csv | awk -F, -v d="$2" 'NR > 1 { if ($1 == d) { printf "%.6f\n", $6 / prev - 1 } prev = $6 }'
}
for day in 2014-06-09 2020-08-31; do
  r=$(ret split $day); raw=$(ret raw $day)
  awk -v r="$r" 'BEGIN { exit !(r < 0.05 && r > -0.05) }' && pass "split-adjusted return on $day: $r" || fail "split return $day: $r"
  awk -v r="$raw" 'BEGIN { exit !(r < -0.5) }' && pass "raw return on $day: $raw" || fail "raw return $day: $raw"
done
# Hand-computed: 2020-08-28 closed at 499.23, i.e. 124.8075 in today's shares.
c=$("$TRIB_BIN" -w ws bars AAPL --adjust split --from 2020-08-28 --to 2020-08-28 --format csv | tail -1 | cut -d, -f6)
awk -v c="$c" 'BEGIN { exit !(c > 124.807 && c < 124.808) }' && pass "2020-08-28 split-adjusted close $c" || fail "close $c"

# A user's file: a dividend that contradicts Lean's, and a split entered twice by mistake, then withdrawn.
cat > mine.csv <<'CSV'
symbol,kind,ex_date,ratio,amount,pay_date
AAPL,dividend,2020-08-07,,0.50,2020-08-13
AAPL,split,2020-08-24,2,,
CSV
"$TRIB_BIN" -w ws actions import mine.csv > /dev/null
conf=$("$TRIB_BIN" -w ws actions conflicts AAPL)
echo "$conf" | grep -q "AAPL     dividend  2020-08-07  uses user: dividend 2020-08-07 0.5 USD (user) vs 0.8" && pass "conflict reported, the user's version used" || fail "conflicts: $conf"
echo "$conf" | grep -q "split ex-date 2020-08-24 (user) vs 2020-08-31 (lean)" && pass "a split on another date is a conflict, not a second split" || fail "conflicts: $conf"
before=$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)
sleep 1
printf 'symbol,kind,ex_date,retracted\nAAPL,split,2020-08-24,true\n' > undo.csv
"$TRIB_BIN" -w ws actions import undo.csv > /dev/null
now=$("$TRIB_BIN" -w ws actions conflicts AAPL)
echo "$now" | grep -q "2020-08-24" && fail "the withdrawn split still conflicts" || pass "withdrawn: no longer in force"
asof=$("$TRIB_BIN" -w ws actions list AAPL --as-of "$before" --format csv)
echo "$asof" | grep -q "^AAPL,split,2020-08-24,2,,user" && pass "--as-of before the withdrawal still shows it" || fail "as-of: $asof"
"$TRIB_BIN" -w ws bars AAPL --adjust total --from 2020-08-06 --to 2020-08-06 --format csv 2>err.txt > /dev/null
grep -q "reported differently by their sources" err.txt && pass "bars notes the conflict" || fail "no note: $(cat err.txt)"

# Bad files are refused whole, naming the line; nothing is stored.
printf 'symbol,kind,ex_date,ratio\nAAPL,split,2021-01-04,0\nAAPL,split,2021-13-01,2\n' > bad.csv
expect_error "bad rows" 2 "bad.csv: 2 row\(s\) are not valid actions, nothing was imported; line 2: .*4-for-1.*; line 3: ex_date '2021-13-01'" \
  -- "$TRIB_BIN" -w ws actions import bad.csv
printf 'symbol,kind,date\n' > header.csv
expect_error "bad header" 2 "column 'date' is not known" -- "$TRIB_BIN" -w ws actions import header.csv
expect_error "missing file" 3 "nope.csv: no such file" -- "$TRIB_BIN" -w ws actions import nope.csv
expect_error "bad source" 2 "--source 'Bad Name'" -- "$TRIB_BIN" -w ws actions import mine.csv --source "Bad Name"
expect_error "bad mode" 2 "--adjust 'adj' is not known; use raw, split or total" -- "$TRIB_BIN" -w ws bars AAPL --adjust adj
expect_error "hot adjusted" 2 "--hot answers raw bars only" -- "$TRIB_BIN" -w ws bars AAPL --hot --adjust split

# The catalog lost: rebuilt from the lake, and `trib etl` records the same actions from raw.
"$TRIB_BIN" -w ws actions list --format csv | cut -d, -f1-7 > before.csv
rm -f ws/catalog.db ws/catalog.db-wal ws/catalog.db-shm
"$TRIB_BIN" -w ws catalog rebuild > /dev/null
"$TRIB_BIN" -w ws etl > /dev/null
"$TRIB_BIN" -w ws actions list --format csv | cut -d, -f1-7 > after.csv
diff before.csv after.csv > /dev/null && pass "catalog rebuild + etl: the same $(wc -l < after.csv) rows with the same knowledge times" || fail "after rebuild: $(diff before.csv after.csv | head -5)"
finish
