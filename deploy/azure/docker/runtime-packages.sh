#!/usr/bin/env bash
# The Debian 12 packages the runtime image needs to run `trib`: the shared libraries the binary
# links (found with `ldd build/apps/trib/trib`, each mapped to the package that ships it) plus
# ca-certificates for HTTPS to Azure. Their own dependencies come in through apt.
#
#   runtime-packages.sh           prints the list, one package a line
#   runtime-packages.sh install   apt-get installs it (no recommends) and empties apt's lists
#
# deploy/azure/docker/check-runtime.sh checks a binary against this list; tests/cli/deploy_test.sh
# runs it on the real build, so a new library dependency fails the test until it is added here.
set -euo pipefail

PACKAGES=(
  libc6 libgcc-s1 libstdc++6          # C and C++ runtime (g++ 12)
  libthrift-0.17.0                    # Parquet footers and page headers (Thrift compact protocol)
  libzstd1 libsnappy1v5 zlib1g liblz4-1 libbrotli1   # Parquet codecs
  libssl3                             # libcrypto: SHA-256, HMAC for Azure SharedKey
  libcurl4                            # HTTP client (Azure Blob and Queue REST)
  libpugixml1v5                       # Azure XML answers
  libcpp-httplib0.11                  # the Functions custom-handler server
  libspdlog1.10 libfmt9               # logging, formatting
  libtomlplusplus3                    # trib.toml
  libsqlite3-0                        # embedded catalog and queue (local shape)
  libpqxx-6.4 libpq5                  # PostgreSQL catalog
  libxgboost0                         # ML: gradient-boosted trees (brings libdmlc0, libgomp1)
  ca-certificates                     # TLS roots for *.core.windows.net and PostgreSQL
)

case "${1:-list}" in
  list)
    printf '%s\n' "${PACKAGES[@]}"
    ;;
  install)
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" > /dev/null
    rm -rf /var/lib/apt/lists/*
    ;;
  *)
    echo "usage: $0 [list|install]" >&2
    exit 2
    ;;
esac
