#!/usr/bin/env bash
# The image's build step: scripts/build (Release, Ninja) with the test suite and the benchmarks
# off, into build/ ($TRIB_BUILD_DIR overrides), then strips the binary. Prints the binary's path.
#   build-trib.sh [ROOT]   (ROOT: the checkout, default ../../..)
set -euo pipefail
root="${1:-$(cd "$(dirname "$0")/../../.." && pwd)}"
cd "$root"
dir="${TRIB_BUILD_DIR:-build}"
TRIB_BUILD_DIR="$dir" TRIB_BUILD_TYPE=Release scripts/build -DTRIB_BUILD_TESTS=OFF -DTRIB_BUILD_BENCH=OFF >&2
strip --strip-unneeded "$dir/apps/trib/trib"
echo "$root/$dir/apps/trib/trib"
