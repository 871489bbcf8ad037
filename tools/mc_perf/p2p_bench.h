// Point-to-point benchmark between ranks 0 and 1: ping-pong latency and
// windowed unidirectional bandwidth over a size sweep.
#ifndef MOONCOMM_TOOLS_MC_PERF_P2P_BENCH_H_
#define MOONCOMM_TOOLS_MC_PERF_P2P_BENCH_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "mc_perf/options.h"
#include "mooncomm/communicator.h"

namespace mc::perf {

struct P2pRow {
  uint64_t bytes = 0;
  int lat_iters = 0;
  int bw_messages = 0;
  double lat_us = 0;    // one-way, median over repetitions
  double bw_gbps = 0;   // GB/s (1e9 bytes), median over repetitions
  int64_t wrong = -1;   // bytes that differed (-1: not checked)
};

// Ranks 0 and 1 measure; any other rank returns at once. Rank 0 gets the rows.
absl::StatusOr<std::vector<P2pRow>> RunP2p(Communicator& comm, const Options& options);

}  // namespace mc::perf

#endif  // MOONCOMM_TOOLS_MC_PERF_P2P_BENCH_H_
