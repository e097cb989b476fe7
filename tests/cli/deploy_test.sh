# The Azure deployment artifacts under deploy/azure, checked on this machine, which has no Docker,
# no Azure and no Bicep compiler (see deploy/azure/README.md, "What was validated where"):
#   - host.json and the function.json files: valid JSON with the fields the custom handler needs;
#     every function folder is a function `trib serve --functions` answers (asked over HTTP);
#   - every `trib ...` command line in the Dockerfile, host.json, main.bicep and the README names
#     real subcommands and options (walked through the binary's own --help), the bot's
#     `trib serve --schedule --host 0.0.0.0` included;
#   - every environment variable the templates set is one trib reads (found in src/ or apps/) or one
#     the platform reads (listed below with the reason);
#   - the shipped trib.toml passes trib's strict loader, and runs for real: with only its url
#     pointed at a throwaway PostgreSQL and AZURE_STORAGE_CONNECTION_STRING at Azurite (both
#     started here, queues and container pre-created as main.bicep does), `trib init`,
#     `trib update --no-drain`, `trib worker --drain` and `trib serve --functions` (driven by
#     scripts/functions-host-emulator.mjs through the timer and the queue trigger) all succeed,
#     and none of them writes into the workspace folder (Container Apps mount it read-only);
#   - names and numbers that must agree: queue name, poison queue, max attempts, container,
#     database user and name, the url placeholder main.bicep replaces;
#   - the runtime image's package list provides every library the real build needs
#     (deploy/azure/docker/check-runtime.sh, plus a negative control), the build stage's list
#     (from scripts/install-deps) provides everything a tests-off CMake configure finds;
#   - the Dockerfile: multi-stage, Debian 12 bases, non-root user, RUN steps that are our scripts,
#     COPY sources that exist;
#   - main.bicep: a structural check (deploy/azure/check-bicep.mjs; no compiler can run here),
#     the resource types the deployment needs, and its settings that trib depends on;
#   - the Functions package (deploy/azure/package-functions.sh, when patchelf is installed):
#     the packaged trib runs with an empty environment and loads every non-glibc library from lib/.
# TRIB_DEPLOY_TEST_NO_EMULATORS=1 skips the Azurite + PostgreSQL run (and says so).
source "$(dirname "$0")/lib.sh"

AZ="$TRIB_SOURCE_DIR/deploy/azure"
FN="$AZ/functions"
BICEP="$AZ/main.bicep"
DOCKERFILE="$AZ/Dockerfile"
README="$AZ/README.md"
command -v jq > /dev/null || { fail "jq is needed"; finish; }
command -v node > /dev/null || { fail "node is needed"; finish; }
for f in "$FN/host.json" "$FN/trib.toml" "$BICEP" "$DOCKERFILE" "$README"; do
  [ -r "$f" ] || { fail "missing $f"; finish; }
done

