# Every Lean ticker end to end, as a user would load them: the raw daily files ingested as they
# are, the factor and map files imported (`trib actions import`), then `trib bars --adjust
# split|total`. Our split and dividend factors (adjusted / raw close, per session) equal Lean's
# factor files on every session of every ticker with bars, from the first span of its map file
# we have bars for, to 1e-6 relative (or Lean's 7th printed decimal). Two of them only through the symbol history:
# WM was WMI until 2009-08-04 and UW until 1998-07-16 (the WM rows before are Washington Mutual's),
# and QQQ was QQQQ from 2004-12-01 to 2011-03-22, years with no bars here, so its dividends there
# use Lean's reference prices.
source "$(dirname "$0")/lib.sh"
LEAN="$TRIB_SHARED_DATA/equities-daily/lean-us-equity-daily"
[ -d "$LEAN" ] || { echo "skip: no ../shared/data"; exit 0; }

"$TRIB_BIN" init ws > /dev/null
for f in "$LEAN"/raw/*.csv; do "$TRIB_BIN" -w ws ingest --vendor csv --file "$f" > /dev/null; done
"$TRIB_BIN" -w ws actions import "$LEAN" > /dev/null

# WM across its names: WMI's last day, then WM's first; the reused ticker's rows are not read.
out=$("$TRIB_BIN" -w ws bars WM --from 2009-08-03 --to 2009-08-05 --format csv 2> err)
grep -q "^2009-08-04,.*,28.5,2796729,csv$" <<< "$out" && grep -q "^2009-08-05,.*,28.58,1606227,csv$" <<< "$out" &&
  pass "WM reads WMI's bars up to 2009-08-04, then its own" || fail "WM: $out"
grep -q "read as WMI" err && pass "the note says which span came from which name" || fail "notes: $(cat err)"
out=$("$TRIB_BIN" -w ws bars WM --from 2005-01-03 --to 2005-01-03 --format csv)
want=$(awk -F, '$1 ~ /^20050103/ {print $5 / 10000}' "$LEAN/raw/wmi.csv")
grep -q "^2005-01-03,.*,$want,[0-9]*,csv$" <<< "$out" && pass "2005 is Waste Management's (WMI $want), not Washington Mutual's" ||
  fail "2005: $out (WMI close $want)"
out=$("$TRIB_BIN" -w ws bars WM --from 2005-01-03 --to 2005-01-03 --format csv --ticker-only)
want=$(awk -F, '$1 ~ /^20050103/ {print $5 / 10000}' "$LEAN/raw/wm.csv")
grep -q "^2005-01-03,.*,$want,[0-9]*,csv$" <<< "$out" && pass "--ticker-only reads the rows stored as WM ($want)" ||
  fail "--ticker-only: $out (WM close $want)"
# GOOG's rows before 2014-04-03 are the class A shares (GOOGL's history now).
out=$("$TRIB_BIN" -w ws bars GOOGL --from 2014-03-31 --to 2014-04-03 --format csv | cut -d, -f1,6 | tr '\n' ' ')
want=$(awk -F, '$1 >= "20140331" && $1 < "20140403" {printf "%s-%s-%s,%s ", substr($1,1,4), substr($1,5,2), substr($1,7,2), $5/10000}' "$LEAN/raw/goog.csv")
grep -q "^session_date,close $want" <<< "$out" && pass "GOOGL before 2014-04-03 is GOOG's rows: $want" || fail "GOOGL: $out (want $want)"

# Factors against Lean's, ticker by ticker. factor_check TICKER: prints "rows worst_rel" or a failure.
factor_check() {
  local t=$1 lower
  lower=$(tr 'A-Z' 'a-z' <<< "$t")
  # Compared after `start` (yyyyMMdd): from the first span of the map file whose name has bars
  # here (BAC traded as NB until 1998-09-30, not in the sample: BAC's rows before are another
  # bank's); a ticker without a map file from its first bar.
  local start=0 prev="" d name
  if [ -f "$LEAN/map_files/$lower.csv" ]; then
    while IFS=, read -r d name _; do
      if [ -f "$LEAN/raw/$name.csv" ]; then start=${prev:-$((d - 1))}; break; fi
      prev=$d
    done < "$LEAN/map_files/$lower.csv"
  fi
  "$TRIB_BIN" -w ws bars "$t" --format csv > raw.csv
  "$TRIB_BIN" -w ws bars "$t" --format csv --adjust split > split.csv 2> /dev/null
  "$TRIB_BIN" -w ws bars "$t" --format csv --adjust total > total.csv 2> /dev/null
  awk -F, -v start="$start" '
    FILENAME == ARGV[1] { n_f++; fd[n_f] = $1; fp[n_f] = $2; fs[n_f] = $3; next }
    FNR == 1 { next }
    FILENAME == ARGV[2] { raw[$1] = $6; next }
    FILENAME == ARGV[3] { sp[$1] = $6; next }
    {
      d = $1; gsub("-", "", d)
      if (d <= start) next
      while (k < n_f && fd[k + 1] < d) k++   # the factor row in force: the first dated on or after d
      if (k + 1 > n_f) next
      sf = sp[$1] / raw[$1]; pf = $6 / sp[$1]
      es = sf - fs[k + 1]; if (es < 0) es = -es
      ep = pf - fp[k + 1]; if (ep < 0) ep = -ep
      ts = 1e-6 * fs[k + 1]; if (ts < 5.01e-8) ts = 5.01e-8
      tp = 1e-6 * fp[k + 1]; if (tp < 5.01e-8) tp = 5.01e-8
      if (es > ts || ep > tp) { bad++; if (bad <= 3) printf "  %s: split %.8f (Lean %s), price %.8f (Lean %s)\n", $1, sf, fs[k+1], pf, fp[k+1] }
      rows++; r = es / fs[k + 1]; if (ep / fp[k + 1] > r) r = ep / fp[k + 1]; if (r > worst) worst = r
    }
    END { printf "%d %d %.2g\n", rows, bad, worst }
  ' "$LEAN/factor_files/$lower.csv" raw.csv split.csv total.csv
}
checked=0
for f in "$LEAN"/factor_files/*.csv; do
  lower=$(basename "$f" .csv)
  t=$(tr 'a-z' 'A-Z' <<< "$lower")
  [ -f "$LEAN/raw/$lower.csv" ] || continue
  result=$(factor_check "$t")
  last=$(tail -n 1 <<< "$result")
  read -r rows bad worst <<< "$last"
  if [ "$bad" == 0 ] && [ "$rows" -gt 0 ]; then
    pass "$t: factors equal Lean's on $rows sessions (worst $worst relative)"
  else
    fail "$t: $bad of $rows sessions differ from Lean's factors
$result"
  fi
  checked=$((checked + 1))
done
[ "$checked" -ge 15 ] && pass "$checked tickers checked" || fail "only $checked tickers checked"
finish
