# trib ml as a user runs it, on 30 stocks of the Kaggle S&P 500 file (../shared/data,
# 2013-2018): a ridge and an XGBoost model trained walk-forward on the basic feature set, listed,
# shown and compared; a rerun trains nothing; predictions written, rewritten unchanged, read as
# of a date; the numbers checked against scikit-learn, the xgboost package and scipy
# (tests/ml/reference_check.py with Debian's /usr/bin/python3); configs with mistakes refused.
source "$(dirname "$0")/lib.sh"

src="$TRIB_SHARED_DATA/equities-daily/all_stocks_5yr.csv.zst"
[ -f "$src" ] || { fail "no $src"; exit 1; }
SYMBOLS="AAPL MSFT AMZN GOOGL JPM XOM JNJ PG KO PFE INTC CSCO WMT BA CVX MRK T VZ HD DIS IBM MMM GE CAT MCD NKE ORCL QCOM TXN UNH"
zstd -q -d -c "$src" | awk -F, -v keep="$SYMBOLS" 'BEGIN { n = split(keep, k, " "); for (i = 1; i <= n; i++) want[k[i]] = 1 }
  NR == 1 || ($7 in want)' > stocks.csv
"$TRIB_BIN" init ws > /dev/null
"$TRIB_BIN" -w ws ingest --vendor csv --file stocks.csv --quarantine-bad-rows > /dev/null
universe=$(printf '"%s", ' $SYMBOLS); universe="[${universe%, }]"

cat > ridge.toml <<TOML
name = "basic-ridge"
[dataset]
feature_set = "basic"
universe = $universe
[split]
train = 252
valid = 63
test = 126
embargo = 2
[model]
kind = "ridge"
[model.params]
alphas = [0.1, 10.0, 1000.0, 100000.0]
TOML
out=$("$TRIB_BIN" -w ws ml train --config ridge.toml --export ridge-export 2> ridge.log) || { cat ridge.log >&2; fail "ridge train"; }
ridge_id=$(sed -n 's/^model \([^ ]*\) (ridge.*/\1/p' <<< "$out")
[ -n "$ridge_id" ] && grep -q "split(s) over 2013-02-08 .. 2018-02-07" <<< "$out" && grep -q "rank IC" <<< "$out" \
  && pass "ridge trained: $ridge_id" || fail "ridge: $out"
grep -q "^split 0: train 2013-02-08 " ridge.log && pass "progress per split" || fail "log: $(cat ridge.log)"
out=$("$TRIB_BIN" -w ws ml train --config ridge.toml 2>/dev/null)
grep -q "^model $ridge_id .*registered already, nothing trained" <<< "$out" && pass "a rerun is the same model, not retrained" \
  || fail "rerun: $out"

sed -e 's/basic-ridge/basic-xgb/' -e 's/kind = "ridge"/kind = "xgboost"\nseed = 3/' \
    -e 's/^alphas = .*/num_boost_round = 40\nearly_stopping_rounds = 10\nmax_depth = 3\nnthread = 2/' ridge.toml > xgb.toml
out=$("$TRIB_BIN" -w ws ml train --config xgb.toml --export xgb-export 2> xgb.log) || { cat xgb.log >&2; fail "xgb train"; }
xgb_id=$(sed -n 's/^model \([^ ]*\) (xgboost.*/\1/p' <<< "$out")
[ -n "$xgb_id" ] && grep -q "top features (final model)" <<< "$out" && pass "xgboost trained: $xgb_id" || fail "xgb: $out"

for kind in ridge xgboost; do
  id=$ridge_id; [ $kind == xgboost ] && id=$xgb_id
  dir=ridge-export; [ $kind == xgboost ] && dir=xgb-export
  if check=$(/usr/bin/python3 "$TRIB_SOURCE_DIR/tests/ml/reference_check.py" $kind $dir "ws/lake/models/$id" \
      "ws/lake/models/$id/metrics.json" 2>&1); then
    pass "$(tr '\n' ';' <<< "$check")"
  else
    fail "$kind against the Python references: $check"
  fi
done

list=$("$TRIB_BIN" -w ws ml list)
[ "$(grep -c -E "^($ridge_id|$xgb_id) " <<< "$list")" == 2 ] && pass "ml list shows both" || fail "list: $list"
[ "$("$TRIB_BIN" -w ws ml list --json | jq -r .id | head -1)" == "$xgb_id" ] && pass "newest first" || fail "list order"
show=$("$TRIB_BIN" -w ws ml show "$ridge_id")
grep -q "label ((Ref(\$close,-5)/\$close)-1) (horizon 5 sessions)" <<< "$show" && grep -q "^  *0  train 2013-02-08" <<< "$show" \
  && grep -q '"alpha":' <<< "$show" && grep -q '^kind = "ridge"' <<< "$show" && pass "ml show: splits, fit, config" \
  || fail "show: $show"
