#!/usr/bin/env bash
# Installs what a fresh Debian/Ubuntu machine with only Swift lacks: the system
# libraries Flotilla links (OpenSSL 3, LZ4), the openssl CLI and iproute2 used by
# the tests; with --cluster also jq and curl, which scripts/local-cluster.sh uses.
# Idempotent: does nothing when everything is present.
set -euo pipefail
packages=(libssl-dev liblz4-dev openssl pkg-config iproute2 procps)
[ "${1:-}" = "--cluster" ] && packages+=(jq curl)
need=()
for pkg in "${packages[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo_cmd apt-get update -qq
  $sudo_cmd apt-get install -y -qq "${need[@]}"
fi
