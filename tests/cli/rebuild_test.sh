# The curated zone rebuilt from raw is byte-identical (with an older fetch redelivered after a
# newer one), a lost or zero-byte catalog is refused with the fix, and `trib catalog rebuild`
# brings the workspace back from the lake alone. The hot cache answers from the catalog.
source "$(dirname "$0")/lib.sh"

"$TRIB_BIN" init ws > /dev/null
"$TRIB_BIN" -w ws ingest --vendor csv --file "$SP500" --symbol ^GSPC > /dev/null
# A later fetch revises the closes of April 2020 (and adds nothing else).
{ head -1 "$SP500"; grep '^2020-04' "$SP500" | awk -F, 'BEGIN{OFS=","} {$5 = $5 + 1; $2 = $2 + 0; print}'; } > revised.csv
sleep 0.01
"$TRIB_BIN" -w ws ingest --vendor csv --file revised.csv --symbol ^GSPC --json > revised.json
[ "$(jq .partitions_replaced revised.json)" == 1 ] && pass "the revision replaced the 2020 partition" || fail "revised: $(cat revised.json)"
# The older file is ingested again (a redelivery): the newer fetch still wins.
"$TRIB_BIN" -w ws ingest --vendor csv --file "$SP500" --symbol ^GSPC --json > again.json
[ "$(jq .partitions_unchanged again.json)" == 21 ] && pass "older fetch again: 21 partitions unchanged" || fail "again: $(cat again.json)"
orig=$(grep '^2020-04-17' "$SP500" | cut -d, -f5)
want=$(awk "BEGIN{print $orig + 1}")
got=$("$TRIB_BIN" -w ws bars ^GSPC --from 2020-04-17 --to 2020-04-17 --format json | jq .close)
[ "$(awk "BEGIN{print ($got == $want)}")" == 1 ] && pass "2020-04-17 close is the revised $want" || fail "close $got, want $want"

hashes() { (cd ws/lake && find curated -type f | sort | xargs sha256sum); }
before=$(hashes)
rm -rf ws/lake/curated ws/lake/_versions
"$TRIB_BIN" -w ws etl --rebuild > etl.txt || fail "etl --rebuild: $(cat etl.txt)"
[ "$before" == "$(hashes)" ] && pass "rebuild from raw reproduces every curated file byte for byte" \
  || { fail "rebuild differs"; diff <(echo "$before") <(hashes) | head >&2; }
"$TRIB_BIN" -w ws verify > /dev/null && pass "verify after rebuild" || fail "verify after rebuild"

# Hot cache: the last 300 sessions, equal to the lake.
"$TRIB_BIN" -w ws bars ^GSPC --format csv | tail -300 > lake.csv
"$TRIB_BIN" -w ws bars ^GSPC --hot --format csv | tail -n +2 > hot.csv
[ "$(wc -l < hot.csv)" == 300 ] && cmp -s lake.csv hot.csv && pass "hot cache equals the lake's last 300 sessions" \
  || fail "hot cache differs: $(diff lake.csv hot.csv | head -3)"

# A lost catalog next to a full lake is refused, with the fix.
mv ws/catalog.db saved.db; rm -f ws/catalog.db-wal ws/catalog.db-shm
expect_error "missing catalog" 5 "catalog .* is missing but the lake .* holds data.*trib -w .* catalog rebuild" -- "$TRIB_BIN" -w ws status
: > ws/catalog.db
expect_error "zero-byte catalog" 5 "is empty \(0 bytes\).*catalog rebuild" -- "$TRIB_BIN" -w ws bars ^GSPC
"$TRIB_BIN" -w ws catalog rebuild > rebuild.txt || fail "catalog rebuild: $(cat rebuild.txt)"
grep -q "21 partition(s) restored" rebuild.txt && pass "catalog rebuild restored 21 partitions" || fail "rebuild: $(cat rebuild.txt)"
"$TRIB_BIN" -w ws verify > /dev/null && pass "verify after catalog rebuild" || fail "verify after catalog rebuild"
"$TRIB_BIN" -w ws bars ^GSPC --format csv | tail -300 | cmp -s - lake.csv && pass "bars after catalog rebuild" || fail "bars differ after catalog rebuild"
"$TRIB_BIN" -w ws bars ^GSPC --hot --format csv | tail -n +2 | cmp -s - hot.csv && pass "hot cache rebuilt" || fail "hot cache after rebuild"
[ "$(sqlite3 ws/catalog.db "SELECT count(*) FROM raw_objects")" == 2 ] && pass "raw objects recorded from their sidecars" || fail "raw objects"
"$TRIB_BIN" -w ws etl > /dev/null && pass "etl after catalog rebuild" || fail "etl after catalog rebuild"
[ "$before" == "$(hashes)" ] && pass "and the curated files are still the same bytes" || fail "etl after rebuild changed files"
finish
