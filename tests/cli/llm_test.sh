# trib ask and trib report as a user runs them, on five stocks of the Kaggle S&P 500 file, with
# the mock Chat Completions server (tests/mock_llm) replaying scripted conversations: a question
# that needs two tool calls (its figures checked against the CSV with awk), a tool that does not
# exist, a 429 then success, a timeout, Azure OpenAI's protocol, reports from templates and with
# a model's summary, and no secret in any request the server received.
source "$(dirname "$0")/lib.sh"

src="$TRIB_SHARED_DATA/equities-daily/all_stocks_5yr.csv.zst"
[ -f "$src" ] || { fail "no $src"; exit 1; }
SYMBOLS="AAPL MSFT XOM KO JPM"
zstd -q -d -c "$src" | awk -F, -v keep="$SYMBOLS" 'BEGIN { n = split(keep, k, " "); for (i = 1; i <= n; i++) want[k[i]] = 1 }
  NR == 1 || ($7 in want)' > stocks.csv
"$TRIB_BIN" init ws > /dev/null
"$TRIB_BIN" -w ws ingest --vendor csv --file stocks.csv > /dev/null
bt=$("$TRIB_BIN" -w ws backtest --universe AAPL,MSFT,XOM,KO,JPM --fast 10 --slow 30 --json)
run=$(jq -r .run_id <<< "$bt")