json=$("$TRIB_BIN" -w ws ml show "$ridge_id" --json)
[ "$(jq '.manifest.splits | length' <<< "$json")" == "$(jq .splits <<< "$json")" ] && pass "manifest lists every split" \
  || fail "manifest: $(jq .manifest.splits <<< "$json" | head -5)"
# Purged: no training row's label window reaches its validation or test window (5 sessions + embargo 2).
[ "$(jq '[.manifest.splits[] | .purged] | min' <<< "$json")" -ge $((30 * 5 * 2)) ] && pass "rows purged in every split" \
  || fail "purged: $(jq '[.manifest.splits[] | .purged]' <<< "$json")"
cmp=$("$TRIB_BIN" -w ws ml compare "$ridge_id" "$xgb_id")
grep -q "^rank_ic_mean" <<< "$cmp" && grep -q "ridge / basic" <<< "$cmp" && pass "ml compare" || fail "compare: $cmp"

out=$("$TRIB_BIN" -w ws ml predict --model "$ridge_id" --json)
[ "$(jq .symbols <<< "$out")" == 30 ] && [ "$(jq .partitions_written <<< "$out")" -gt 0 ] && pass "predictions written: $out" \
  || fail "predict: $out"
first=$(jq -r .from <<< "$out")
[ "$first" == "$(jq -r '.manifest.splits[0].test_from' <<< "$json")" ] && pass "forecasts start at the first test date" \
  || fail "first forecast $first"
again=$("$TRIB_BIN" -w ws ml predict --model "$ridge_id" --json)
[ "$(jq .partitions_written <<< "$again")" == 0 ] && [ "$(jq .rows <<< "$again")" == "$(jq .rows <<< "$out")" ] \
  && pass "a rerun writes nothing" || fail "rerun predict: $again"
csv=$("$TRIB_BIN" -w ws ml predictions --model "$ridge_id" --symbol AAPL --from 2017-06-01 --as-of 2017-06-07)
[ "$(wc -l <<< "$csv")" == 6 ] && ! grep -q "2017-06-08" <<< "$csv" && pass "predictions as of 2017-06-07: 5 sessions" \
  || fail "as-of: $csv"
# A strategy on the model: Qlib's TopkDropout over the 30 names, trading from the first forecast on.
bt=$("$TRIB_BIN" -w ws backtest --strategy topk_dropout --model "$ridge_id" --top-k 5 --drop-n 1 \
  --universe "$(echo $SYMBOLS | tr ' ' ',')" --from "$first" --benchmark AAPL --json)
first_trade=$("$TRIB_BIN" parquet cat "ws/lake/$(jq -r .saved <<< "$bt")trades.parquet" --columns session_date --limit 1 | tail -1)
[ "$(jq .trades <<< "$bt")" -gt 20 ] && [[ "$first_trade" > "$first" ]] \
  && pass "topk_dropout on $ridge_id: $(jq .trades <<< "$bt") trades from $first_trade, Sharpe $(jq .sharpe <<< "$bt")" \
  || fail "topk_dropout: first trade $first_trade, $bt"
[ "$(jq -r .params <<< "$bt")" == "top_k=5,drop_n=1,model=$ridge_id" ] && pass "the model is part of the run's parameters" \
  || fail "params: $(jq -r .params <<< "$bt")"
# The out-of-sample file: what the metrics were computed from, readable by anything that reads Parquet.
[ -f "ws/lake/models/$ridge_id/oos.parquet" ] && pass "oos.parquet written" || fail "no oos.parquet"

expect_error "unknown key" 2 "bad.toml: split.trian is not a known key" -- \
  bash -c "printf 'name = \"x\"\n[split]\ntrian = 5\n' > bad.toml; '$TRIB_BIN' -w ws ml train --config bad.toml"
cat > bad2.toml <<'TOML'
name = "x"
[dataset]
feature_set = "basic"
label = "Foo($close)"
universe = ["AAPL"]
TOML
rc=0; "$TRIB_BIN" -w ws ml train --config bad2.toml > /dev/null 2> err.txt || rc=$?
[ $rc == 2 ] && grep -q "label: unknown function 'Foo' at column 1" err.txt && pass "a label that does not compile: $(grep "label:" err.txt)" \
  || fail "bad label: exit $rc, $(cat err.txt)"
{ echo 'name = "short"'; echo '[dataset]'; echo 'feature_set = "basic"'; echo 'universe = ["AAPL", "MSFT"]';
  echo 'from = "2013-02-08"'; echo 'to = "2014-02-10"'; echo '[model]'; echo 'kind = "ridge"'; } > short.toml
expect_error "too few sessions" 2 "the dataset has [0-9]+ session\(s\); walk-forward needs more than train \+ valid = 630" -- \
  "$TRIB_BIN" -w ws ml train --config short.toml --json
expect_error "unknown model" 3 "model 'nope' is not registered; .trib ml list." -- "$TRIB_BIN" -w ws ml predict --model nope
expect_error "missing config" 3 "model config 'none.toml' cannot be read" -- "$TRIB_BIN" -w ws ml train --config none.toml

[ $fails == 0 ] || exit 1
