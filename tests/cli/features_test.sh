# trib features and trib eval as a user runs them: the basic set written then current on a
# rerun, a workspace set found by name, listed and shown, recomputed when its text changes, bad
# formulas and unknown sets refused with the file, the feature and the column; trib eval against
# a hand computation from the source CSV, the future refused outside labels.
source "$(dirname "$0")/lib.sh"

"$TRIB_BIN" init ws > /dev/null
"$TRIB_BIN" -w ws ingest --vendor csv --file "$SP500" --symbol ^GSPC > /dev/null

out=$("$TRIB_BIN" -w ws features)
grep -q "features/basic: 20 feature(s) on total prices, 1 symbol(s) (1 full, 0 incremental, 0 current), 5105 row(s); 21 partition(s) written" <<< "$out" \
  && pass "basic set written: $out" || fail "first run: $out"
out=$("$TRIB_BIN" -w ws features)
grep -q "(0 full, 0 incremental, 1 current), 0 row(s); 0 partition(s) written" <<< "$out" \
  && pass "a rerun computes and writes nothing" || fail "rerun: $out"

mkdir -p ws/feature_sets
cat > ws/feature_sets/mine.toml <<'TOML'
# my set
[features]
ma_ratio = "Mean($close, 5) / $close"
up_share = "Mean($close > Ref($close, 1), 10)"
TOML
out=$("$TRIB_BIN" -w ws features --set mine --json)
grep -q '"set":"mine"' <<< "$out" && grep -q '"symbols_full":1' <<< "$out" && grep -q '"features":2' <<< "$out" \
  && pass "workspace set by name" || fail "mine: $out"
[ "$(find ws/lake/features/mine -name data.parquet | wc -l)" == 21 ] && pass "21 yearly files under features/mine" \
  || fail "features/mine files: $(find ws/lake/features/mine -name data.parquet | wc -l)"
list=$("$TRIB_BIN" -w ws features --list)
grep -q "^alpha158 .* 158 features" <<< "$list" && grep -q "^mine .*2 features" <<< "$list" \
  && pass "--list shows the shipped and the workspace sets" || fail "list: $list"
show=$("$TRIB_BIN" -w ws features --set mine --show)
grep -q "^ma_ratio = Mean(\$close, 5) / \$close$" <<< "$show" && pass "--show prints the formulas" || fail "show: $show"

sed -i 's/Mean(\$close, 5)/Mean($close, 6)/' ws/feature_sets/mine.toml
out=$("$TRIB_BIN" -w ws features --set mine)
grep -q "(1 full, 0 incremental, 0 current)" <<< "$out" && pass "an edited set recomputes" || fail "edited: $out"

sed -i 's/Mean(\$close, 6)/Mean($close, 0)/' ws/feature_sets/mine.toml
rc=0
err=$("$TRIB_BIN" -w ws features --set mine 2>&1 >/dev/null) || rc=$?
[ "$rc" != 0 ] && grep -q "mine.toml: ma_ratio: window must be >= 1 at column 14" <<< "$err" \
  && pass "a bad formula names the file, the feature and the column" || fail "bad formula (rc $rc): $err"
rc=0
err=$("$TRIB_BIN" -w ws features --set nosuch 2>&1 >/dev/null) || rc=$?
[ "$rc" != 0 ] && grep -q "feature set 'nosuch' is not known; the sets are alpha158, basic, mine" <<< "$err" \
  && pass "an unknown set lists the sets" || fail "unknown set (rc $rc): $err"

# Mean($close, 5) on 2000-01-07 from the CSV itself (the first five closes of 2000).
want=$(awk -F, 'NR > 1 && $1 >= "2000-01-01" && n < 5 { s += $5; n++ } END { printf "%.10f", s / 5 }' "$SP500")
got=$("$TRIB_BIN" -w ws eval 'm=Mean($close, 5)' --symbol ^GSPC --from 2000-01-07 --to 2000-01-07 | tail -1 | cut -d, -f3)
awk -v a="$got" -v b="$want" 'BEGIN { d = a - b; exit !(d < 1e-9 && d > -1e-9) }' \
  && pass "trib eval Mean(\$close, 5) = $got, the CSV's $want" || fail "eval: $got, want $want"
rc=0
err=$("$TRIB_BIN" -w ws eval 'Ref($close, -1)' --symbol ^GSPC 2>&1 >/dev/null) || rc=$?
[ "$rc" != 0 ] && grep -q "reads 1 session(s) into the future" <<< "$err" && pass "the future is refused" \
  || fail "future (rc $rc): $err"
last=$("$TRIB_BIN" -w ws eval --label 'next=Ref($close, -1) / $close - 1' --symbol ^GSPC | tail -1)
[ "$last" == "^GSPC,2020-04-17," ] && pass "--label: the last session has no next return" || fail "label: $last"
finish
