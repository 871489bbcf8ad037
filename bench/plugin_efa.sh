#!/usr/bin/env bash
# Runs, in one go on this machine, mc_perf p2p over the efa plugin and
# libfabric's own fi_pingpong (FI_EP_RDM, tagged messages) on the same
# provider for the same sizes, for every provider given (default: tcp and
# shm), and writes one Markdown table per provider to bench/results/plugin_efa.md.
#
#   bench/plugin_efa.sh [--build build] [--providers "tcp shm"] [-b 8] [-e 64M] [-f 4] [-r 5]
#                       [--min-seconds 0.5] [--out bench/results/plugin_efa.md]
#
# The plugin's provider is MC_EFA_PROVIDER (FI_PROVIDER is set to the same
# name so that libfabric starts no other provider); fi_pingpong gets -p.
#
# Latency is one-way (half a ping-pong round trip) on both sides: mc_perf's
# mean over its iterations after a warm-up, fi_pingpong's usec/xfer. fi_pingpong
# has no warm-up: its clock starts before the first message, which on an RDM
# endpoint also sets up the connection (rxm connects on first send, shm maps
# its peer). So each fi_pingpong run gets at least --min-seconds of round trips
# (iterations = max(mc_perf's, min-seconds / (2 x mc_perf's latency))), which
# makes that one-time cost a small part of it. fi_pingpong measures no
# streaming bandwidth: its MB/sec is size / one-way latency, so the table
# compares that ping-pong bandwidth on both sides and lists mc_perf's windowed
# streaming bandwidth in an extra column. Medians of -r repetitions on both
# sides. Up to 32 KiB the table also gives the plugin's latency through the raw
# ABI, without the core's Communicator (ucx_abi_pingpong, which drives any
# plugin; built with the ucx plugin; mean of 20000 round trips after a
# warm-up), to tell what the plugin costs from what the core adds. Exits
# non-zero if any size of any provider has no fi_pingpong result.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
build="$repo/build"
providers="tcp shm"
lo=8 hi=64M factor=4 reps=5 min_seconds=0.5
out="$repo/bench/results/plugin_efa.md"
command_line="bench/plugin_efa.sh $*"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) build="$(cd "$2" && pwd)"; shift 2 ;;
    --providers) providers="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --min-seconds) min_seconds="$2"; shift 2 ;;
    -b) lo="$2"; shift 2 ;;
    -e) hi="$2"; shift 2 ;;
    -f) factor="$2"; shift 2 ;;
    -r) reps="$2"; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

for tool in fi_pingpong fi_info python3; do
  command -v "$tool" > /dev/null || { echo "$tool not found (libfabric-bin, python3)" >&2; exit 1; }
