#!/usr/bin/env bash
# Every test: install what is needed, build with warnings as errors, run all
# tests, then rebuild with ASan+UBSan and run the multi-process tests again,
# and with TSan for the threaded parts. Exits non-zero on any failure.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
JOBS="$(nproc)"
"$ROOT/scripts/install-deps.sh"

echo "== build (warnings are errors)"
"$ROOT/scripts/build.sh" "$ROOT/build" -DMC_WERROR=ON
echo "== all tests"
ctest --test-dir "$ROOT/build" --output-on-failure -j "$JOBS"

echo "== ASan + UBSan: multi-process and unit tests"
"$ROOT/scripts/build.sh" "$ROOT/build-asan" -DMC_WERROR=ON -DMC_SANITIZE=address -DMC_WITH_CUDA=off
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir "$ROOT/build-asan" --output-on-failure -j "$JOBS"

# The plugins' libraries (UCX, libfabric) are not built with TSan, so their
# own threads would only give false reports: the plugin checks run under ASan.
echo "== TSan: the threaded parts (bootstrap store, communicator watchdog)"
"$ROOT/scripts/build.sh" "$ROOT/build-tsan" -DMC_WERROR=ON -DMC_SANITIZE=thread -DMC_WITH_CUDA=off
TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
  ctest --test-dir "$ROOT/build-tsan" --output-on-failure -j "$JOBS" -L "mp|threads" -LE plugin
echo "== all tests passed"