# Without an endpoint: reports work from templates, trib ask says what to configure.
expect_error "trib ask without [llm]" 2 "no LLM is configured: set \[llm\] kind" -- "$TRIB_BIN" -w ws ask "anything?"
"$TRIB_BIN" -w ws report backtest "$run" -o bt.md > /dev/null
# The figures recomputed here from the saved equity curve (daily returns, sample standard
# deviation, sqrt(252); risk-free rate 0), not taken from the engine's summary.
read -r sharpe ret < <("$TRIB_BIN" parquet cat "ws/lake/backtests/$run/equity.parquet" | awk -F, '
  NR > 1 { e[n++] = $3 }
  END { for (i = 1; i < n; i++) { r[i] = e[i] / e[i - 1] - 1; s += r[i] }
        m = s / (n - 1); for (i = 1; i < n; i++) ss += (r[i] - m) ^ 2
        printf "%.2f %.2f%%\n", m / sqrt(ss / (n - 2)) * sqrt(252), 100 * (e[n - 1] / e[0] - 1) }')
grep -q "^| Sharpe | $sharpe |" bt.md && grep -q "^| Total return | $ret |" bt.md && grep -q "^- backtest $run" bt.md \
  && ! grep -q "## Summary" bt.md && pass "report backtest from templates: Sharpe $sharpe, total return $ret, sourced" \
  || fail "backtest report: $(head -20 bt.md)"
"$TRIB_BIN" -w ws report dq > dq.md
quarantined=$(sqlite3 ws/catalog.db "SELECT coalesce(sum(rows), 0) FROM dq_counts")
if [ "$quarantined" -gt 0 ]; then
  grep -qE "^\| bars \| [a-z_]+ \| [0-9]+ \|" dq.md && pass "report dq: the $quarantined quarantined rows by rule" \
    || fail "dq report: $(head -20 dq.md)"
else
  grep -q "No rows were quarantined" dq.md && pass "report dq: nothing quarantined" || fail "dq report: $(head dq.md)"
fi
"$TRIB_BIN" -w ws report daily > daily.md
grep -q "^5 instruments with daily bars; the newest bar is dated 2018-02-07" daily.md && grep -q "$run" daily.md \
  && pass "report daily: instruments, newest bar, the backtest" || fail "daily report: $(head -20 daily.md)"
expect_error "report backtest of an unknown run" 3 "no saved backtest bt-000000000000" -- \
  "$TRIB_BIN" -w ws report backtest bt-000000000000
expect_error "report backtest of a path" 2 "is not a backtest run id" -- "$TRIB_BIN" -w ws report backtest ../../etc

cat > script.json <<'EOF'
{"conversations": [
  {"match": "March 2016",
   "turns": [
     {"tool_calls": [
        {"name": "get_bars", "arguments": {"symbol": "AAPL", "from": "2016-03-01", "to": "2016-03-31", "adjust": "raw"}},
        {"name": "query_bars", "arguments": {"symbols": ["AAPL"], "from": "2016-03-01", "to": "2016-03-31", "adjust": "raw",
                                             "select": ["count(*)", "last(close)", "max(high)", "sum(volume)"]}}]},
     {"content": "In March 2016 AAPL traded {{query_bars.rows.0.0}} sessions; it opened the month at {{get_bars.rows.0.open}} on {{get_bars.rows.0.date}}, closed it at {{query_bars.rows.0.1}}, its highest high was {{query_bars.rows.0.2}} and {{query_bars.rows.0.3}} shares traded [AAPL 2016-03-01..2016-03-31]."}]},
  {"match": "buy",
   "turns": [
     {"tool_calls": [{"name": "place_order", "arguments": {"symbol": "AAPL", "qty": 100}}]},
     {"content": "I cannot place orders: {{place_order.error}}"}]},
  {"match": "busy",
   "turns": [{"fault": {"status": 429, "retry_after": 1}, "content": "answered after a 429"}]},
  {"match": "hang",
   "turns": [{"fault": {"delay_ms": 2500, "times": 5}, "content": "never"}]},
  {"match": "Write a summary",
   "turns": [{"content": "unused"}, {"content": "Sharpe {{report_facts.summary.sharpe}} over {{report_facts.summary.sessions}} sessions."}]}
]}
EOF
start_mock_llm script.json
sed -i "s|^kind = \"none\"|kind = \"openai\"\nurl = \"$LLM_URL/v1\"|" ws/trib.toml
export OPENAI_API_KEY=sk-mock-llm-5e1f0c9a7b3d
export APCA_API_SECRET_KEY=apca-secret-9d8c7b6a5f4e

# Two tool calls; every figure of the answer equals the CSV's.
"$TRIB_BIN" -w ws ask "What did AAPL do in March 2016?" > ask.out 2> ask.err
read -r sessions first_open first_date last_close max_high volume < <(awk -F, '$7 == "AAPL" && substr($1, 1, 7) == "2016-03" {
    n++; if (n == 1) { o = $2; d = $1 } c = $5; if ($3 > h) h = $3; v += $6 }
  END { printf "%d %s %s %s %s %d\n", n, o, d, c, h, v }' stocks.csv)
answer=$(head -1 ask.out)
want="In March 2016 AAPL traded $sessions sessions; it opened the month at"
num_eq() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 == b + 0) }'; }
read -r got_sessions got_open got_date got_close got_high got_volume < <(sed -E \
  's/.*traded ([0-9]+) sessions; it opened the month at ([0-9.]+) on ([0-9-]+), closed it at ([0-9.]+), its highest high was ([0-9.]+) and ([0-9.e+]+) shares.*/\1 \2 \3 \4 \5 \6/' <<< "$answer")
if [[ "$answer" == "$want"* ]] && num_eq "$got_open" "$first_open" && [ "$got_date" == "$first_date" ] \
   && num_eq "$got_close" "$last_close" && num_eq "$got_high" "$max_high" && num_eq "$got_volume" "$volume"; then
  pass "ask: $sessions sessions, open $first_open on $first_date, close $last_close, high $max_high, volume $volume = the CSV"
else
  fail "ask answer: '$answer' (CSV: $sessions $first_open $first_date $last_close $max_high $volume)"
fi
grep -q "tool get_bars" ask.err && grep -q "tool query_bars" ask.err && grep -q "sources:" ask.out \
  && grep -q "bars AAPL 1d raw 2016-03-01..2016-03-31" ask.out && pass "ask prints the two tool calls and the sources" \
  || fail "ask output: $(cat ask.out ask.err)"
"$TRIB_BIN" -w ws ask --json "What did AAPL do in March 2016?" > ask.json
[ "$(jq '.tool_calls | length' ask.json)" == 2 ] && [ "$(jq '.tool_calls[1].result.rows[0][0]' ask.json)" == "$sessions" ] \
  && [ "$(jq '.usage.total_tokens > 0' ask.json)" == true ] && pass "ask --json: the calls with their results, usage" \
  || fail "ask --json: $(head -c 400 ask.json)"