done
[[ -x "$build/bin/mc_perf" && -e "$build/lib/libmooncomm-efa.so" ]] ||
  { echo "build mc_perf and mooncomm-efa in $build first" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
load_before="$(uptime)"
machine="$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')"

# One fi_pingpong run (server and client on this host); prints the client's
# result line ("bytes #sent #ack total time MB/sec usec/xfer Mxfers/sec"), or
# nothing after three failed tries (a busy port, a server that did not start).
pingpong_once() {
  local provider="$1" size="$2" iters="$3"
  local args=(-p "$provider" -e rdm -m tagged -S "$size" -I "$iters")
  for _ in 1 2 3; do
    local port=$((40000 + RANDOM % 20000)) line=""
    timeout 300 fi_pingpong "${args[@]}" -B "$port" > /dev/null 2>&1 &
    local server=$!
    for _ in $(seq 1 30); do
      sleep 0.1
      line="$(timeout 300 fi_pingpong "${args[@]}" -P "$port" 127.0.0.1 2> /dev/null | tail -n 1)" || line=""
      [[ "$line" =~ ^[0-9] ]] && break
      line=""
      kill -0 "$server" 2> /dev/null || break
    done
    [[ -n "$line" ]] || kill "$server" 2> /dev/null || true
    wait "$server" 2> /dev/null || true
    if [[ -n "$line" ]]; then
      echo "$line"
      return 0
    fi
  done
  echo "fi_pingpong -p $provider -S $size gave no result" >&2
}

for provider in $providers; do
  echo "== $provider: mc_perf over efa (MC_EFA_PROVIDER=$provider)" >&2
  MC_TRANSPORT=efa MC_EFA_PROVIDER="$provider" FI_PROVIDER="$provider" \
    "$build/bin/mc_perf" --np 2 -b "$lo" -e "$hi" -f "$factor" -r "$reps" > "$work/mc_perf_$provider.txt"
  cat "$work/mc_perf_$provider.txt" >&2
  : > "$work/raw_$provider.txt"
  if [[ -x "$build/bin/ucx_abi_pingpong" ]]; then
    echo "== $provider: the plugin alone (raw ABI)" >&2
    grep -v '^#' "$work/mc_perf_$provider.txt" | awk 'NF >= 6 && $1 <= 32768 {print $1}' > "$work/raw_sizes.txt"
    if [[ -s "$work/raw_sizes.txt" ]]; then
      MC_EFA_PROVIDER="$provider" FI_PROVIDER="$provider" timeout 600 "$build/bin/ucx_abi_pingpong" \
        "$build/lib/libmooncomm-efa.so" -b "$(head -n1 "$work/raw_sizes.txt")" -e "$(tail -n1 "$work/raw_sizes.txt")" \
        -f "$factor" -n 20000 > "$work/raw_$provider.txt" || echo "ucx_abi_pingpong over efa failed" >&2
      cat "$work/raw_$provider.txt" >&2
    fi
  fi
  echo "== $provider: fi_pingpong" >&2
  # mc_perf's table: size lat-iter lat bw-msgs bw wrong.
  grep -v '^#' "$work/mc_perf_$provider.txt" | awk -v s="$min_seconds" \
    'NF >= 6 {n = int(s * 1e6 / (2 * $3)); if (n < $2) n = $2; print $1, n}' |
    while read -r size iters; do
      for _ in $(seq 1 "$reps"); do
        result="$(pingpong_once "$provider" "$size" "$iters")"
        if [[ -n "$result" ]]; then echo "$size $iters $result"; fi
      done
    done > "$work/pingpong_$provider.txt"
  cat "$work/pingpong_$provider.txt" >&2
done
load_after="$(uptime)"

python3 - "$work" "$out" "$providers" "$load_before" "$load_after" "$reps" "$machine" "$command_line" \
  "$min_seconds" << 'EOF'
import os, statistics, subprocess, sys

work, out, providers, load_before, load_after, reps, machine, command, min_seconds = sys.argv[1:10]
fi_version = subprocess.run(["fi_info", "--version"], capture_output=True, text=True).stdout.split()
lines = ["# efa plugin (libfabric FI_EP_RDM) against fi_pingpong", "",
         f"Made by `{command.strip()}` in one run; libfabric {' '.join(fi_version[1:2])}; medians of {reps} "
         "repetitions.", "",
         f"- machine: {machine}", f"- load before: `{load_before.strip()}`", f"- load after: `{load_after.strip()}`",
         "- lat: one-way latency (half a round trip), us. pp bw: size / one-way latency, MB/s (what fi_pingpong",
         "  reports as MB/sec). lat ours/theirs < 1 is better for us, bw ours/theirs > 1 is better for us.",
         f"- fi_pingpong iterations per run: max(mc_perf's, {min_seconds} s of round trips at mc_perf's latency)"
         " (column fi iters), because its clock also runs over the connection setup.",
         "- mc_perf stream bw: mc_perf's windowed unidirectional bandwidth (fi_pingpong has none).",
         "- plugin alone: one-way latency, us, of the same plugin through the raw ABI without the core",
         "  (ucx_abi_pingpong over libmooncomm-efa.so, mean of 20000 round trips), up to 32 KiB.", ""]
missing = []
summary = []
for provider in providers.split():
    ours = {}
    for row in open(os.path.join(work, f"mc_perf_{provider}.txt")):
        p = row.split()
        if row.startswith("#") or len(p) < 6:
            continue
        ours[int(p[0])] = (float(p[2]), float(p[4]))  # lat us, streaming GB/s
    raw = {}
    for row in open(os.path.join(work, f"raw_{provider}.txt")):
        p = row.split()
        if not row.startswith("#") and len(p) >= 2:
            raw[int(p[0])] = float(p[1])
    theirs, iters = {}, {}
    for row in open(os.path.join(work, f"pingpong_{provider}.txt")):
        p = row.split()  # size iters, then fi_pingpong's 8 columns
        if len(p) >= 10:
            theirs.setdefault(int(p[0]), []).append(float(p[8]))  # usec/xfer
            iters[int(p[0])] = int(p[1])
    lines += [f"## MC_EFA_PROVIDER={provider} (fi_pingpong -p {provider})", "",
              "| size (B) | our lat | their lat | lat ours/theirs | our pp bw | their pp bw | bw ours/theirs "
              "| mc_perf stream bw (MB/s) | fi iters | plugin alone lat |", "|---:" * 10 + "|"]
    small, large = None, []
    for size in sorted(ours):
        lat, stream = ours[size]
        alone = f"{raw[size]:.2f}" if size in raw else "-"
        if size not in theirs:
            missing.append(f"{provider} {size}")
            lines.append(f"| {size} | {lat:.2f} | n/a | n/a | {size / lat:.1f} | n/a | n/a | {stream * 1000:.1f} | - | {alone} |")
            continue
        their_lat = statistics.median(theirs[size])
        # fi_pingpong's MB/sec is this same quotient, printed with two decimals only.
        their_bw, our_bw = size / their_lat, size / lat
        ratio = lat / their_lat
        if size == 8:
            small = ratio
        if size >= 65536:
            large.append((size, ratio))
        lines.append(f"| {size} | {lat:.2f} | {their_lat:.2f} | {ratio:.2f} | {our_bw:.1f} "
                     f"| {their_bw:.1f} | {our_bw / their_bw:.2f} | {stream * 1000:.1f} | {iters[size]} | {alone} |")
    lines.append("")
    if small is not None:
        summary.append(f"- {provider}: 8 B latency {small:.2f}x fi_pingpong (target <= 1.5x): "
                       f"{'met' if small <= 1.5 else 'NOT met'}.")
    if large:
        worst = max(large, key=lambda t: t[1])
        over = [f"{s} B ({r:.2f}x)" for s, r in large if r > 1.10]
        summary.append(f"- {provider}: >= 64 KiB latency {min(r for _, r in large):.2f}x to {worst[1]:.2f}x "
                       f"fi_pingpong (target <= 1.10x): " +
                       ("met at every size." if not over else "NOT met at " + ", ".join(over) + "."))
lines += ["## Targets (computed by the script from the tables above)", ""] + summary + [""]
if missing:
    lines += ["fi_pingpong gave no result for: " + ", ".join(missing), ""]
text = "\n".join(lines)
print(text)
os.makedirs(os.path.dirname(out), exist_ok=True)
with open(out, "w") as f:
    f.write(text)
sys.exit(1 if missing else 0)
EOF
