# trib ingest --vendor csv on files as users have them: a quoted glob of Lean daily files from
# ../shared/data (used by path), a folder holding a Lean zip and a newest-first Stooq file,
# symbols from file names, curated rows checked against the independent conversion shipped with
# the Lean files; and the refusals: --symbol where the files say otherwise, patterns matching
# nothing, unreadable files (exit 2, no raw byte on stderr), dates outside 1900..2100, repeated
# dates.
source "$(dirname "$0")/lib.sh"
: "${TRIB_SHARED_DATA:?}"
LEAN="$TRIB_SHARED_DATA/equities-daily/lean-us-equity-daily"
STOOQ="$TRIB_SHARED_DATA/vendor-samples/stooq/spy_us_daily.csv"
CONVERTED="$LEAN/lean_us_equity_daily_raw_unadjusted.csv"

# Curated bars of a symbol as date,open,high,low,close,volume with 4-dp prices.
curated() {
  "$TRIB_BIN" -w "$1" bars "$2" --format csv |
    awk -F, 'NR > 1 {printf "%s,%.4f,%.4f,%.4f,%.4f,%d\n", $1, $3, $4, $5, $6, $7}'
}
# The independent conversion's rows of a symbol, the same way.
converted() {
  awk -F, -v s="$1" '$1 == s {printf "%s,%.4f,%.4f,%.4f,%.4f,%d\n", $2, $3, $4, $5, $6, $7}' "$CONVERTED"
}

"$TRIB_BIN" init ws > /dev/null

# --- a glob, quoted: trib expands it (sorted), one raw payload per file, symbols from names ----
"$TRIB_BIN" -w ws ingest --vendor csv --file "$LEAN/raw/[ab]*.csv" --json > glob.json ||
  fail "glob ingest: $(cat glob.json)"
[ "$(jq -r '[.files[].symbol] | join(" ")' glob.json)" == "AAA AAPL AIG BAC BNO" ] &&
  pass "glob: 5 files in name order, symbols from the file names" ||
  fail "glob symbols: $(jq -c '[.files[].symbol]' glob.json)"
# SOURCE.md: AAA 1371, AAPL/AIG/BAC 5849 each, BNO 3827.
[ "$(jq '.rows_in' glob.json)" == 22745 ] && pass "glob: 22745 rows in" || fail "rows_in $(jq .rows_in glob.json)"
[ "$(jq '[.files[] | select(.raw_new)] | length' glob.json)" == 5 ] && pass "glob: 5 raw payloads" ||
  fail "raw payloads: $(jq -c '.files' glob.json)"
[ "$(jq '.files[1].rows_in' glob.json)" == 5849 ] && pass "glob: per-file rows (AAPL 5849)" ||
  fail "per-file rows: $(jq -c '.files[1]' glob.json)"
[ "$(find ws/lake/raw -type f -name '*.csv' | wc -l)" == 5 ] && pass "5 csv objects in the raw zone" ||
  fail "raw zone: $(find ws/lake/raw -type f)"

close=$("$TRIB_BIN" -w ws bars AAPL --from 1998-01-02 --to 1998-01-02 --format json | jq .close)
[ "$close" == 16.25 ] && pass "AAPL 1998-01-02 close 16.25 (prices / 10,000)" || fail "AAPL 1998-01-02 close $close"
for sym in AAPL BAC; do
  want=$(converted "$sym")
  got=$(curated ws "$sym")
  accepted=$(printf '%s\n' "$got" | wc -l)
  # Every curated row is the conversion's row for that date, value for value.
  missing=$(comm -23 <(printf '%s\n' "$got" | sort) <(printf '%s\n' "$want" | sort) | head -3)
  [ -z "$missing" ] && [ "$accepted" -gt 5800 ] &&
    pass "$sym: $accepted curated rows equal the independent conversion" ||
    fail "$sym: $accepted rows; not in the conversion: $missing"
done

# Again: nothing new, nothing changed.
"$TRIB_BIN" -w ws ingest --vendor csv --file "$LEAN/raw/[ab]*.csv" > again.txt
grep -q "raw: 5 payload(s), 0 new, 5 already stored" again.txt && grep -q " 0 created, 0 replaced" again.txt &&
  pass "the same glob again changes nothing" || fail "again: $(cat again.txt)"
grep -q "^.*aapl.csv -> AAPL: 5849 rows in" again.txt && pass "summary line per file" || fail "per-file lines: $(cat again.txt)"

# --- a folder: a Lean zip, a Lean CSV, a newest-first Stooq file; other files ignored ------------
mkdir in
cp "$LEAN/raw/qqq.csv" qqq.csv && (zip -q -X in/qqq.zip qqq.csv) && rm qqq.csv
cp "$LEAN/raw/ibm.csv" in/ibm.csv
{ echo "timestamp,open,high,low,close,volume"; tail -n +2 "$STOOQ" | tac; } > in/spy.us.txt
echo "not data" > in/README.md
"$TRIB_BIN" init ws2 > /dev/null
"$TRIB_BIN" -w ws2 ingest --vendor csv --file in > folder.txt || fail "folder ingest: $(cat folder.txt)"
grep -q "ibm.csv -> IBM: 5849 rows in" folder.txt && grep -q "qqq.zip -> QQQ: 3964 rows in" folder.txt &&
  grep -q "spy.us.txt -> SPY: 2000 rows in" folder.txt && grep -q "total: 3 of 3 file(s)" folder.txt &&
  pass "folder: ibm.csv, qqq.zip, spy.us.txt (README.md skipped)" || fail "folder: $(cat folder.txt)"
