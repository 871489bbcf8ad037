#!/usr/bin/env bash
# Installs the build into a scratch prefix, builds tests/install/consumer out
# of tree against it with find_package(MoonComm), runs the consumer app, and
# checks that the installed core's loader reads the consumer plugin's symbol.
set -euo pipefail
BUILD_DIR="$1"
SANITIZE="${2:-}"   # the build's MC_SANITIZE: the consumer must be instrumented the same way
SRC_DIR="$(cd "$(dirname "$0")" && pwd)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

cmake --install "$BUILD_DIR" --prefix "$WORK/prefix" >/dev/null
test -f "$WORK/prefix/include/mooncomm/plugin_abi.h"
test -f "$WORK/prefix/lib/cmake/MoonComm/MoonCommConfig.cmake"
flags=""
case "$SANITIZE" in
  address) flags="-fsanitize=address,undefined" ;;
  thread) flags="-fsanitize=thread" ;;
esac
cmake -S "$SRC_DIR/consumer" -B "$WORK/build" -G Ninja -DCMAKE_PREFIX_PATH="$WORK/prefix" \
  -DCMAKE_C_FLAGS="$flags" -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="$flags" \
  -DCMAKE_MODULE_LINKER_FLAGS="$flags" >/dev/null
ninja -C "$WORK/build" >/dev/null
LD_LIBRARY_PATH="$WORK/prefix/lib" "$WORK/build/consumer_app" | grep -q "MC_TIMEOUT_MS=30000"

# The installed mc_info loads the plugin by name from MC_PLUGIN_PATH and reports
# its reason for not running, which proves the symbol and ABI version were read.
out="$(MC_PLUGIN_PATH="$WORK/build" MC_TRANSPORT=consumer "$WORK/prefix/bin/mc_info" 2>&1 || true)"
echo "$out" | grep -q "the consumer example has no devices" || { echo "$out"; exit 1; }
echo "install test passed"
