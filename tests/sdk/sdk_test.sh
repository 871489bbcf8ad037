#!/usr/bin/env bash
# The plugin SDK end to end, the way a plugin author uses it:
#  1. install this build into a scratch prefix (cmake --install);
#  2. configure and build examples/plugin-unix out of tree against that prefix
#     with find_package(MoonComm);
#  3. check that the plugin exports mc_plugin_v1 and nothing else;
#  4. run the INSTALLED mc_plugin_check over the built .so, given by path
#     (the whole suite, then a few cases with the plugin's param set);
#  5. select the plugin by name (MC_PLUGIN_PATH + MC_TRANSPORT) in the
#     installed mc_info and mc_perf (two local ranks, data checked).
# Any failing step fails the test, and the log says which step it was.
#
# usage: sdk_test.sh <build dir> <example source dir> <C++ compiler> [address|thread]
set -euo pipefail

BUILD_DIR="$1"
EXAMPLE_DIR="$2"
CXX_COMPILER="$3"
SANITIZE="${4:-}"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/mooncomm-sdk-test.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
PREFIX="$WORK/prefix"
PLUGIN_BUILD="$WORK/plugin-build"
PLUGIN="$PLUGIN_BUILD/libmooncomm-unixdemo.so"

CURRENT_STEP=""
step() {
  CURRENT_STEP="$*"
  echo "== $CURRENT_STEP"
}
trap 'echo "FAILED in step: $CURRENT_STEP" >&2' ERR

# Runs a command quietly; on failure shows its output.
quiet() {
  local log="$WORK/step.log"
  if ! "$@" > "$log" 2>&1; then
    cat "$log" >&2
    return 1
  fi
}

step "install $BUILD_DIR into a scratch prefix"
quiet cmake --install "$BUILD_DIR" --prefix "$PREFIX"
for file in include/mooncomm/plugin_abi.h bin/mc_plugin_check bin/mc_info bin/mc_perf; do
  test -e "$PREFIX/$file" || { echo "the install lacks $file" >&2; false; }
done
# The package config is in <libdir>/cmake/MoonComm; libdir may be lib, lib64 or lib/<multiarch>.
config="$(find "$PREFIX" -path '*/cmake/MoonComm/MoonCommConfig.cmake' | head -n 1)"
[[ -n "$config" ]] || { echo "the install lacks MoonCommConfig.cmake" >&2; false; }

step "configure examples/plugin-unix out of tree with find_package(MoonComm)"
# The plugin is built like the installed binaries that will load it: with the
# same compiler and, in a sanitizer build, the same sanitizer.
flags="-Werror"
case "$SANITIZE" in
  "") ;;
  address) flags="$flags -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" ;;
  thread) flags="$flags -fsanitize=thread -fno-omit-frame-pointer" ;;
  *) echo "unknown sanitizer '$SANITIZE'" >&2; false ;;
esac
generator=()
if command -v ninja > /dev/null; then generator=(-G Ninja); fi
quiet cmake -S "$EXAMPLE_DIR" -B "$PLUGIN_BUILD" "${generator[@]}" \
  -DCMAKE_PREFIX_PATH="$PREFIX" -DCMAKE_CXX_COMPILER="$CXX_COMPILER" -DCMAKE_CXX_FLAGS="$flags"

step "build the plugin"
quiet cmake --build "$PLUGIN_BUILD"
test -f "$PLUGIN" || { echo "the build made no $PLUGIN" >&2; false; }

step "the plugin exports mc_plugin_v1 alone"
exported="$(nm -D --defined-only "$PLUGIN" | awk '{print $NF}' | sort | tr '\n' ' ')"
[[ "$exported" == "mc_plugin_v1 " ]] || { echo "exported symbols: $exported" >&2; false; }

step "the installed mc_plugin_check over $PLUGIN"
timeout -k 10 400 "$PREFIX/bin/mc_plugin_check" "$PLUGIN"

step "again with MC_UNIXDEMO_MAX_MESSAGE=268435456 (the plugin's param, at the suite's 256 MiB minimum)"
MC_UNIXDEMO_MAX_MESSAGE=268435456 timeout -k 10 200 "$PREFIX/bin/mc_plugin_check" "$PLUGIN" \
  --gtest_filter='*InitDevicesAndFinalize:*TaggedSizesBothDirections:*InvalidArgumentsAreErrors'

step "the installed mc_info finds unixdemo through MC_PLUGIN_PATH"
if [[ "$SANITIZE" == thread && -n "$(find "$PREFIX" -name libmooncomm-ucx.so)" ]]; then
  # mc_info opens every plugin it finds, and the ucx plugin crashes under
  # TSan (UCX's memory hooks in libucm run inside the TSan runtime).
  echo "skipped: under TSan mc_info would also open the installed ucx plugin, which crashes there"
else
  info="$(MC_PLUGIN_PATH="$PLUGIN_BUILD" timeout -k 5 60 "$PREFIX/bin/mc_info" 2>&1)" || { echo "$info" >&2; false; }
  grep -qF "unixdemo  ($PLUGIN, ABI version 1" <<< "$info" || { echo "$info" >&2; false; }
fi

step "the installed mc_perf runs two ranks over MC_TRANSPORT=unixdemo"
perf="$(MC_PLUGIN_PATH="$PLUGIN_BUILD" MC_TRANSPORT=unixdemo \
  timeout -k 5 120 "$PREFIX/bin/mc_perf" --np 2 -b 1 -e 1M -f 32 -n 20 -w 2 -r 1 --check 2>&1)" ||
  { echo "$perf" >&2; false; }
echo "$perf"
grep -qF "over unixdemo" <<< "$perf" || { echo "mc_perf did not run over unixdemo" >&2; false; }
# Every size row: the last column (#wrong) is 0.
rows="$(grep -cE '^ +[0-9]+ ' <<< "$perf" || true)"
good="$(awk '/^ +[0-9]+ / && $NF == "0"' <<< "$perf" | wc -l)"
[[ "$rows" -ge 5 && "$rows" == "$good" ]] || { echo "mc_perf: $good of $rows sizes arrived intact" >&2; false; }

echo "sdk test passed"
