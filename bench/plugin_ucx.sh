#!/usr/bin/env bash
# Runs, in one go on this machine, mc_perf p2p over the ucx plugin and UCX's
# own ucx_perftest (tag_lat, tag_bw) with the same UCX_TLS for the same sizes,
# and writes a Markdown table per UCX_TLS setting to bench/results/plugin_ucx.md.
#
#   bench/plugin_ucx.sh [--build build] [--tls "tcp posix,cma,sysv"] [-b 8] [-e 64M] [-f 4] [-r 5]
#                       [--ucx-reps 3] [--out bench/results/plugin_ucx.md]
#
# Latency is one-way (half a ping-pong round trip) on both sides: mc_perf's
# mean over its iterations (median of -r repetitions), ucx_perftest's median
# (of --ucx-reps runs). Up to 32 KiB the table also gives the plugin's latency
# through the raw ABI, without the core's Communicator (ucx_abi_pingpong, mean
# of 20000 round trips), to show what the plugin costs and what the core adds. Bandwidth is unidirectional GB/s (1e9 B/s): mc_perf's
# window of 32 messages with an ack per window, ucx_perftest's tag_bw. The
# plugin uses UCP error handling "peer" over tcp and "none" over shared memory
# (MC_UCX_ERROR_MODE=auto), so ucx_perftest runs with -e (error handling) for
# the settings where the plugin uses peer mode.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
build="$repo/build"
tls_list="tcp posix,cma,sysv"
lo=8 hi=64M factor=4 reps=5 ucx_reps=3
out="$repo/bench/results/plugin_ucx.md"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) build="$(cd "$2" && pwd)"; shift 2 ;;
    --tls) tls_list="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    -b) lo="$2"; shift 2 ;;
    -e) hi="$2"; shift 2 ;;
    -f) factor="$2"; shift 2 ;;
    -r) reps="$2"; shift 2 ;;
    --ucx-reps) ucx_reps="$2"; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

for tool in ucx_perftest ucx_info python3; do
  command -v "$tool" > /dev/null || { echo "$tool not found (ucx-utils, python3)" >&2; exit 1; }
done
[[ -x "$build/bin/mc_perf" && -x "$build/bin/ucx_abi_pingpong" && -e "$build/lib/libmooncomm-ucx.so" ]] ||
  { echo "build mc_perf, ucx_abi_pingpong and mooncomm-ucx in $build first" >&2; exit 1; }
export UCX_WARN_UNUSED_ENV_VARS=n

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
load_before="$(uptime)"
machine="$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')"

to_bytes() {
  local v="${1,,}"
  case "$v" in
    *k) echo $(( ${v%k} << 10 )) ;;
    *m) echo $(( ${v%m} << 20 )) ;;
    *g) echo $(( ${v%g} << 30 )) ;;
    *) echo "$v" ;;
  esac
}
lo_b="$(to_bytes "$lo")" hi_b="$(to_bytes "$hi")"

# The error handling mode the plugin picks for this UCX_TLS (MC_UCX_ERROR_MODE=auto).
shm_only() {
  local t
  IFS=',' read -ra parts <<< "$1"
  for t in "${parts[@]}"; do
    case "$t" in posix|sysv|cma|knem|xpmem|self|sm|shm|mm) ;; *) return 1 ;; esac
  done
  return 0
}

# One ucx_perftest server/client pair; prints the client's "Final:" line.
perftest_once() {
  local tls="$1" test="$2" size="$3" iters="$4" err_flag="$5"
  local port=$((20000 + RANDOM % 20000))
  local args=(-t "$test" -s "$size" -n "$iters" -p "$port")
  [[ -n "$err_flag" ]] && args+=("$err_flag")
  UCX_TLS="$tls" timeout 300 ucx_perftest "${args[@]}" > /dev/null 2>&1 &
  local server=$!
  local line=""
  for _ in $(seq 1 50); do
    sleep 0.1
    line="$(UCX_TLS="$tls" timeout 300 ucx_perftest 127.0.0.1 "${args[@]}" 2> /dev/null | grep '^Final:' || true)"
    [[ -n "$line" ]] && break
  done
  kill "$server" 2> /dev/null || true
  wait "$server" 2> /dev/null || true
  [[ -n "$line" ]] || { echo "ucx_perftest UCX_TLS=$tls $test size $size gave no result" >&2; exit 1; }
  echo "$line"
}

