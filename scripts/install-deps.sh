#!/usr/bin/env bash
# Installs what building and testing MoonComm needs, from Debian's packages.
# Idempotent: packages already present are not fetched again.
set -euo pipefail

PACKAGES=(
  cmake ninja-build g++ pkg-config
  libabsl-dev libgtest-dev libgmock-dev libbenchmark-dev
  ucx-utils libucx-dev                  # the ucx plugin, and ucx_perftest for benchmarks
  libfabric-dev libfabric-bin          # the efa plugin (libfabric), and fi_pingpong
  libibverbs-dev librdmacm-dev         # the rdma-verbs plugin
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "install-deps: all packages present"
fi
