#!/usr/bin/env bash
# Run on the GPU machine (the device tool), from the repository root, with
# .deps/ carried: builds a snapshot of HEAD (.deps/snap.tar.gz, from
# `git archive`) with CUDA on, runs the GPU memory-kind test and the test
# suite, then the p2p benchmark against ucx_perftest on that machine's idle
# cores. Abseil and ucx-utils come from Debian's packages unpacked in .deps/.
set -uo pipefail
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
ROOT="$PWD"
OUT="${OUT:-/tmp/out}"
mkdir -p "$OUT"
SRC=/tmp/mc-src BUILD=/tmp/mc-build
rm -rf "$SRC" && mkdir -p "$SRC" && tar xzf .deps/snap.tar.gz -C "$SRC"
ABSL="$ROOT/.deps/absl/usr" UCX="$ROOT/.deps/ucx/usr"
export LD_LIBRARY_PATH="$ABSL/lib/x86_64-linux-gnu:$UCX/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}"
export PATH="$UCX/bin:$PATH" UCX_MODULE_DIR="$UCX/lib/x86_64-linux-gnu/ucx"
nvidia-smi -L; nproc
cmake -S "$SRC" -B "$BUILD" -G Ninja -DCMAKE_PREFIX_PATH="$ABSL" -DMC_WITH_CUDA=on -DMC_WERROR=ON \
  > "$OUT/configure.txt" 2>&1 || { tail -30 "$OUT/configure.txt"; exit 1; }
ninja -C "$BUILD" > "$OUT/build.txt" 2>&1 || { grep -E "error|FAILED" "$OUT/build.txt" | head -30; exit 1; }
echo "== memory_kind_test (GPU)"; "$BUILD/tests/memory_kind_test" 2>&1 | grep -E "OK|FAIL|SKIP|PASSED"
echo "== ctest"; ctest --test-dir "$BUILD" -j 8 --output-on-failure -E install > "$OUT/ctest.txt" 2>&1
tail -12 "$OUT/ctest.txt"
"$BUILD/bin/mc_info" > "$OUT/mc_info.txt" 2>&1; head -20 "$OUT/mc_info.txt"
echo "== p2p benchmark"; cd "$SRC" && python3 bench/p2p_compare.py --build "$BUILD" -b 8 -e 256M -f 4 \
  --out "$OUT/p2p_device.md" 2>&1 | tail -20