index=0
for tls in $tls_list; do
  index=$((index + 1))
  err_flag="-e"
  shm_only "$tls" && err_flag=""
  echo "== UCX_TLS=$tls: mc_perf over ucx" >&2
  MC_TRANSPORT=ucx UCX_TLS="$tls" timeout 600 "$build/bin/mc_perf" --np 2 -b "$lo" -e "$hi" -f "$factor" -r "$reps" \
    > "$work/mc_$index.txt"
  echo "== UCX_TLS=$tls: the plugin alone (raw ABI)" >&2
  raw_hi=$(( hi_b < 32768 ? hi_b : 32768 ))
  UCX_TLS="$tls" timeout 600 "$build/bin/ucx_abi_pingpong" "$build/lib/libmooncomm-ucx.so" -b "$lo_b" -e "$raw_hi" \
    -f "$factor" -n 20000 > "$work/raw_$index.txt"
  echo "== UCX_TLS=$tls: ucx_perftest tag_lat / tag_bw ${err_flag:+(with $err_flag)}" >&2
  : > "$work/ucx_$index.txt"
  for ((size = lo_b; size <= hi_b; size *= factor)); do
    lat_iters=$(( (1 << 30) / size )); (( lat_iters > 20000 )) && lat_iters=20000; (( lat_iters < 10 )) && lat_iters=10
    bw_iters=$(( (4 << 30) / size )); (( bw_iters > 20000 )) && bw_iters=20000; (( bw_iters < 10 )) && bw_iters=10
    for ((rep = 0; rep < ucx_reps; ++rep)); do
      line="$(perftest_once "$tls" tag_lat "$size" "$lat_iters" "$err_flag")" || exit 1
      echo "$size lat $line" >> "$work/ucx_$index.txt"
      line="$(perftest_once "$tls" tag_bw "$size" "$bw_iters" "$err_flag")" || exit 1
      echo "$size bw $line" >> "$work/ucx_$index.txt"
    done
  done
  echo "$tls|$err_flag" > "$work/setting_$index.txt"
done
load_after="$(uptime)"

mkdir -p "$(dirname "$out")"
python3 - "$work" "$index" "$load_before" "$load_after" "$(ucx_info -v | head -1)" "$lo $hi $factor $reps $ucx_reps" \
  "$machine" > "$out" << 'EOF'
import statistics
import sys

work, count, load_before, load_after, ucx_version, params, machine = sys.argv[1:8]
lo, hi, factor, reps, ucx_reps = params.split()
print("# ucx plugin: mc_perf p2p against ucx_perftest\n")
print(f"Made by `bench/plugin_ucx.sh -b {lo} -e {hi} -f {factor} -r {reps} --ucx-reps {ucx_reps}`, "
      f"UCX {ucx_version.lstrip('# ').strip()}.\n")
print(f"Machine: {machine}  ")
print(f"Load before: `{load_before.strip()}`  ")
print(f"Load after: `{load_after.strip()}`\n")
print("Latency: one-way us (mc_perf: mean of its iterations, median of repetitions; ucx_perftest tag_lat: "
      "median). Bandwidth: unidirectional GB/s (mc_perf: window of 32 + ack; ucx_perftest tag_bw). "
      "lat ratio = ours / theirs (lower is better), bw ratio = ours / theirs (higher is better). "
      "plugin alone: the same plugin through the raw ABI, without the core (ucx_abi_pingpong).\n")
for i in range(1, int(count) + 1):
    tls, err_flag = open(f"{work}/setting_{i}.txt").read().strip().split("|")
    ours = {}
    for line in open(f"{work}/mc_{i}.txt"):
        parts = line.split()
        if line.startswith("#") or len(parts) < 6:
            continue
        ours[int(parts[0])] = (float(parts[2]), float(parts[4]))
    raw = {}
    for line in open(f"{work}/raw_{i}.txt"):
        parts = line.split()
        if not line.startswith("#") and len(parts) == 2:
            raw[int(parts[0])] = float(parts[1])
    lat, bw = {}, {}
    for line in open(f"{work}/ucx_{i}.txt"):
        parts = line.split()
        size, kind, final = int(parts[0]), parts[1], parts[2:]
        # Final: iters lat50 lat_avg lat_overall bw_avg(MB/s) bw_overall(MB/s) rate_avg rate_overall
        if kind == "lat":
            lat.setdefault(size, []).append(float(final[2]))
        else:
            bw.setdefault(size, []).append(float(final[6]) * (1 << 20) / 1e9)
    mode = "peer, ucx_perftest -e" if err_flag else "none"
    print(f"## UCX_TLS={tls} (UCP error handling {mode})\n")
    print("| size (B) | our lat us | ucx lat us | lat ratio | our bw GB/s | ucx bw GB/s | bw ratio "
          "| plugin alone lat us |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for size in sorted(ours):
        our_lat, our_bw = ours[size]
        their_lat = statistics.median(lat[size])
        their_bw = statistics.median(bw[size])
        lat_ratio = our_lat / their_lat if their_lat > 0 else float("nan")
        bw_ratio = our_bw / their_bw if their_bw > 0 else float("nan")
        alone = f"{raw[size]:.2f}" if size in raw else "-"
        print(f"| {size} | {our_lat:.2f} | {their_lat:.2f} | {lat_ratio:.2f} | {our_bw:.3f} | {their_bw:.3f} "
              f"| {bw_ratio:.2f} | {alone} |")
    print()
EOF
cat "$out"
