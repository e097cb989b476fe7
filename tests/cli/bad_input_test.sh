# Bad input: each mistake gives one clear error line, a meaningful non-zero exit, and writes
# nothing outside the lake (nor, for a missing workspace, anything at all).
source "$(dirname "$0")/lib.sh"

"$TRIB_BIN" init ws > /dev/null
before=$(snapshot_outside_lake ws)
lake_before=$(find ws/lake -type f | sort)

expect_error "unknown vendor" 2 "unknown vendor 'nosuch'; available vendors: sim, csv, alphavantage" -- \
  "$TRIB_BIN" -w ws ingest --vendor nosuch --file "$SP500" --symbol X
expect_error "hostile symbol" 2 "symbol '\.\./x' is invalid" -- \
  "$TRIB_BIN" -w ws ingest --vendor csv --file "$SP500" --symbol ../x
expect_error "hostile symbol in bars" 2 "symbol '\.\./x' is invalid" -- \
  "$TRIB_BIN" -w ws bars ../x
expect_error "hostile symbols in backfill" 2 "invalid" -- \
  "$TRIB_BIN" -w ws backfill --vendor sim --symbols 'AAPL,../../etc' --from 2020-01-01 --to 2020-12-31

printf 'Date,Open,High,Low,Close,Adj Close,Volume\n2020-01-02,1,2,0.5,1.5,1.5,100\n2020-01-03,1,2,oops,1.5,1.5,100\n2020-01-06,1,2,0.5\n' > malformed.csv
expect_error "malformed rows" 2 "malformed.csv:3: .*Low.*oops.*2 bad rows" -- \
  "$TRIB_BIN" -w ws ingest --vendor csv --file malformed.csv --symbol TEST

# Newest first is accepted (Alpha Vantage's order); a file in no order is not.
printf 'Date,Open,High,Low,Close,Adj Close,Volume\n2020-01-03,1,2,0.5,1.5,1.5,100\n2020-01-02,1,2,0.5,1.5,1.5,100\n2020-01-06,1,2,0.5,1.5,1.5,100\n' > unordered.csv
expect_error "dates out of order" 2 "dates out of order.*2020-01-02 comes after 2020-01-03" -- \
  "$TRIB_BIN" -w ws ingest --vendor csv --file unordered.csv --symbol TEST

expect_error "from after to" 2 "--from 2020-12-31 is after --to 2020-01-01" -- \
  "$TRIB_BIN" -w ws backfill --vendor sim --symbols 3 --from 2020-12-31 --to 2020-01-01
expect_error "bad date" 2 "--from: '2020-13-01' is not a date" -- \
  "$TRIB_BIN" -w ws backfill --vendor sim --symbols 3 --from 2020-13-01 --to 2020-12-31
expect_error "missing file" 3 "nope.csv" -- \
  "$TRIB_BIN" -w ws ingest --vendor csv --file nope.csv --symbol TEST
expect_error "bars of unknown symbol" 3 "no curated 1d bars for NOPE" -- \
  "$TRIB_BIN" -w ws bars NOPE

# Nothing outside the lake changed, and the lake gained nothing either.
[ "$before" == "$(snapshot_outside_lake ws)" ] && pass "nothing written outside the lake" || fail "files outside the lake changed"
[ "$lake_before" == "$(find ws/lake -type f | sort)" ] && pass "lake untouched by refused input" || fail "lake changed: $(find ws/lake -type f)"

# A missing workspace: the error says how to create one, and nothing is created.
expect_error "missing workspace" 3 "does not exist; create it with .trib init" -- \
  "$TRIB_BIN" -w nowhere ingest --vendor csv --file "$SP500" --symbol ^GSPC
[ ! -e nowhere ] && pass "missing workspace not created" || fail "missing workspace was created"
mkdir notaws
expect_error "folder without trib.toml" 3 "not a Tributary workspace" -- "$TRIB_BIN" -w notaws status
[ -z "$(ls -A notaws)" ] && pass "non-workspace folder untouched" || fail "wrote into a non-workspace folder: $(ls -A notaws)"

# trib.toml is strict: each mistake is one line naming the key and the fix, exit 2.
"$TRIB_BIN" init cfg > /dev/null
cp cfg/trib.toml good.toml
bad_config() {  # NAME PATTERN SED-EXPRESSION
  sed "$3" good.toml > cfg/trib.toml
  expect_error "config: $1" 2 "$2" -- "$TRIB_BIN" -w cfg status
}
bad_config "misspelt key" "\[queue\] visiblity_timeout_s is not a known key; known: .*visibility_timeout_s" \
  's/^visibility_timeout_s/visiblity_timeout_s/'
bad_config "negative slippage" "\[broker\] slippage_bps = -1.* out of range" 's/^slippage_bps = .*/slippage_bps = -1/'
bad_config "zero risk limit" "\[risk\] max_order_notional = 0.* out of range" 's/^max_order_notional = .*/max_order_notional = 0/'
bad_config "wrong type" "\[queue\] max_attempts must be an integer" 's/^max_attempts = .*/max_attempts = "five"/'
bad_config "password in a url" "PGPASSWORD" \
  's#^kind = "sqlite"#kind = "postgres"\nurl = "postgresql://trib:s3cret@db/trib"#'
grep -q s3cret "$TMP/.stderr" && fail "the password was echoed" || pass "the password is not echoed"
bad_config "embedded queue on postgres" "set \[queue\] kind = \"postgres\"" \
  's#^kind = "sqlite"#kind = "postgres"\nurl = "postgresql://trib@127.0.0.1:1/trib"#'
cp good.toml cfg/trib.toml

# Unknown command / option: usage error, exit 2.
rc=0; "$TRIB_BIN" frobnicate > /dev/null 2>&1 || rc=$?
[ "$rc" == 2 ] && pass "unknown command exits 2" || fail "unknown command exit $rc"
finish