# A tool that does not exist: an error result, not an action.
orders_before=$(sqlite3 ws/catalog.db "SELECT count(*) FROM ledger_orders")
"$TRIB_BIN" -w ws ask "Please buy 100 AAPL" > buy.out 2> buy.err
grep -q "I cannot place orders: there is no tool 'place_order'" buy.out && grep -q "refused: there is no tool" buy.err \
  && [ "$(sqlite3 ws/catalog.db "SELECT count(*) FROM ledger_orders")" == "$orders_before" ] \
  && pass "an unknown tool gets an error result; no order in the ledger" || fail "unknown tool: $(cat buy.out buy.err)"

# 429 then success; a server that never answers in time.
"$TRIB_BIN" -w ws --log-level warn ask "are you busy?" > busy.out 2> busy.err
grep -q "answered after a 429" busy.out && grep -q "retrying in 1000 ms" busy.err \
  && pass "a 429 is retried after its Retry-After" || fail "429: $(cat busy.out busy.err)"
sed -i 's/^timeout_s = 60/timeout_s = 1/; s/^max_retries = 4/max_retries = 1/' ws/trib.toml
rc=0; "$TRIB_BIN" -w ws --log-level off ask "hang on" > hang.out 2> hang.err || rc=$?
[ "$rc" == 75 ] && grep -q "failed after 2 attempts" hang.err && grep -q "timeout_s = 1" hang.err \
  && pass "a timeout: exit 75 naming the limits" || fail "timeout: rc $rc $(cat hang.err)"
sed -i 's/^timeout_s = 1$/timeout_s = 60/' ws/trib.toml

# A report with the model's summary: its figures are the report's.
"$TRIB_BIN" -w ws report backtest "$run" > bt_llm.md
sessions_bt=$(jq .sessions <<< "$bt")
sharpe_raw=$(jq .sharpe <<< "$bt")
grep -q "^## Summary" bt_llm.md && grep -q "over $sessions_bt sessions" bt_llm.md && grep -q "^| Sharpe | $sharpe |" bt_llm.md \
  && awk -v s="$sharpe_raw" '/^Sharpe / { split($2, a, " "); if (a[1] + 0 == s + 0) ok = 1 } END { exit !ok }' bt_llm.md \
  && pass "report with a summary by the model, its figures the tools'" || fail "summary: $(head -12 bt_llm.md)"

# Azure OpenAI: deployment URL, api-version, api-key header.
sed -i "s|^kind = \"openai\"|kind = \"azure\"|; s|^url = \"$LLM_URL/v1\"|url = \"$LLM_URL\"|; s|^model = \"gpt-4o-mini\"|model = \"research-4o\"|" ws/trib.toml
AZURE_OPENAI_API_KEY=sk-mock-llm-5e1f0c9a7b3d "$TRIB_BIN" -w ws ask --quiet "What did AAPL do in March 2016?" > azure.out
[ "$(head -1 azure.out)" == "$answer" ] && pass "the same answer through Azure OpenAI" || fail "azure: $(cat azure.out)"

# What the server received: the protocols' shapes, and no secret anywhere in a body.
curl -s "$LLM_URL/_mock/requests" > requests.json
[ "$(jq '[.[] | select(.kind == "azure" and .api_version == "2024-10-21" and .deployment == "research-4o")] | length' requests.json)" -ge 2 ] \
  && pass "Azure requests on /openai/deployments/research-4o with api-version" || fail "azure requests"
leaks=$(jq -r '.[].body' requests.json | grep -c -e "sk-mock-llm-5e1f0c9a7b3d" -e "apca-secret-9d8c7b6a5f4e" || true)
[ "$leaks" == 0 ] && [ "$(jq length requests.json)" -ge 8 ] && pass "no secret in any of $(jq length requests.json) request bodies" \
  || fail "$leaks request bodies carry a secret"
finish
