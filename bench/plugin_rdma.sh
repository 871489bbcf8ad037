#!/usr/bin/env bash
# In one run on one host: mc_perf p2p over the rdma plugin next to perftest
# on the same RDMA device for the same sizes -- ib_send_lat (one-way latency,
# the typical value) and ib_write_bw (bandwidth, the device's one-sided peak)
# -- and a Markdown table of both and their ratios in bench/results/plugin_rdma.md.
#
#   bench/plugin_rdma.sh [build dir]
#   env: MC_RDMA_BENCH_DEVICE=mlx5_0   the device (default: the first in /sys/class/infiniband)
#        PERFTEST_ARGS="-x 3"          extra perftest flags (RoCE: the GID index)
#        OUT=path                      where the table goes
#        MC_RDMA_BENCH_TRANSPORT=tcp   checks this script itself on a host without RDMA
#                                      (with stub perftest tools on PATH); not a measurement
#
# mc_perf reuses its buffers, so the plugin may keep their registrations
# (MC_RDMA_REG_CACHE=on); without ODP the default registers per message.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
OUT=${OUT:-bench/results/plugin_rdma.md}
REPS=5
mkdir -p "$(dirname "$OUT")"

no_table() {
  {
    echo "# rdma plugin vs perftest"
    echo
    echo "Not measured: $1"
    echo
    echo "On a host with an RDMA device and perftest, \`bench/plugin_rdma.sh <build dir>\` fills this in:"
    echo "mc_perf p2p over the rdma plugin next to ib_send_lat / ib_write_bw, 8 B to 32 MiB."
    echo
    echo "Host: $(uname -n), $(uptime)"
  } >"$OUT"
  echo "plugin_rdma.sh: $1 (wrote $OUT)" >&2
  exit 2
}

TRANSPORT=${MC_RDMA_BENCH_TRANSPORT:-rdma}
DEV=${MC_RDMA_BENCH_DEVICE:-$(ls /sys/class/infiniband 2>/dev/null | head -n1 || true)}
[ -n "$DEV" ] || no_table "this host has no RDMA device (/sys/class/infiniband is absent or empty)."
[ -x "$BUILD/bin/mc_perf" ] || no_table "$BUILD/bin/mc_perf is not built."
[ -f "$BUILD/lib/libmooncomm-rdma.so" ] || no_table "$BUILD/lib/libmooncomm-rdma.so is not built (libibverbs missing?)."
for tool in ib_send_lat ib_write_bw; do
  command -v "$tool" >/dev/null || no_table "perftest's $tool is not installed (apt-get install perftest)."
done

LOAD_BEFORE=$(uptime)
OURS=$(MC_TRANSPORT=$TRANSPORT MC_RDMA_DEVICES="$DEV" MC_RDMA_REG_CACHE=on \
  "$BUILD/bin/mc_perf" --np 2 -b 8 -e 64M -f 4 -r "$REPS")
echo "$OURS"

# One perftest run: server in the background, client against it; prints the client's output.
perftest() {
  local tool=$1 size=$2 iters=$3 port=$4
  shift 4
  "$tool" -d "$DEV" -s "$size" -n "$iters" -p "$port" ${PERFTEST_ARGS:-} "$@" >/dev/null 2>&1 &
  local server=$!
  local out=""
  for _ in $(seq 1 50); do
    sleep 0.1
    if out=$("$tool" -d "$DEV" -s "$size" -n "$iters" -p "$port" ${PERFTEST_ARGS:-} "$@" 127.0.0.1 2>/dev/null); then
      break
    fi
  done
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  echo "$out"
}

ROWS=""
PORT=18600
while read -r size _ lat _ bw _; do
  case "$size" in '' | \#*) continue ;; esac
  lat_iters=$((size <= 65536 ? 20000 : 2000))
  bw_iters=$((size <= 65536 ? 20000 : (size <= 8388608 ? 2000 : 200)))
  PORT=$((PORT + 2))
  # ib_send_lat: "#bytes #iterations t_min t_max t_typical t_avg ..."
  their_lat=$(perftest ib_send_lat "$size" "$lat_iters" "$PORT" | awk -v s="$size" '$1 == s { print $5; exit }')
  # ib_write_bw --report_gbits: "#bytes #iterations BW-peak BW-average MsgRate" (Gbit/s)
  their_gbit=$(perftest ib_write_bw "$size" "$bw_iters" $((PORT + 1)) --report_gbits |
    awk -v s="$size" '$1 == s { print $4; exit }')
  ROWS+="$size $lat ${their_lat:-nan} $bw ${their_gbit:-nan}"$'\n'
done < <(echo "$OURS" | grep -v '^#')

LOAD_AFTER=$(uptime)
{
  echo "# rdma plugin vs perftest on $DEV ($(uname -n))"
  echo
  [ "$TRANSPORT" = rdma ] || echo "**Not a measurement: a check of this script over $TRANSPORT with stub perftest tools.**"
  echo "mc_perf p2p (\`MC_TRANSPORT=$TRANSPORT MC_RDMA_REG_CACHE=on mc_perf --np 2 -b 8 -e 64M -f 4 -r $REPS\`, medians)"
  echo "against ib_send_lat (typical one-way latency) and ib_write_bw (average bandwidth), both ranks on this host."
  echo "Load before: $LOAD_BEFORE"
  echo "Load after:  $LOAD_AFTER"
  echo
  echo "| size (B) | our lat us | ib_send_lat us | lat ratio | our GB/s | ib_write_bw GB/s | bw ratio |"
  echo "|---:|---:|---:|---:|---:|---:|---:|"
  echo -n "$ROWS" | awk '{
    their_bw = ($5 == "nan") ? "nan" : $5 / 8;
    lat_ratio = ($3 == "nan" || $3 == 0) ? "n/a" : sprintf("%.2f", $2 / $3);
    bw_ratio = (their_bw == "nan" || their_bw == 0) ? "n/a" : sprintf("%.2f", $4 / their_bw);
    printf "| %s | %.2f | %s | %s | %.3f | %s | %s |\n", $1, $2, ($3 == "nan" ? "n/a" : $3), lat_ratio, $4,
           (their_bw == "nan" ? "n/a" : sprintf("%.3f", their_bw)), bw_ratio
  }'
} >"$OUT"
cat "$OUT"
