#!/usr/bin/env bash
# Checks that every shared library BINARY needs is provided by the runtime package list
# (runtime-packages.sh), on the machine it runs on (Debian 12: dpkg must know the libraries):
#   1. the loader resolves every library (`ldd` says no "not found");
#   2. every library the binary names itself (ELF NEEDED, when readelf is there) comes from a
#      package that is on the list, not from one that happens to be pulled in by another;
#   3. every library `ldd` resolves, direct or not, comes from a package on the list or from one of
#      their dependencies (Depends/Pre-Depends, followed through dpkg's database).
# The Dockerfile runs it in the runtime image after installing the list (there 1. is the check
# that matters: nothing else is installed); tests/cli/deploy_test.sh runs it on the build machine
# against build/apps/trib/trib (there 2. and 3. are: everything is installed).
#
# Usage: check-runtime.sh [BINARY]          (default /usr/local/bin/trib)
#        TRIB_RUNTIME_PACKAGES="a b c" check-runtime.sh BINARY   checks against another list
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="${1:-/usr/local/bin/trib}"
die() { echo "check-runtime: $*" >&2; exit 1; }
[ -x "$bin" ] || die "$bin is not an executable file"
command -v dpkg-query > /dev/null || die "dpkg-query is missing: run this on Debian"

if [ -n "${TRIB_RUNTIME_PACKAGES:-}" ]; then
  read -r -a listed <<< "$TRIB_RUNTIME_PACKAGES"
else
  mapfile -t listed < <("$here/runtime-packages.sh" list)
fi
[ "${#listed[@]}" -gt 0 ] || die "the package list is empty"
declare -A on_list=()
for p in "${listed[@]}"; do on_list[$p]=1; done

problems=0
problem() { echo "check-runtime: $*" >&2; problems=$((problems + 1)); }

# The other spelling of a path under Debian 12's merged /usr (/lib -> /usr/lib): dpkg records
# each file under the name its package ships, which may be either.
other_spelling() {
  case "$1" in
    /usr/lib/*) echo "/lib/${1#/usr/lib/}" ;;
    /lib/*) echo "/usr/lib/${1#/lib/}" ;;
    /usr/lib64/*) echo "/lib64/${1#/usr/lib64/}" ;;
    /lib64/*) echo "/usr/lib64/${1#/lib64/}" ;;
    *) echo "$1" ;;
  esac
}

# 1. Everything resolves.
ldd_out="$(ldd "$bin" 2>&1)" || die "ldd failed on $bin: $ldd_out"
if grep -q 'not found' <<< "$ldd_out"; then
  while read -r line; do problem "the loader cannot find ${line%% *} (install its package in the image)"; done \
    < <(grep 'not found' <<< "$ldd_out")
fi

# Which package owns each library file: one dpkg query for every spelling of every path.
declare -A owner_of=()
candidates=()
while read -r so arrow path _; do
  [ "$arrow" == "=>" ] && [ "${path:0:1}" == "/" ] || continue
  real="$(readlink -f "$path")"
  candidates+=("$path" "$(other_spelling "$path")" "$real" "$(other_spelling "$real")")
done <<< "$ldd_out"
while IFS= read -r line; do
  case "$line" in diversion*) continue ;; esac
  file="${line##*: }"
  owner_of[$file]="$(printf '%s\n' "${line%%: *}" | tr ',' '\n' | sed -e 's/^ *//' -e 's/:.*$//')"
done < <(dpkg-query -S "${candidates[@]}" 2>/dev/null || true)

# The package(s) owning a library file, one a line.
owners() {
  local path="$1" real cand
  real="$(readlink -f "$path")"
  for cand in "$path" "$(other_spelling "$path")" "$real" "$(other_spelling "$real")"; do
    if [ -n "${owner_of[$cand]:-}" ]; then printf '%s\n' "${owner_of[$cand]}"; return 0; fi
  done
  return 1
}

# The listed packages and everything they depend on, through dpkg's database.
for p in "${listed[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
    problem "listed package $p is not installed here, so nothing can be checked against it"
done
declare -A closure=()
frontier=("${listed[@]}")
for p in "${listed[@]}"; do closure[$p]=1; done
while [ "${#frontier[@]}" -gt 0 ]; do
  next=()
  while IFS= read -r dep; do
    [ -n "$dep" ] || continue
    if [ -z "${closure[$dep]:-}" ]; then closure[$dep]=1; next+=("$dep"); fi
  done < <(dpkg-query -W -f='${Pre-Depends}, ${Depends}\n' "${frontier[@]}" 2>/dev/null |
             tr ',|' '\n\n' | sed -e 's/([^)]*)//g' -e 's/:any//g' -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//')
  frontier=("${next[@]}")
done

# 2. Direct needs come from listed packages.
direct=()
if command -v readelf > /dev/null; then
  mapfile -t direct < <(readelf -d "$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
fi
declare -A is_direct=()
for so in "${direct[@]}"; do is_direct[$so]=1; done

# 3. Every resolved library comes from the list or its dependencies.
count=0
while read -r so arrow path _; do
  [ "$arrow" == "=>" ] && [ "${path:0:1}" == "/" ] || continue
  count=$((count + 1))
  if ! pkgs="$(owners "$path")"; then
    problem "$so ($path) belongs to no Debian package"
    continue
  fi
  ok=""
  while read -r pkg; do
    if [ -n "${is_direct[$so]:-}" ]; then
      [ -n "${on_list[$pkg]:-}" ] && ok="$pkg"
    else
      [ -n "${closure[$pkg]:-}" ] && ok="$pkg"
    fi
  done <<< "$pkgs"
  if [ -z "$ok" ]; then
    if [ -n "${is_direct[$so]:-}" ]; then
      problem "$bin needs $so, shipped by $(tr '\n' ' ' <<< "$pkgs")which is not in the runtime package list"
    else
      problem "$so (needed indirectly) is shipped by $(tr '\n' ' ' <<< "$pkgs")which no listed package depends on"
    fi
  fi
done <<< "$ldd_out"

if [ "$problems" -gt 0 ]; then
  echo "check-runtime: $problems problem(s); the list is deploy/azure/docker/runtime-packages.sh" >&2
  exit 1
fi
echo "check-runtime: all $count libraries of $bin come from the ${#listed[@]} listed packages" \
  "(${#direct[@]} named by the binary itself) or their dependencies"