[ "$(find ws2/lake/raw -type f -name '*.zip' | wc -l)" == 1 ] && pass "the zip is stored as it came" ||
  fail "raw zips: $(find ws2/lake/raw -type f)"
[ "$(curated ws2 QQQ)" == "$(converted QQQ | awk -F, '$1 <= "2021-03-31"')" ] &&
  pass "QQQ from the zip: every row equals the conversion" || fail "QQQ rows differ"
spy_first=$("$TRIB_BIN" -w ws2 bars SPY --format csv | sed -n 2p | cut -d, -f1,6)
[ "$spy_first" == "2018-02-26,247.373" ] && pass "newest-first file curated oldest first ($spy_first)" ||
  fail "SPY first row: $spy_first"
hashes() { (cd ws2/lake && find curated -type f | sort | xargs sha256sum); }
before=$(hashes)
rm -rf ws2/lake/curated ws2/lake/_versions
"$TRIB_BIN" -w ws2 etl --rebuild > rebuild.txt || fail "etl --rebuild: $(cat rebuild.txt)"
[ "$before" == "$(hashes)" ] && pass "rebuilt from raw (zip included) byte for byte" || fail "rebuild differs"

# An unquoted glob (the shell expands it) and a repeated --file work too.
"$TRIB_BIN" init ws3 > /dev/null
"$TRIB_BIN" -w ws3 ingest --vendor csv --file "$LEAN"/raw/i*.csv --file "$LEAN/raw/spy.csv" --json > multi.json ||
  fail "unquoted glob: $(cat multi.json)"
[ "$(jq -r '[.files[].symbol] | join(" ")' multi.json)" == "IBM IWM SPY" ] && pass "shell-expanded glob and repeated --file" ||
  fail "multi: $(jq -c '[.files[].symbol]' multi.json)"

# --- refusals: one line, exit 2, nothing written -----------------------------------------------
lake_before=$(find ws/lake -type f | sort)
expect_error "--symbol with several files" 2 "--symbol names the symbol of one file, and --file names 5 files" -- \
  "$TRIB_BIN" -w ws ingest --vendor csv --file "$LEAN/raw/[ab]*.csv" --symbol AAPL
expect_error "--symbol with a symbol column" 2 "names its own symbols .*drop --symbol" -- \
  "$TRIB_BIN" -w ws ingest --vendor csv --file "$CONVERTED" --symbol AAPL
expect_error "pattern matching nothing" 2 "--file '.*/nothing-\*\.csv' matches no file" -- \
  "$TRIB_BIN" -w ws ingest --vendor csv --file "$TMP/nothing-*.csv"
cp "$SP500" sp500-2000.csv
expect_error "name gives no symbol" 2 "sp500-2000.csv holds one symbol's bars and its name does not say which.*--symbol" -- \
  "$TRIB_BIN" -w ws ingest --vendor csv --file sp500-2000.csv

printf 'Date,Open,High,Low,Close,Volume\n2020-01-02,1,2,0.5,1.5,10\n4026-05-17,1,2,0.5,1.5,10\n' > far.csv
expect_error "date outside 1900..2100" 2 "far.csv:3: column 'Date': 4026-05-17 is outside the supported dates 1900-01-01..2100-12-31" -- \
  "$TRIB_BIN" -w ws ingest --vendor csv --file far.csv
printf 'timestamp,open,high,low,close,volume\n2020-01-06,1,2,0.5,1.5,10\n2020-01-03,1,2,0.5,1.5,10\n2020-01-03,1,2,0.5,1.6,10\n' > dup.csv
expect_error "a date twice" 2 "dup.csv:4: 2020-01-03 appears again \(first on line 3" -- \
  "$TRIB_BIN" -w ws ingest --vendor csv --file dup.csv

# Files that are not CSV: exit 2, the file named, what was expected, and no raw byte echoed.
printf '\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00\x1b[31m\x07' > chart.csv
printf 'PK\x03\x04\x14\x00\x00\x00\x08\x00\x1b]0;pwned\x07\x00\x00\xff\xfe\x01\x02' > aapl.zip
head -c 4096 /dev/zero > zeros.csv
{ printf 'PK\x05\x06'; head -c 3000 /dev/zero | tr '\000' '\377'; } > junk.zip
for f in chart.csv aapl.zip zeros.csv junk.zip; do
  expect_error "unreadable $f" 2 "$f: .*(not a CSV file|zip archive).*" -- \
    "$TRIB_BIN" -w ws ingest --vendor csv --file "$f"
  bad=$(LC_ALL=C tr -d '\n -~' < "$TMP/.stderr" | wc -c)
  [ "$bad" == 0 ] && pass "$f: stderr is printable ASCII" || fail "$f: $bad raw byte(s) on stderr: $(od -c "$TMP/.stderr" | head -3)"
done
[ "$lake_before" == "$(find ws/lake -type f | sort)" ] && pass "refused input wrote nothing to the lake" ||
  fail "lake changed by refused input"

# The bad rows can be quarantined instead, with their rules.
"$TRIB_BIN" -w ws ingest --vendor csv --file far.csv --file dup.csv --quarantine-bad-rows > q.txt || fail "quarantine: $(cat q.txt)"
rules=$("$TRIB_BIN" -w ws dq --json | jq -r '[.quarantined[].rule] | sort | join(" ")')
[[ "$rules" == *date_out_of_range* && "$rules" == *duplicate_date* ]] && pass "quarantined: $rules" || fail "dq rules: $rules"

"$TRIB_BIN" ingest --help > help.txt
grep -q "spy_us_daily.csv -> SPY" help.txt && grep -q "'data/\*.csv'" help.txt && pass "ingest --help explains files and symbols" ||
  fail "help: $(cat help.txt)"
finish