serve_pid=""
servers_dir=""
cleanup() {
  [ -n "$serve_pid" ] && kill "$serve_pid" 2> /dev/null && wait "$serve_pid" 2> /dev/null
  if [ -n "$servers_dir" ]; then
    "$TRIB_SOURCE_DIR/scripts/azurite-test-server" stop "$servers_dir/azurite" > /dev/null 2>&1 || true
    "$TRIB_SOURCE_DIR/scripts/pg-test-server" stop "$servers_dir/pg" > /dev/null 2>&1 || true
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT

# toml_get FILE SECTION KEY: the value of KEY in [SECTION], quotes removed.
toml_get() {
  awk -v s="[$2]" -v k="$3" '
    /^\[/ { in_s = ($0 == s); next }
    in_s && $0 ~ "^" k "[ \t]*=" { sub(/^[^=]*=[ \t]*/, ""); sub(/[ \t]*#.*$/, ""); gsub(/^"|"$/, ""); print; exit }
  ' "$1"
}

# ---------------------------------------------------------------------------------------------
# 1. host.json and function.json
jq -e '.version == "2.0"
  and .customHandler.description.defaultExecutablePath == "trib"
  and .customHandler.description.arguments == ["serve", "--functions"]
  and .customHandler.enableForwardingHttpRequest == false
  and .extensionBundle.id == "Microsoft.Azure.Functions.ExtensionBundle"
  and (.extensionBundle.version | test("^\\[4\\."))
  and (.extensions.queues.maxDequeueCount | type == "number")
  and (.extensions.queues.visibilityTimeout | test("^[0-9]{2}:[0-9]{2}:[0-9]{2}$"))
  and (.extensions.queues.batchSize | type == "number")
  and .extensions.queues.messageEncoding == "base64"' "$FN/host.json" > /dev/null \
  && pass "host.json: custom handler trib serve --functions, bundle 4.x, queues section with base64 messages" \
  || fail "host.json lacks a required field: $(jq -c . "$FN/host.json" 2>&1 | head -c 300)"
if jq -e '.customHandler.description.arguments | index("--port")' "$FN/host.json" > /dev/null; then
  fail "host.json passes --port: the host gives the port in FUNCTIONS_CUSTOMHANDLER_PORT"
else
  pass "host.json leaves the port to FUNCTIONS_CUSTOMHANDLER_PORT"
fi

functions=()
for d in "$FN"/*/; do
  [ -e "$d/function.json" ] && functions+=("$(basename "$d")")
done
[ "${#functions[@]}" -gt 0 ] || fail "no function folders under $FN"
for name in "${functions[@]}"; do
  jq -e '.bindings | type == "array" and length >= 1' "$FN/$name/function.json" > /dev/null \
    || fail "$name/function.json is not JSON with a bindings array"
done
jq -e '.bindings | length == 1 and .[0].type == "timerTrigger" and .[0].direction == "in" and .[0].name == "timer"
       and (.[0].schedule | split(" ") | length == 6)' "$FN/DailyUpdate/function.json" > /dev/null \
  && pass "DailyUpdate: timerTrigger 'timer', six-field schedule $(jq -r '.bindings[0].schedule' "$FN/DailyUpdate/function.json")" \
  || fail "DailyUpdate/function.json: $(jq -c . "$FN/DailyUpdate/function.json" 2>&1)"
jq -e '.bindings | length == 1 and .[0].type == "queueTrigger" and .[0].direction == "in" and .[0].name == "task"
       and .[0].connection == "AzureWebJobsStorage" and (.[0].queueName | type == "string")' \
  "$FN/RunTask/function.json" > /dev/null \
  && pass "RunTask: queueTrigger 'task' on queue '$(jq -r '.bindings[0].queueName' "$FN/RunTask/function.json")' via AzureWebJobsStorage" \
  || fail "RunTask/function.json: $(jq -c . "$FN/RunTask/function.json" 2>&1)"
# The binding names are the keys trib reads from the invocation's Data.
grep -q 'invocation.data.find("task")' "$TRIB_SOURCE_DIR/src/server/functions.cpp" \
  && grep -q 'contains("timer")' "$TRIB_SOURCE_DIR/src/server/functions.cpp" \
  && pass "binding names 'task' and 'timer' are the keys src/server/functions.cpp reads" \
  || fail "src/server/functions.cpp no longer reads Data.task / Data.timer: update the function.json files"

# 2. Every function folder is a function the handler answers (asked over HTTP, on a local workspace).
"$TRIB_BIN" init local > /dev/null
free_port() { node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }
port=$(free_port)
FUNCTIONS_CUSTOMHANDLER_PORT=$port "$TRIB_BIN" -w local serve --functions > serve-local.log 2>&1 &
serve_pid=$!
for _ in $(seq 1 100); do grep -q listening serve-local.log && break; sleep 0.05; done
grep -q "listening on http://127.0.0.1:$port" serve-local.log \
  && pass "trib serve --functions listens on FUNCTIONS_CUSTOMHANDLER_PORT ($port)" \
  || fail "handler did not start on FUNCTIONS_CUSTOMHANDLER_PORT: $(cat serve-local.log)"
# invoke NAME OUT_FILE BODY: POST to the handler as the Functions host does; prints the HTTP status.
invoke() {
  node --input-type=module -e '
    import fs from "node:fs";
    const [url, out, body] = process.argv.slice(1);
    const r = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body });
    fs.writeFileSync(out, await r.text());
    console.log(r.status);' "http://127.0.0.1:$port/$1" "$2" "$3"
}
code=$(invoke NoSuchFunction nosuch.json '{"Data":{},"Metadata":{}}')
[ "$code" == 404 ] && pass "an unknown function name gets 404" || fail "unknown function: HTTP $code $(cat nosuch.json)"
for name in "${functions[@]}"; do
  code=$(invoke "$name" "answer-$name.json" '{"Data":{},"Metadata":{}}')
  if [ "$code" != 404 ] && jq -e 'has("Logs")' "answer-$name.json" > /dev/null; then
    pass "function folder $name is served (HTTP $code: $(jq -r '.Logs[0] // ""' "answer-$name.json" | cut -c1-90))"
  else
    fail "function folder $name is not a function of trib serve --functions (HTTP $code)"
  fi
done
# RunTask without its binding is refused by name; with function.json's binding name it is read.
binding=$(jq -r '.bindings[0].name' "$FN/RunTask/function.json")
code=$(invoke RunTask nobinding.json '{"Data":{},"Metadata":{}}')
code2=$(invoke RunTask withbinding.json "{\"Data\":{\"$binding\":\"{}\"},\"Metadata\":{}}")
[ "$code" == 400 ] && grep -q 'no \\"task\\" binding' nobinding.json && ! grep -q 'binding' withbinding.json \
  && pass "RunTask reads its message from Data.$binding (without it: HTTP 400; with it: HTTP $code2, $(jq -r '.Logs[0]' withbinding.json | cut -c1-70))" \
  || fail "RunTask binding: HTTP $code $(cat nobinding.json) / HTTP $code2 $(cat withbinding.json)"
kill "$serve_pid"; wait "$serve_pid" 2> /dev/null || true; serve_pid=""

# ---------------------------------------------------------------------------------------------
# 3. Every `trib ...` command line in the templates and the README.
# help_options HELP_TEXT: "name takes_value" per option of that help page.
help_options() {
  awk '/^Options:/ { on = 1; next } /^[A-Z][a-z]*:/ { on = 0 }
       on && /^  -/ {
         line = $0; sub(/^  /, "", line); spec = line; sub(/  .*/, "", spec)
         n = split(spec, parts, " "); names = parts[1]; takes = (n > 1) ? 1 : 0
         m = split(names, opt, ","); for (i = 1; i <= m; i++) print opt[i], takes
       }' <<< "$1"
}
help_subcommands() { awk '/^Subcommands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { on = 0 }' <<< "$1"; }
has_positionals() { grep -q '^Positionals:' <<< "$1"; }

# check_command "trib ARGS...": 0 when every word is a subcommand, an option of the command (or
# a global one) with its value, or a positional where the command takes one; and `--help` of the
# command path exits 0. Prints the reason otherwise.
check_command() {
  local -a words
  read -r -a words <<< "$1"
  [ "${words[0]}" == trib ] || { echo "does not start with trib"; return 1; }
  local global help opts path=() k=1 w takes sub
  global=$("$TRIB_BIN" --help)
  help=$global
  while [ $k -lt ${#words[@]} ]; do
    w=${words[$k]}
    if [[ "$w" == -* ]]; then
      opts=$( (help_options "$help"; help_options "$global") | sort -u)
      takes=$(awk -v o="${w%%=*}" '$1 == o { print $2; exit }' <<< "$opts")
      [ -n "$takes" ] || { echo "option $w is not an option of 'trib ${path[*]}'"; return 1; }
      [ "$takes" == 1 ] && [[ "$w" != *=* ]] && k=$((k + 1))
    elif [ -n "$(help_subcommands "$help" | grep -x -- "$w")" ]; then
      path+=("$w")
      help=$("$TRIB_BIN" "${path[@]}" --help) || { echo "trib ${path[*]} --help failed"; return 1; }
    elif has_positionals "$help" && [ ${#path[@]} -gt 0 ]; then
      :
    else
      echo "'$w' is neither a subcommand nor an argument of 'trib ${path[*]}'"; return 1
    fi
    k=$((k + 1))
  done
  [ ${#path[@]} -gt 0 ] || { echo "no subcommand"; return 1; }
  "$TRIB_BIN" "${path[@]}" --help > /dev/null || { echo "trib ${path[*]} --help exits $?"; return 1; }
}

# Negative controls: the checker refuses what the binary does not have.
reason=$(check_command "trib worker --drian") && fail "check_command accepted a misspelt option" \
  || pass "command check refuses a misspelt option ($reason)"
reason=$(check_command "trib wroker --drain") && fail "check_command accepted a misspelt subcommand" \
  || pass "command check refuses a misspelt subcommand ($reason)"

commands=()  # "source<TAB>command"
entry=$(sed -n 's/^ENTRYPOINT \[\(.*\)\]/\1/p' "$DOCKERFILE" | tr -d '",')
cmd=$(sed -n 's/^CMD \[\(.*\)\]/\1/p' "$DOCKERFILE" | tr -d '",')
commands+=("Dockerfile	$entry $cmd")
commands+=("host.json	$(jq -r '[.customHandler.description.defaultExecutablePath] + .customHandler.description.arguments | join(" ")' "$FN/host.json")")
while IFS= read -r c; do
  commands+=("main.bicep	$c")
done < <(sed -n "s/.*command: \[\(.*\)\].*/\1/p" "$BICEP" | tr -d "'," | sed 's/^ *//; s/ *$//')
while IFS= read -r c; do
  commands+=("README.md	$c")
done < <(awk '/^```/ { code = !code; next } code' "$README" | sed -e 's/^\$ //' -e 's/^[[:space:]]*//' |
         sed -E 's/^([A-Z_]+=[^ ]* )+//' | grep -E '^trib( |$)' | sed 's/[[:space:]]*#.*$//')
PENDING=()  # commands that exist only in a deployment template, before the issue that builds them
readme_commands=0
for item in "${commands[@]}"; do
  src=${item%%	*}; c=${item#*	}
  [ "$src" == README.md ] && readme_commands=$((readme_commands + 1))
  pending=""
  for p in "${PENDING[@]}"; do [ "$c" == "$p" ] && pending=1; done
  if [ -n "$pending" ]; then
    if timeout 5 "$TRIB_BIN" serve > pending.out 2>&1; then
      echo "note: '$c' ($src) is declared pending but now exits 0: drop it from PENDING and turn deployBot on"
    else
      pass "$src: '$c' is PENDING (the bot; today: $(head -c 60 pending.out)); 'trib serve --help' $("$TRIB_BIN" serve --help > /dev/null && echo works)"
    fi
    continue
  fi
  if reason=$(check_command "$c"); then pass "$src: '$c'"; else fail "$src: '$c': $reason"; fi
done
[ "$readme_commands" -ge 3 ] && pass "$readme_commands trib command lines found in the README" \
  || fail "only $readme_commands trib command lines found in the README's code blocks"
grep -q "command: \[ 'trib', 'worker', '--drain' \]" "$BICEP" && pass "the backfill job runs trib worker --drain" \
  || fail "main.bicep has no job running trib worker --drain"

# ---------------------------------------------------------------------------------------------
# 4. Environment variables the templates set.
declare -A PLATFORM=(
  [AzureWebJobsStorage]="the Functions host's storage: timers, the RunTask trigger's connection"
  [APPLICATIONINSIGHTS_CONNECTION_STRING]="the Functions host's telemetry"
)
env_names=$( (sed -nE "s/.*\{ *name: '([A-Za-z_][A-Za-z0-9_]*)', *(value|secretRef):.*/\1/p" "$BICEP"
              sed -nE 's/^ENV ([A-Za-z_][A-Za-z0-9_]*)=.*/\1/p' "$DOCKERFILE") | sort -u)
[ -n "$env_names" ] || fail "no environment variables found in main.bicep / the Dockerfile"
for v in $env_names; do
  if [ -n "${PLATFORM[$v]:-}" ]; then
    pass "env $v: read by the platform (${PLATFORM[$v]})"
  elif grep -rqw -- "$v" "$TRIB_SOURCE_DIR/src" "$TRIB_SOURCE_DIR/apps"; then
    pass "env $v: named in $(grep -rlw -- "$v" "$TRIB_SOURCE_DIR/src" "$TRIB_SOURCE_DIR/apps" | head -1 | sed "s|$TRIB_SOURCE_DIR/||")"
  else
    fail "env $v is set by the templates but nothing in src/ or apps/ reads it"
  fi
done
for v in AZURE_STORAGE_CONNECTION_STRING PGPASSWORD TRIB_WORKSPACE FUNCTIONS_CUSTOMHANDLER_PORT; do
  grep -rqw -- "$v" "$TRIB_SOURCE_DIR/src" "$TRIB_SOURCE_DIR/apps" || fail "$v no longer appears in src/ or apps/"
done
grep -q 'getenv("TRIB_WORKSPACE")' "$TRIB_SOURCE_DIR/apps/trib/main.cpp" && grep -q 'getenv("FUNCTIONS_CUSTOMHANDLER_PORT")' "$TRIB_SOURCE_DIR/apps/trib/cmd_serve.cpp" \
  && grep -q 'env("AZURE_STORAGE_CONNECTION_STRING")' "$TRIB_SOURCE_DIR/src/net/azure_storage.cpp" \
  && pass "trib reads TRIB_WORKSPACE, FUNCTIONS_CUSTOMHANDLER_PORT and AZURE_STORAGE_CONNECTION_STRING itself; PGPASSWORD through libpq (as src/db documents)" \
  || fail "the getenv calls for TRIB_WORKSPACE / FUNCTIONS_CUSTOMHANDLER_PORT / AZURE_STORAGE_CONNECTION_STRING moved"
for v in AZURE_STORAGE_CONNECTION_STRING PGPASSWORD TRIB_WORKSPACE; do
  grep -q "{ name: '$v', secretRef:\|{ name: '$v', value:" "$BICEP" || fail "main.bicep does not set $v"
done
# Secrets arrive as Key Vault references, never as literals.
grep -q "{ name: 'AZURE_STORAGE_CONNECTION_STRING', value: storageConnectionReference }" "$BICEP" \
  && grep -q "{ name: 'PGPASSWORD', value: pgPasswordReference }" "$BICEP" \
  && grep -q "{ name: 'AzureWebJobsStorage', value: storageConnectionReference }" "$BICEP" \
  && grep -q "'@Microsoft.KeyVault(SecretUri=\${storageConnectionSecret.properties.secretUri})'" "$BICEP" \
  && grep -q "keyVaultUrl: storageConnectionSecret.properties.secretUri, identity: identity.id" "$BICEP" \
  && grep -q "keyVaultUrl: pgPasswordSecret.properties.secretUri, identity: identity.id" "$BICEP" \
  && pass "secrets reach the Function App and the containers as Key Vault references" \
  || fail "a secret in main.bicep is not a Key Vault reference"

# ---------------------------------------------------------------------------------------------
# 5. Names and numbers that must agree.
queue=$(toml_get "$FN/trib.toml" queue name)
attempts=$(toml_get "$FN/trib.toml" queue max_attempts)
container=$(toml_get "$FN/trib.toml" lake container)
url=$(toml_get "$FN/trib.toml" catalog url)
[ "$(toml_get "$FN/trib.toml" lake kind)" == azure ] && [ "$(toml_get "$FN/trib.toml" queue kind)" == azure ] \
  && [ "$(toml_get "$FN/trib.toml" catalog kind)" == postgres ] \
  && pass "trib.toml is the Azure shape: azure lake '$container', azure queue '$queue', postgres catalog" \
  || fail "trib.toml is not the Azure shape"
[ -n "$queue" ] && [ "$(jq -r '.bindings[0].queueName' "$FN/RunTask/function.json")" == "$queue" ] \
  && pass "RunTask's queueName is trib.toml's [queue] name ($queue)" || fail "RunTask queueName != [queue] name '$queue'"
[ "$(jq -r '.extensions.queues.maxDequeueCount' "$FN/host.json")" == "${attempts:-5}" ] \
  && pass "host.json maxDequeueCount = [queue] max_attempts (${attempts:-5})" || fail "maxDequeueCount != max_attempts ${attempts:-5}"
grep -q "^param queueName string = '$queue'$" "$BICEP" && grep -q "name: queueName$" "$BICEP" \
  && grep -q "name: '\${queueName}-poison'$" "$BICEP" && grep -q "queueName: queueName$" "$BICEP" \
  && pass "main.bicep creates '$queue' and '$queue-poison' and scales the job on '$queue'" \
  || fail "main.bicep's queues do not follow [queue] name '$queue'"
grep -q "^param lakeContainerName string = '$container'$" "$BICEP" \
  && pass "main.bicep creates the lake container '$container'" || fail "main.bicep's container != [lake] container '$container'"
placeholder=$(sed -n "s/^var pgUrlPlaceholder = '\(.*\)'$/\1/p" "$BICEP")
[ -n "$placeholder" ] && [ "$placeholder" == "$url" ] \
  && pass "main.bicep replaces exactly trib.toml's url ($url)" || fail "pgUrlPlaceholder '$placeholder' != trib.toml url '$url'"
[[ "$url" == "postgresql://$(sed -n "s/^param pgAdminLogin string = '\(.*\)'$/\1/p" "$BICEP")@"*"/$(sed -n "s/^param pgDatabaseName string = '\(.*\)'$/\1/p" "$BICEP")?"* ]] \
  && pass "the url's user and database are main.bicep's defaults" || fail "url user/database differ from pgAdminLogin/pgDatabaseName"
grep -qi 'password' <<< "${url#*://}" && fail "the url mentions a password" || true
grep -qiE 'AccountKey|SharedAccessSignature|sig=|password *=' "$FN/trib.toml" && fail "trib.toml holds a secret" \
  || pass "trib.toml holds no secret"

# ---------------------------------------------------------------------------------------------
# 6. The shipped trib.toml under trib's strict loader.
mkdir shipped && cp "$FN/trib.toml" shipped/
rc=0; env -u AZURE_STORAGE_CONNECTION_STRING -u AZURE_STORAGE_KEY -u AZURE_STORAGE_SAS_TOKEN \
  "$TRIB_BIN" -w shipped status > /dev/null 2> shipped.err || rc=$?
if [ "$rc" == 2 ] && grep -q "AZURE_STORAGE_CONNECTION_STRING" shipped.err && ! grep -q "trib.toml:" shipped.err; then
  pass "the shipped trib.toml loads (every key known, every value in range); without credentials trib stops at the storage credential"
else
  fail "shipped trib.toml: exit $rc: $(cat shipped.err)"
fi
mkdir strict && { cat "$FN/trib.toml"; printf '\n[queue_extra]\nx = 1\n'; } > strict/trib.toml
rc=0; "$TRIB_BIN" -w strict status > /dev/null 2> strict.err || rc=$?
[ "$rc" == 2 ] && grep -q "trib.toml:" strict.err && pass "control: the same file with an unknown section is refused ($(cut -c1-70 strict.err))" \
  || fail "the loader accepted an unknown section (exit $rc): the check above proves nothing"

# 7. ... and for real, on Azurite + PostgreSQL.
if [ -n "${TRIB_DEPLOY_TEST_NO_EMULATORS:-}" ]; then
  echo "skipped (TRIB_DEPLOY_TEST_NO_EMULATORS): the run of the shipped trib.toml on Azurite + PostgreSQL"
else
  servers_dir="$TMP/servers"
  conn=$("$TRIB_SOURCE_DIR/scripts/azurite-test-server" start "$servers_dir/azurite") || { fail "Azurite did not start"; finish; }
  pg=$("$TRIB_SOURCE_DIR/scripts/pg-test-server" start "$servers_dir/pg") || { fail "PostgreSQL did not start"; finish; }
  export AZURE_STORAGE_CONNECTION_STRING="$conn"
  # What main.bicep creates before trib ever runs: the container and both queues.
  (cd "$TRIB_SOURCE_DIR" && node --input-type=module -e "
    import { QueueClient } from '@azure/storage-queue';
    import { ContainerClient } from '@azure/storage-blob';
    const c = process.env.AZURE_STORAGE_CONNECTION_STRING;
    await new QueueClient(c, '$queue').create();
    await new QueueClient(c, '$queue-poison').create();
    await new ContainerClient(c, '$container').create();
  ") && pass "Azurite: container '$container', queues '$queue' and '$queue-poison' created as main.bicep does" \
    || fail "could not pre-create the storage resources"
  mkdir ws
  # The one substitution main.bicep makes: the url (here without sslmode: a local test server).
  awk -v from="$url" -v to="$pg" '{ i = index($0, from); if (i) $0 = substr($0, 1, i - 1) to substr($0, i + length(from)); print }' \
    "$FN/trib.toml" > ws/trib.toml
  listing() { stat -c '%n %Y' ws; find ws -mindepth 1 -printf '%p %s %T@\n' | sort; }
  before=$(listing)
  "$TRIB_BIN" -w ws init > init.txt 2>&1 && pass "trib init (the init-workspace job) on the shipped file: $(grep -m1 queue init.txt | tr -s ' ')" \
    || fail "trib init: $(cat init.txt)"
  "$TRIB_BIN" -w ws update --no-drain --as-of 2024-01-12 > update.txt 2>&1 && pass "trib update --no-drain: $(head -1 update.txt)" \
    || fail "trib update: $(cat update.txt)"
  queued=$(grep -o '[0-9]* queued' update.txt | cut -d' ' -f1)
  "$TRIB_BIN" -w ws worker --drain --json > worker.json 2> worker.err \
    && [ "$(jq .processed worker.json)" == "${queued:-x}" ] && [ "$(jq .dead_lettered worker.json)" == 0 ] \
    && pass "trib worker --drain (the backfill job's command) processed the $queued task(s)" \
    || fail "trib worker --drain: $(cat worker.json worker.err)"
  # The Functions host: host.json's command line, the port in FUNCTIONS_CUSTOMHANDLER_PORT.
  port=$(free_port)
  read -r -a handler <<< "$(jq -r '.customHandler.description.arguments | join(" ")' "$FN/host.json")"
  FUNCTIONS_CUSTOMHANDLER_PORT=$port "$TRIB_BIN" -w ws "${handler[@]}" --as-of 2024-01-19 > serve.log 2>&1 &
  serve_pid=$!
  for _ in $(seq 1 100); do grep -q listening serve.log && break; sleep 0.05; done
  (cd "$TRIB_SOURCE_DIR" && node scripts/functions-host-emulator.mjs timer "http://127.0.0.1:$port" 2024-01-19T22:30:00Z) > timer.json 2>&1 \
    && pass "DailyUpdate (timer) through the handler: $(jq -r '.Logs[0]' timer.json | cut -c1-100)" \
    || fail "DailyUpdate: $(cat timer.json serve.log)"
  (cd "$TRIB_SOURCE_DIR" && node scripts/functions-host-emulator.mjs drain "http://127.0.0.1:$port" "$conn" "$queue") > drain.json 2>&1 \
    && [ "$(jq .failed drain.json)" == 0 ] && [ "$(jq .succeeded drain.json)" == "$(jq .ReturnValue.queued timer.json)" ] \
    && pass "RunTask (queue trigger on '$queue', base64 messages) ran every queued task: $(cat drain.json)" \
    || fail "RunTask: $(cat drain.json)"
  kill "$serve_pid"; wait "$serve_pid" 2> /dev/null || true; serve_pid=""
  "$TRIB_BIN" -w ws status --json > status.json
  [ "$(jq .queue.pending status.json)" == 0 ] && [ "$(jq .queue.poison status.json)" == 0 ] \
    && [ "$(jq .curated_symbols status.json)" == "$queued" ] && [ "$(jq '.curated_rows > 0' status.json)" == true ] \
    && pass "queue empty, nothing poisoned; $(jq .curated_rows status.json) curated rows for $(jq .curated_symbols status.json) symbols in the Azure lake" \
    || fail "status after the run: $(jq -c .queue status.json)"
  [ "$(listing)" == "$before" ] \
    && pass "the workspace folder holds only trib.toml, unchanged: a read-only mount works" \
    || fail "trib wrote into the workspace folder: $(diff <(echo "$before") <(listing))"
  grep -q "AccountKey\|Eby8vdM02" init.txt update.txt worker.json timer.json drain.json serve.log \
    && fail "the account key reached an output" || pass "no key in any output"
fi

# ---------------------------------------------------------------------------------------------
# 8. Runtime libraries: the image's package list against the real binary.
if out=$("$AZ/docker/check-runtime.sh" "$TRIB_BIN" 2>&1); then pass "$out"; else fail "check-runtime: $out"; fi
without=$("$AZ/docker/runtime-packages.sh" list | grep -vx 'libpqxx-6.4' | tr '\n' ' ')
if out=$(TRIB_RUNTIME_PACKAGES="$without" "$AZ/docker/check-runtime.sh" "$TRIB_BIN" 2>&1); then
  fail "control: check-runtime passed without libpqxx-6.4"
else
  grep -q "libpqxx" <<< "$out" && pass "control: without libpqxx-6.4 check-runtime fails ($(head -1 <<< "$out" | cut -c1-90))" \
    || fail "control failed for another reason: $out"
fi
for p in $("$AZ/docker/runtime-packages.sh" list); do
  case "$p" in
    build-essential|gcc*|g++*|cpp*|clang*|cmake|ninja-build|nodejs|npm|*-dev) fail "runtime package list holds a build tool: $p" ;;
  esac
done

# Build stage: the packages of scripts/install-deps it keeps provide everything CMake finds.
mapfile -t build_pkgs < <("$AZ/docker/build-packages.sh" list "$TRIB_SOURCE_DIR")
printf '%s\n' "${build_pkgs[@]}" | grep -qx cmake && printf '%s\n' "${build_pkgs[@]}" | grep -qx libpqxx-dev \
  && ! printf '%s\n' "${build_pkgs[@]}" | grep -qxE 'libgtest-dev|postgresql|nodejs|npm|clang' \
  && pass "build stage: ${#build_pkgs[@]} packages from scripts/install-deps, test-only ones left out" \
  || fail "build-packages.sh: ${build_pkgs[*]}"
cmake -S "$TRIB_SOURCE_DIR" -B cfg -G Ninja -DCMAKE_BUILD_TYPE=Release -DTRIB_BUILD_TESTS=OFF -DTRIB_BUILD_BENCH=OFF > cfg.log 2>&1 \
  && pass "CMake configures with -DTRIB_BUILD_TESTS=OFF -DTRIB_BUILD_BENCH=OFF (as build-trib.sh asks)" \
  || fail "configure with tests off: $(tail -5 cfg.log)"
# dependency closure of the build packages (installed ones), through dpkg's database
declare -A closure=()
frontier=("${build_pkgs[@]}")
for p in "${build_pkgs[@]}"; do closure[$p]=1; done
while [ "${#frontier[@]}" -gt 0 ]; do
  next=()
  while IFS= read -r dep; do
    [ -n "$dep" ] && [ -z "${closure[$dep]:-}" ] && { closure[$dep]=1; next+=("$dep"); }
  done < <(dpkg-query -W -f='${Pre-Depends}, ${Depends}\n' "${frontier[@]}" 2> /dev/null |
           tr ',|' '\n\n' | sed -e 's/([^)]*)//g' -e 's/:any//g' -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//')
  frontier=("${next[@]}")
done
found=$( (grep -E '^[A-Za-z0-9_]+(_DIR|_INCLUDE_DIR|_LIBRARY|_LIBRARY_RELEASE|_COMPILER|_EXECUTABLE):' cfg/CMakeCache.txt | cut -d= -f2 | grep '^/' | grep -v NOTFOUND
          for m in thrift liblz4 libbrotlienc libbrotlidec cpp-httplib libpqxx libpq; do pkg-config --path "$m" 2> /dev/null; done) | sort -u)
missing_build=0; checked=0
for f in $found; do
  checked=$((checked + 1))
  real=$(readlink -f "$f")
  owner=""
  for cand in "$f" "$real" "/usr${f#/usr}" "${real/#\/usr\/lib\//\/lib\/}" "${f/#\/usr\/lib\//\/lib\/}"; do
    owner=$(dpkg-query -S "$cand" 2> /dev/null | head -1 | sed 's/: .*//' | tr ',' '\n' | sed 's/^ *//; s/:.*//' | head -1) && [ -n "$owner" ] && break
  done
  [ -n "$owner" ] || continue  # a directory shared by many packages
  if [ -z "${closure[$owner]:-}" ]; then
    fail "configure found $f (package $owner), which the build stage does not install"; missing_build=$((missing_build + 1))
  fi
done
[ "$missing_build" == 0 ] && pass "every file the configure step found ($checked) belongs to a build-stage package or its dependencies"

# ---------------------------------------------------------------------------------------------
# 9. The Dockerfile.
froms=$(grep -cE '^FROM ' "$DOCKERFILE")
[ "$froms" -ge 2 ] && pass "Dockerfile is multi-stage ($froms stages)" || fail "Dockerfile has $froms FROM line(s)"
if grep -E '^FROM ' "$DOCKERFILE" | grep -qvE '^FROM debian:bookworm(-slim)?( AS [a-z]+)?$'; then
  fail "a stage is not debian:bookworm: $(grep -E '^FROM ' "$DOCKERFILE" | grep -vE 'debian:bookworm')"
else
  pass "every stage is FROM debian:bookworm(-slim)"
fi
last_stage=$(awk '/^FROM /{ buf = "" } { buf = buf $0 "\n" } END { printf "%s", buf }' "$DOCKERFILE")
user=$(grep -E '^USER ' <<< "$last_stage" | tail -1 | awk '{print $2}')
[ -n "$user" ] && [ "${user%%:*}" != 0 ] && [ "${user%%:*}" != root ] && pass "the runtime stage runs as USER $user" \
  || fail "the runtime stage has no non-root USER (got '$user')"
grep -q -- '--uid 10001' <<< "$last_stage" && [ "${user%%:*}" == 10001 ] && pass "uid 10001 is created and used" || fail "uid 10001"
grep -qx 'ENTRYPOINT \["trib"\]' <<< "$last_stage" && grep -qx 'CMD \["worker", "--drain"\]' <<< "$last_stage" \
  && grep -qx 'WORKDIR /workspace' <<< "$last_stage" && grep -qx 'ENV TRIB_WORKSPACE=/workspace' <<< "$last_stage" \
  && pass "ENTRYPOINT [\"trib\"], CMD [\"worker\", \"--drain\"], WORKDIR /workspace, TRIB_WORKSPACE=/workspace" \
  || fail "ENTRYPOINT / CMD / WORKDIR / ENV of the runtime stage"
grep -qE 'COPY --from=build .*/apps/trib/trib /usr/local/bin/trib' <<< "$last_stage" && [ "$(grep -c '^COPY' <<< "$last_stage")" == 2 ] \
  && pass "the runtime stage copies only trib (and its two check scripts)" || fail "runtime stage COPY lines: $(grep '^COPY' <<< "$last_stage")"
while read -r _ args; do
  for s in $(grep -oE '(deploy/azure/docker|/opt/trib/docker)/[a-z-]+\.sh' <<< "$args"); do
    [ -x "$AZ/docker/$(basename "$s")" ] || fail "RUN calls $s, which is not an executable under deploy/azure/docker"
  done
  grep -qE '(deploy/azure/docker|/opt/trib/docker)/' <<< "$args" || fail "RUN step is not one of our scripts: $args"
done < <(grep -E '^RUN ' "$DOCKERFILE")
pass "every RUN step runs a script under deploy/azure/docker ($(grep -cE '^RUN ' "$DOCKERFILE") steps)"
while read -r _ rest; do
  [[ "$rest" == --from=* ]] && continue
  read -r -a parts <<< "$rest"
  for src in "${parts[@]:0:${#parts[@]}-1}"; do
    [ -e "$TRIB_SOURCE_DIR/$src" ] || fail "COPY source $src does not exist in the repository"
  done
done < <(grep -E '^COPY ' "$DOCKERFILE")
pass "every COPY source exists"
grep -q "runtime-packages.sh install" <<< "$last_stage" && grep -q "check-runtime.sh /usr/local/bin/trib" <<< "$last_stage" \
  && pass "the runtime stage installs runtime-packages.sh's list and runs check-runtime.sh (the same scripts as above)" \
  || fail "the runtime stage does not use runtime-packages.sh / check-runtime.sh"
grep -q "build-packages.sh install" "$DOCKERFILE" && grep -q "build-trib.sh" "$DOCKERFILE" \
  && grep -q -- "-DTRIB_BUILD_TESTS=OFF -DTRIB_BUILD_BENCH=OFF" "$AZ/docker/build-trib.sh" \
  && pass "the build stage installs build-packages.sh's list and runs scripts/build with tests and benchmarks off" \
  || fail "the build stage"

# ---------------------------------------------------------------------------------------------
# 10. main.bicep: a structural check (no Bicep compiler can run here) and what trib depends on.
if out=$(node "$AZ/check-bicep.mjs" "$BICEP" 2>&1); then pass "$out"; else fail "check-bicep: $out"; fi
mkdir -p bicep-control/functions && cp "$FN/trib.toml" bicep-control/functions/
sed 's/AccountName=${storage.name}/AccountName=${stroage.name}/' "$BICEP" > bicep-control/main.bicep
node "$AZ/check-bicep.mjs" bicep-control/main.bicep > /dev/null 2> control.err && fail "control: check-bicep accepted an undeclared name" \
  || pass "control: check-bicep refuses an undeclared name ($(head -1 control.err | sed 's|.*main.bicep:||'))"
types=$(node "$AZ/check-bicep.mjs" "$BICEP" --json | jq -r '.resources[].type | sub("@.*"; "")' | sort -u)
for t in Microsoft.Storage/storageAccounts Microsoft.Storage/storageAccounts/blobServices/containers \
         Microsoft.Storage/storageAccounts/queueServices/queues Microsoft.DBforPostgreSQL/flexibleServers \
         Microsoft.DBforPostgreSQL/flexibleServers/databases Microsoft.KeyVault/vaults Microsoft.KeyVault/vaults/secrets \
         Microsoft.ManagedIdentity/userAssignedIdentities Microsoft.Authorization/roleAssignments \
         Microsoft.OperationalInsights/workspaces Microsoft.App/managedEnvironments Microsoft.App/jobs \
         Microsoft.App/containerApps Microsoft.Web/serverfarms Microsoft.Web/sites Microsoft.ContainerRegistry/registries; do
  grep -qx "$t" <<< "$types" || fail "main.bicep declares no $t"
done
pass "main.bicep declares every resource type the deployment needs ($(wc -l <<< "$types") types)"
for setting in "isHnsEnabled: true" "minimumTlsVersion: 'TLS1_2'" "allowBlobPublicAccess: false" \
                "triggerType: 'Event'" "type: 'azure-queue'" "queueLength: string(backfillQueueLength)" \
                "triggerParameter: 'connection'" "name: 'custom'" "keyVaultReferenceIdentity: identity.id" \
                "enableRbacAuthorization: true" "storageType: 'Secret'" "mountPath: '/workspace'" \
                "{ secretRef: 'trib-toml', path: 'trib.toml' }" "{ name: 'TRIB_WORKSPACE', value: '/workspace' }" \
                "{ name: 'TRIB_WORKSPACE', value: '/home/site/wwwroot' }" "param deployBot bool = false"; do
  grep -qF -- "$setting" "$BICEP" || fail "main.bicep lacks: $setting"
done
pass "main.bicep: ADLS Gen2 (HNS), TLS 1.2, no public blobs; event job on azure-queue; Flex custom handler; Key Vault RBAC; trib.toml mounted; bot off by default"
grep -qF "command: [ 'trib', 'serve', '--schedule', '--host', '0.0.0.0' ]" "$BICEP" && grep -qF '`trib serve --schedule --host 0.0.0.0`' "$README" \
  && pass "the bot runs trib serve --schedule, in main.bicep and the README" \
  || fail "the bot's command differs between main.bicep and the README"

# ---------------------------------------------------------------------------------------------
# 11. The Functions package.
if command -v patchelf > /dev/null && command -v objdump > /dev/null; then
  sed "s|pg-host.invalid|db.example.test|" "$FN/trib.toml" > rendered.toml
  if out=$("$AZ/package-functions.sh" pkg "$TRIB_BIN" rendered.toml 2>&1); then
    pass "$out"
    [ -x pkg/trib ] && [ -r pkg/host.json ] && [ -r pkg/trib.toml ] && [ -r pkg/DailyUpdate/function.json ] && [ -r pkg/RunTask/function.json ] \
      && pass "package holds host.json, the function folders, trib.toml and trib" || fail "package contents: $(ls -R pkg | head)"
    env -i pkg/trib --version > /dev/null && pass "the packaged trib runs with an empty environment (no LD_LIBRARY_PATH)" \
      || fail "packaged trib does not run"
    outside=$(ldd pkg/trib | awk '$2 == "=>" { print $1, $3 }' | grep -v " $(cd pkg && pwd)/lib/" |
              grep -vE '^(libc|libm|libresolv|libpthread|libdl|librt)\.so' || true)
    [ -z "$outside" ] && pass "every non-glibc library of the packaged trib loads from its lib/" \
      || fail "the packaged trib loads from outside the package: $outside"
    "$AZ/package-functions.sh" pkg2 "$TRIB_BIN" "$FN/trib.toml" > /dev/null 2>&1 \
      && fail "package-functions accepted the unrendered trib.toml" || pass "package-functions refuses the placeholder url"
  else
    fail "package-functions.sh: $out"
  fi
else
  echo "skipped: the Functions package check needs patchelf and objdump (apt-get install patchelf binutils)"
fi

finish
