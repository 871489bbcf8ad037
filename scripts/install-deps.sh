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

# Python: torch for the PyTorch backend (torch-backend/; the version is
# pinned in torch-backend/pyproject.toml, [tool.mooncomm] torch), pytest for
# its tests, matplotlib for the benchmark charts. A torch already installed
# is kept when it is 2.11 or newer (the oldest the backend builds against).
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PYTHON="${MC_PYTHON:-python3}"
TORCH_PIN="$(sed -n 's/^torch = "\(.*\)"$/\1/p' "$ROOT/torch-backend/pyproject.toml")"
pip_install() {
  echo "install-deps: pip install $*"
  "$PYTHON" -m pip install --quiet --disable-pip-version-check "$@"
}
if ! "$PYTHON" -c 'import sys, torch; v = tuple(int(x) for x in torch.__version__.split("+")[0].split(".")[:2]); sys.exit(v < (2, 11))' 2>/dev/null; then
  pip_install "torch==$TORCH_PIN"
fi
"$PYTHON" -c 'import pytest' 2>/dev/null || pip_install pytest
"$PYTHON" -c 'import matplotlib' 2>/dev/null || pip_install matplotlib
echo "install-deps: python packages present"
