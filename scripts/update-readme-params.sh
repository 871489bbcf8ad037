#!/usr/bin/env bash
# Regenerates the MC_* table in README.md from `mc_info --markdown` (every
# variable of the core and of every plugin found in the build).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD_DIR="${1:-$ROOT/build}"
table="$("$BUILD_DIR/bin/mc_info" --markdown)"
python3 - "$ROOT/README.md" "$table" <<'PY'
import re, sys
path, table = sys.argv[1], sys.argv[2]
text = open(path).read()
begin, end = "<!-- MC_PARAMS_BEGIN -->", "<!-- MC_PARAMS_END -->"
if begin not in text:
    text = text.replace("MC_TABLE_PLACEHOLDER", f"{begin}\n{end}")
text = re.sub(re.escape(begin) + ".*?" + re.escape(end), f"{begin}\n{table}\n{end}", text, flags=re.S)
open(path, "w").write(text)
PY
echo "README.md: MC_* table updated from $BUILD_DIR/bin/mc_info"
