#!/usr/bin/env bash
# Assembles the Function App package (a folder to zip-deploy, or to publish with Core Tools):
#   host.json, DailyUpdate/function.json, RunTask/function.json   from deploy/azure/functions/
#   trib.toml    the rendered workspace file (main.bicep's output `tribToml`)
#   trib         the binary, with its RPATH set to $ORIGIN/lib (patchelf)
#   lib/         every shared library trib loads except glibc's own (libc, libm, the loader...):
#                the Functions host image is not ours, so the package carries its dependencies
# and prints the newest glibc symbol version the package needs: the host must provide it.
#
# Usage: package-functions.sh OUT_DIR TRIB_BIN TRIB_TOML
#   e.g. az deployment group show -g RG -n main --query properties.outputs.tribToml.value -o tsv > trib.toml
#        deploy/azure/package-functions.sh dist/functions build/apps/trib/trib trib.toml
#        (cd dist/functions && zip -qr ../functions.zip .)
# Needs patchelf (apt-get install patchelf), ldd and objdump (binutils).
set -euo pipefail
die() { echo "package-functions: $*" >&2; exit 1; }
[ $# -eq 3 ] || die "usage: $0 OUT_DIR TRIB_BIN TRIB_TOML"
out="$1"; bin="$2"; toml="$3"
here="$(cd "$(dirname "$0")" && pwd)"
[ -x "$bin" ] || die "$bin is not an executable"
[ -r "$toml" ] || die "$toml is not readable"
grep -q 'pg-host.invalid' "$toml" && die "$toml still has the placeholder PostgreSQL host: use main.bicep's tribToml output"
command -v patchelf > /dev/null || die "patchelf is missing (apt-get install patchelf)"
command -v objdump > /dev/null || die "objdump is missing (apt-get install binutils)"
if [ -e "$out" ] && [ -n "$(ls -A "$out")" ]; then die "$out exists and is not empty"; fi
mkdir -p "$out/lib"

cp "$here/functions/host.json" "$out/"
for f in "$here"/functions/*/function.json; do
  name="$(basename "$(dirname "$f")")"
  mkdir -p "$out/$name"
  cp "$f" "$out/$name/function.json"
done
cp "$toml" "$out/trib.toml"
install -m 0755 "$bin" "$out/trib"

# glibc's libraries stay the host's: mixing a foreign libc with the host's loader does not work.
glibc='^(linux-vdso\.so|ld-linux|libc\.so|libm\.so|libpthread\.so|libdl\.so|librt\.so|libresolv\.so|libutil\.so|libanl\.so|libnss_)'
bundled=0
while read -r so arrow path _; do
  [ "$arrow" == "=>" ] && [ "${path:0:1}" == "/" ] || continue
  if [[ "$so" =~ $glibc ]]; then continue; fi
  cp -L "$path" "$out/lib/$so"
  chmod 0644 "$out/lib/$so"
  bundled=$((bundled + 1))
done < <(ldd "$bin")
patchelf --force-rpath --set-rpath '$ORIGIN/lib' "$out/trib"

need="$(objdump -T "$out/trib" "$out"/lib/*.so* 2>/dev/null | grep -o 'GLIBC_[0-9][0-9.]*' | sort -uV | tail -n 1)"
echo "package-functions: $out: host.json, $(ls -d "$out"/*/function.json | wc -l) function(s), trib.toml," \
  "trib + $bundled libraries in lib/; the host needs glibc ${need#GLIBC_} or newer"
