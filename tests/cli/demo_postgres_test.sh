# `trib demo` with a trib.toml that says postgres (catalog and queue on a real PostgreSQL server,
# started by the ctest fixture) runs unchanged and writes the same curated and feature files, byte
# for byte, as the demo on the embedded SQLite defaults.
source "$(dirname "$0")/lib.sh"

need_postgres
base_url=$PG_URL
schema="demo_$$_$RANDOM"
psql -q -X "$base_url" -c "CREATE SCHEMA $schema" || { fail "cannot create schema $schema"; finish; }
trap 'psql -q -X "$base_url" -c "DROP SCHEMA IF EXISTS '"$schema"' CASCADE" >/dev/null 2>&1; rm -rf "$TMP"' EXIT
url="$base_url?options=-csearch_path%3D$schema"

"$TRIB_BIN" demo sqlite --no-research > sqlite.txt 2>&1 || { cat sqlite.txt >&2; fail "demo on SQLite failed"; finish; }

mkdir pg
cat > pg/trib.toml <<TOML
[lake]
kind = "local"
path = "lake"

[catalog]
kind = "postgres"
url = "$url"

[queue]
kind = "postgres"
TOML
"$TRIB_BIN" demo pg --no-research > pg.txt 2>&1 || { cat pg.txt >&2; fail "demo on PostgreSQL failed"; finish; }
grep -q "550 tasks, 2 workers, 0 poisoned" pg.txt && pass "backfill through the PostgreSQL queue" || fail "backfill line: $(grep backfill pg.txt)"
[ ! -e pg/catalog.db ] && pass "no SQLite file in the PostgreSQL workspace" || fail "a catalog.db appeared"
n=$(psql -qtA -X "$url" -c "SELECT count(*) FROM partitions WHERE dataset = 'bars'")
[ "$n" == 571 ] && pass "571 curated partitions in the PostgreSQL catalog" || fail "partitions in PostgreSQL: $n"

files() { (cd "$1/lake" && find curated features -type f | sort | xargs sha256sum); }
[ "$(files sqlite)" == "$(files pg)" ] && pass "curated and feature files identical on both backends ($(files pg | wc -l) files)" \
  || { fail "files differ"; diff <(files sqlite) <(files pg) | head >&2; }
grep "final equity" sqlite.txt > a; grep "final equity" pg.txt > b
cmp -s a b && pass "same backtest: $(cat b)" || fail "backtests differ"
"$TRIB_BIN" -w pg verify > /dev/null && pass "verify on PostgreSQL" || fail "verify on PostgreSQL"
"$TRIB_BIN" -w pg bars ^GSPC --hot --from 2020-04-01 --format csv | tail -n +2 > hot.csv
"$TRIB_BIN" -w sqlite bars ^GSPC --from 2020-04-01 --format csv | tail -n +2 > lake.csv
cmp -s hot.csv lake.csv && pass "hot cache on PostgreSQL equals the lake" || fail "hot cache differs"
finish
