#!/usr/bin/env bash
# What a tuning file buys: mc_tune measures every algorithm on this machine and
# writes the file, then mc_perf runs the same sweep without and with
# MC_TUNING_FILE, and both tables are printed, then side by side.
#
#   bench/tune_demo.sh [--build build] [--np 4] [--ops allreduce,broadcast] [-b 1K] [-e 16M] [-f 4]
#                      [--runs 3] [--out DIR]
# --runs: mc_perf runs of each kind, alternating default and tuned; the side by
#   side table takes each size's median over them (one launch of ranks varies
#   by 20-30% at small sizes from the next: where the ranks land on the cores).
# --out keeps tuning.txt/.csv/.png, mc_tune's log and the tables (default: a
#   fresh /tmp/tune_demo.XXXXXX). MC_TRANSPORT is passed through (default: shm).
set -euo pipefail

BUILD=build NP=4 OPS=allreduce,allgather,broadcast,alltoall B=1K E=16M F=4 RUNS=3 OUT=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) BUILD=$2; shift 2 ;;
    --np) NP=$2; shift 2 ;;
    --ops) OPS=$2; shift 2 ;;
    -b) B=$2; shift 2 ;;
    -e) E=$2; shift 2 ;;
    -f) F=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "tune_demo.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
export MC_TRANSPORT=${MC_TRANSPORT:-shm}
unset MC_TUNE MC_TUNING_FILE
[[ -x "$BUILD/bin/mc_tune" && -x "$BUILD/bin/mc_perf" ]] || {
  echo "tune_demo.sh: build mc_tune and mc_perf first (ninja -C $BUILD mc_tune mc_perf)" >&2; exit 2; }
[[ -n "$OUT" ]] || OUT=$(mktemp -d /tmp/tune_demo.XXXXXX)
mkdir -p "$OUT"
SWEEP=(-b "$B" -e "$E" -f "$F")

echo "== $(date '+%F %T'), $(hostname), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)," \
     "MC_TRANSPORT=$MC_TRANSPORT"
echo "== mc_tune --np $NP ${SWEEP[*]} --ops $OPS -o $OUT/tuning.txt"
"$BUILD/bin/mc_tune" --np "$NP" "${SWEEP[@]}" --ops "$OPS" -o "$OUT/tuning.txt" --chart "$OUT/tuning.png" \
  2> "$OUT/mc_tune.log" > /dev/null || { cat "$OUT/mc_tune.log" >&2; exit 1; }
grep -v '^mc_tune: \[' "$OUT/mc_tune.log" || true
echo
echo "== the tuning file"
cat "$OUT/tuning.txt"

for op in ${OPS//,/ }; do
  for run in $(seq 1 "$RUNS"); do
    "$BUILD/bin/mc_perf" --np "$NP" --op "$op" "${SWEEP[@]}" --check > "$OUT/$op.default.$run.txt"
    MC_TUNING_FILE="$OUT/tuning.txt" "$BUILD/bin/mc_perf" --np "$NP" --op "$op" "${SWEEP[@]}" --check \
      > "$OUT/$op.tuned.$run.txt"
  done
  echo
  echo "== $op: mc_perf --np $NP --op $op ${SWEEP[*]} --check without MC_TUNING_FILE (the cost model's choice), run 1"
  cat "$OUT/$op.default.1.txt"
  echo
  echo "== $op: the same with MC_TUNING_FILE=$OUT/tuning.txt, run 1"
  cat "$OUT/$op.tuned.1.txt"
  echo
  echo "== $op: side by side, median time over $RUNS runs of each (gain = default time / tuned time)"
  python3 - "$OUT" "$op" "$RUNS" <<'EOF'
import statistics, sys
out, op, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
def rows(kind):
    per = {}
    for r in range(1, runs + 1):
        for line in open(f"{out}/{op}.{kind}.{r}.txt"):
            p = line.split()
            if line.startswith("#") or len(p) != 10:
                continue
            if p[9] not in ("0", "N/A"):
                sys.exit(f"{op} {kind} run {r}: {p[9]} wrong elements at {p[0]}")
            per.setdefault(int(p[0]), []).append((p[5], float(p[6])))
    return {s: (v[0][0], statistics.median(t for _, t in v), {a for a, _ in v}) for s, v in per.items()}
d, t = rows("default"), rows("tuned")
print(f"{'size(B)':>12}  {'default':<13} {'time(us)':>10}  {'tuned':<13} {'time(us)':>10}  {'gain':>6}")
gains = []
for s in sorted(d):
    (da, dt, _), (ta, tt, _) = d[s], t[s]
    changed = da != ta
    if changed:
        gains.append(dt / tt)
    print(f"{s:>12}  {da:<13} {dt:>10.2f}  {ta:<13} {tt:>10.2f}  {dt / tt:>5.2f}x{'  <- changed' if changed else ''}")
if gains:
    prod = 1.0
    for g in gains:
        prod *= g
    print(f"sizes where the file changed the algorithm: {len(gains)}, geometric-mean gain there "
          f"{prod ** (1 / len(gains)):.2f}x (best {max(gains):.2f}x, worst {min(gains):.2f}x)")
else:
    print("the file changed no algorithm: the cost model's choice already won at every size")
EOF
done
echo
echo "== files in $OUT"
