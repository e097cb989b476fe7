# `trib demo` on the scaled-out shape: the lake in an Azure Blob container (Azurite, started by
# the ctest fixture), the catalog and queue on PostgreSQL (the postgres fixture). It runs
# unchanged, and the curated and feature files, fetched back with `trib lake export`, are the
# local demo's byte for byte.
source "$(dirname "$0")/lib.sh"

need_postgres
need_azurite
pg_url=$PG_URL
az=$AZURE_CONN
schema="azdemo_$$_$RANDOM"
container="demo-$$-$RANDOM"
psql -q -X "$pg_url" -c "CREATE SCHEMA $schema" || { fail "cannot create schema $schema"; finish; }
trap 'psql -q -X "$pg_url" -c "DROP SCHEMA IF EXISTS '"$schema"' CASCADE" >/dev/null 2>&1; rm -rf "$TMP"' EXIT
url="$pg_url?options=-csearch_path%3D$schema"
export AZURE_STORAGE_CONNECTION_STRING="$az"

"$TRIB_BIN" demo local --no-research > local.txt 2>&1 || { cat local.txt >&2; fail "demo on the local defaults failed"; finish; }

mkdir cloud
cat > cloud/trib.toml <<TOML
[lake]
kind = "azure"
container = "$container"
prefix = "workspace-1"

[catalog]
kind = "postgres"
url = "$url"

[queue]
kind = "postgres"
TOML
"$TRIB_BIN" demo cloud --no-research > cloud.txt 2>&1 || { cat cloud.txt >&2; fail "demo on Azure + PostgreSQL failed"; finish; }
grep -q "550 tasks, 2 workers, 0 poisoned" cloud.txt && pass "backfill on the cloud shape" || fail "backfill line: $(grep backfill cloud.txt)"
[ ! -e cloud/lake ] && pass "no local lake folder in the Azure workspace" || fail "a local lake folder appeared"
"$TRIB_BIN" -w cloud status > status.txt
grep -q "azure://devstoreaccount1/$container/workspace-1/" status.txt && pass "status names the container" || fail "status: $(head -3 status.txt)"
grep -q "AccountKey\|Eby8vdM02" cloud.txt status.txt && fail "the account key reached the output" || pass "no key in the output"

"$TRIB_BIN" -w cloud lake export out --prefix curated/ > /dev/null || fail "lake export curated"
"$TRIB_BIN" -w cloud lake export out --prefix features/ > /dev/null || fail "lake export features"
files() { (cd "$1" && find curated features -type f | sort | xargs sha256sum); }
[ "$(files local/lake)" == "$(files out)" ] && pass "curated and feature files identical to the local demo ($(files out | wc -l) files)" \
  || { fail "files differ"; diff <(files local/lake) <(files out) | head >&2; }
grep "final equity" local.txt > a; grep "final equity" cloud.txt > b
cmp -s a b && pass "same backtest: $(cat b)" || fail "backtests differ"
"$TRIB_BIN" -w cloud verify > verify.txt && grep -q "0 corrupt, 0 stale" verify.txt && pass "verify on Azure: $(cat verify.txt)" \
  || fail "verify on Azure: $(cat verify.txt)"
# A second export changes nothing; a rerun of the ETL is idempotent on blob storage too.
"$TRIB_BIN" -w cloud lake export out --prefix curated/ | grep -q "exported 0 object" && pass "re-export writes nothing" || fail "re-export rewrote files"
"$TRIB_BIN" -w cloud etl > etl.txt 2>&1 && "$TRIB_BIN" -w cloud lake export out --prefix curated/ | grep -q "exported 0 object" \
  && pass "etl rerun leaves the curated zone as it was" || fail "etl rerun changed curated files: $(cat etl.txt)"
finish
