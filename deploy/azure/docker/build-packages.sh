#!/usr/bin/env bash
# The Debian 12 packages the image's build stage needs to compile `trib`: scripts/install-deps'
# APT_PACKAGES list (the one source of truth), less what only tests, fuzzing, benchmarks and the
# local servers use. Node is never installed here (install-deps adds it outside that list).
#
#   build-packages.sh [ROOT]           prints the list, one package a line (ROOT: the checkout, default ../../..)
#   build-packages.sh install [ROOT]   apt-get installs it (no recommends)
set -euo pipefail
mode="list"
case "${1:-}" in list|install) mode="$1"; shift ;; esac
root="${1:-$(cd "$(dirname "$0")/../../.." && pwd)}"
deps="$root/scripts/install-deps"
[ -r "$deps" ] || { echo "build-packages: $deps is missing" >&2; exit 1; }

# Not needed to build the trib binary with TRIB_BUILD_TESTS=OFF and TRIB_BUILD_BENCH=OFF.
TEST_ONLY=(
  clang libclang-rt-14-dev                  # libFuzzer targets
  libgtest-dev libgmock-dev libbenchmark-dev # test suite and benchmarks
  postgresql sqlite3 jq zstd                 # servers and command-line tools the tests drive
  git                                        # the build stamps no commit
)

# The words between `APT_PACKAGES=(` and the closing `)`, comments dropped.
mapfile -t all < <(sed -n '/^APT_PACKAGES=(/,/^)/p' "$deps" | sed -e '1s/^APT_PACKAGES=(//' -e 's/#.*$//' -e 's/)//' |
                   tr -s ' \t' '\n\n' | sed '/^$/d')
[ "${#all[@]}" -gt 0 ] || { echo "build-packages: no APT_PACKAGES list found in $deps" >&2; exit 1; }
declare -A skip=()
for p in "${TEST_ONLY[@]}"; do skip[$p]=1; done
packages=()
for p in "${all[@]}"; do [ -n "${skip[$p]:-}" ] || packages+=("$p"); done

case "$mode" in
  list)
    printf '%s\n' "${packages[@]}"
    ;;
  install)
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${packages[@]}" > /dev/null
    ;;
esac
