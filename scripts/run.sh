#!/usr/bin/env bash
# The main job: install what is needed, build, then run mc_perf's p2p sweep
# on 2 local ranks over the default transport (MC_TRANSPORT=auto) and print
# the results table. Extra arguments go to mc_perf.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
"$ROOT/scripts/install-deps.sh"
"$ROOT/scripts/build.sh" "$ROOT/build"
echo
echo "== mc_perf --np 2 -b 8 -e 256M -f 2 (MC_TRANSPORT=${MC_TRANSPORT:-auto})"
MC_LOG_LEVEL="${MC_LOG_LEVEL:-info}" "$ROOT/build/bin/mc_perf" --np 2 -b 8 -e 256M -f 2 "$@"
