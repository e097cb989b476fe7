# Running the ingest and the ETL twice leaves every curated file byte-identical and the catalog's
# partition rows unchanged; a redelivered backfill changes nothing either.
source "$(dirname "$0")/lib.sh"

curated_state() {
  (cd ws/lake && find curated features -type f -name '*.parquet' 2>/dev/null | sort | xargs -r sha256sum)
  sqlite3 ws/catalog.db "SELECT dataset, timeframe, symbol, partition, object_key, row_count, content_sha256, version, committed_at_ns FROM partitions ORDER BY 1,2,3,4"
}

"$TRIB_BIN" init ws > /dev/null
"$TRIB_BIN" -w ws ingest --vendor csv --file "$SP500" --symbol ^GSPC > first.txt
"$TRIB_BIN" -w ws backfill --vendor sim --symbols 3 --from 2019-06-01 --to 2020-12-31 --workers 2 > /dev/null
"$TRIB_BIN" -w ws etl > /dev/null
one=$(curated_state)
[ -n "$one" ] && pass "curated files exist" || fail "no curated files"
grep -q "rows: 5105 in, 5105 curated, 0 quarantined" first.txt && pass "all 5105 S&P rows curated" || fail "first ingest: $(cat first.txt)"

"$TRIB_BIN" -w ws ingest --vendor csv --file "$SP500" --symbol ^GSPC > second.txt
grep -q "already stored" second.txt && pass "raw object stored once" || fail "raw stored again: $(cat second.txt)"
grep -q "0 created, 0 replaced, 21 unchanged" second.txt && pass "second ingest changed no partition" || fail "second ingest: $(cat second.txt)"
"$TRIB_BIN" -w ws etl > etl2.txt
"$TRIB_BIN" -w ws backfill --vendor sim --symbols 3 --from 2019-06-01 --to 2020-12-31 --workers 2 > /dev/null
two=$(curated_state)
[ "$one" == "$two" ] && pass "curated files and partition rows identical after re-running" \
  || { fail "state changed"; diff <(echo "$one") <(echo "$two") >&2 || true; }
grep -q " 0 created, 0 replaced" etl2.txt && pass "etl re-run rewrote nothing" || fail "etl re-run: $(cat etl2.txt)"

raw_count=$(find ws/lake/raw -type f -name '*.csv' | wc -l)
[ "$raw_count" == 7 ] && pass "7 raw payloads (1 csv + 3 symbols x 2 years)" || fail "raw payloads: $raw_count"
finish
