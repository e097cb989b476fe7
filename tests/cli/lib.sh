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

# start_mock_vendor [ARGS...]: starts tests/mock_vendor (every REST vendor's protocol on one port,
# replaying ../shared/data/vendor-samples) and sets MOCK_PORT; stopped when the test exits.
start_mock_vendor() {
  : "${MOCK_VENDOR_BIN:?MOCK_VENDOR_BIN must point at tests/mock_vendor}"
  rm -f "$TMP/.mock_port"
  "$MOCK_VENDOR_BIN" --port-file "$TMP/.mock_port" "$@" > "$TMP/mock_stats.json" 2> "$TMP/mock.log" &
  MOCK_PID=$!
  trap 'kill -TERM $MOCK_PID 2>/dev/null; wait $MOCK_PID 2>/dev/null; rm -rf "$TMP"' EXIT
  for _ in $(seq 1 200); do [ -s "$TMP/.mock_port" ] && break; sleep 0.05; done
  MOCK_PORT=$(cat "$TMP/.mock_port")
  MOCK_URL="http://127.0.0.1:$MOCK_PORT"
}

# start_mock_llm SCRIPT.json: starts tests/mock_llm (the Chat Completions protocol, OpenAI's and
# Azure's, replaying the scripted conversations) and sets LLM_PORT / LLM_URL; stopped on exit.
start_mock_llm() {
  : "${MOCK_LLM_BIN:?MOCK_LLM_BIN must point at tests/mock_llm}"
  rm -f "$TMP/.llm_port"
  "$MOCK_LLM_BIN" --port-file "$TMP/.llm_port" --script "$1" 2> "$TMP/mock_llm.log" &
  LLM_PID=$!
  trap 'kill -TERM $LLM_PID 2>/dev/null; wait $LLM_PID 2>/dev/null; rm -rf "$TMP"' EXIT
  for _ in $(seq 1 200); do [ -s "$TMP/.llm_port" ] && break; sleep 0.05; done
  LLM_PORT=$(cat "$TMP/.llm_port")
  LLM_URL="http://127.0.0.1:$LLM_PORT"
}

# init_polygon_ws [TOML LINE...]: `trib init ws` with [vendors.polygon] pointed at the started
# mock (no rate limit unless a line sets one) and the mock's key in POLYGON_API_KEY; each extra
# argument is one more line of that section.
init_polygon_ws() {
  export POLYGON_API_KEY=mock-key-7f3a9c2e51
  "$TRIB_BIN" init ws > /dev/null
  printf '\n[vendors.polygon]\nbase_url = "%s/polygon"\n' "$MOCK_URL" >> ws/trib.toml
  local has_rpm=0 line
  for line in "$@"; do case "$line" in requests_per_minute*) has_rpm=1 ;; esac; done
  [ "$has_rpm" == 1 ] || echo "requests_per_minute = 0" >> ws/trib.toml
  for line in "$@"; do echo "$line" >> ws/trib.toml; done
}

# mock_stats: the mock's counters as JSON (requests per vendor, max per minute, over budget).
mock_stats() { curl -s "$MOCK_URL/_mock/stats"; }

finish() {
  if [ "$fails" -gt 0 ]; then echo "$fails check(s) failed" >&2; exit 1; fi
  echo "all checks passed"
}

# The servers the ctest fixtures started (tests/CMakeLists.txt): sets PG_URL / AZURE_CONN from the
# *_URL variable or the file the fixture writes. Without one, the test fails under ctest (where
# *_REQUIRED=1) and is skipped by hand (exit 0 with the reason).
need_postgres() {
  PG_URL=${TRIB_TEST_PG_URL:-}
  [ -z "$PG_URL" ] && [ -n "${TRIB_TEST_PG_URL_FILE:-}" ] && PG_URL=$(head -1 "$TRIB_TEST_PG_URL_FILE")
  [ -n "$PG_URL" ] && return 0
  if [ "${TRIB_TEST_PG_REQUIRED:-0}" == 1 ]; then fail "no PostgreSQL server (TRIB_TEST_PG_URL_FILE)"; finish; fi
  echo "skipped: no PostgreSQL server (set TRIB_TEST_PG_URL)"; exit 0
}
need_azurite() {
  AZURE_CONN=${TRIB_TEST_AZURE_CONNECTION_STRING:-}
  [ -z "$AZURE_CONN" ] && [ -n "${TRIB_TEST_AZURE_CONNECTION_STRING_FILE:-}" ] && AZURE_CONN=$(head -1 "$TRIB_TEST_AZURE_CONNECTION_STRING_FILE")
  [ -n "$AZURE_CONN" ] && return 0
  if [ "${TRIB_TEST_AZURE_REQUIRED:-0}" == 1 ]; then fail "no Azurite (TRIB_TEST_AZURE_CONNECTION_STRING_FILE)"; finish; fi
  echo "skipped: no Azurite (set TRIB_TEST_AZURE_CONNECTION_STRING)"; exit 0
}
