# Helpers for CLI tests. Each test runs in its own temp folder, removed on exit.
set -euo pipefail
: "${TRIB_BIN:?TRIB_BIN must point at the trib binary}"
: "${TRIB_SOURCE_DIR:?}"
SP500="$TRIB_SOURCE_DIR/node_modules/vega-datasets/data/sp500-2000.csv"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cd "$TMP"
fails=0

fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
pass() { echo "ok: $*"; }

# expect_error NAME EXPECTED_EXIT PATTERN -- command...
# The command must exit with EXPECTED_EXIT, print exactly one line on stderr matching PATTERN,
# and nothing on stdout.
expect_error() {
  local name=$1 code=$2 pattern=$3; shift 4
  local out err rc=0
  out=$("$@" 2>"$TMP/.stderr") || rc=$?
  err=$(cat "$TMP/.stderr")
  if [ "$rc" != "$code" ]; then fail "$name: exit $rc, expected $code (stderr: $err)"; return; fi
  if [ "$(printf '%s\n' "$err" | wc -l)" != 1 ]; then fail "$name: expected one stderr line, got: $err"; return; fi
  if ! printf '%s' "$err" | grep -qE -- "$pattern"; then fail "$name: stderr '$err' does not match /$pattern/"; return; fi
  if [ -n "$out" ]; then fail "$name: unexpected stdout: $out"; return; fi
  pass "$name: $err"
}

# A listing of every file outside the lake folder, with sizes and hashes.
snapshot_outside_lake() {
  (cd "$1" && find . -path ./lake -prune -o -type f -print | grep -v -E 'catalog\.db(-wal|-shm)?$' | sort | xargs -r sha256sum)
}

finish() {
  if [ "$fails" -gt 0 ]; then echo "$fails check(s) failed" >&2; exit 1; fi
  echo "all checks passed"
}
