// The collective benchmark, in the manner of nccl-tests: one row per size
// with the algorithm that ran, the time, algbw and busbw, and the number of
// wrong elements. Also what mc_tune times each algorithm with.
#ifndef MOONCOMM_TOOLS_MC_PERF_COLL_BENCH_H_
#define MOONCOMM_TOOLS_MC_PERF_COLL_BENCH_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "mc_perf/options.h"
#include "mooncomm/collectives.h"
#include "mooncomm/communicator.h"

namespace mc::perf {

struct CollRow {
  uint64_t bytes = 0;     // the size as nccl-tests prints it (allgather etc.: all blocks)
  uint64_t count = 0;     // elements in `bytes`
  std::string algorithm;  // the one that ran (rank 0's CollectiveResult)
  int iters = 0;          // timed calls per repetition
  double time_us = 0;     // median over repetitions of the slowest rank's mean per call
  double algbw_gbps = 0;  // bytes / time, GB/s (1e9 B/s)
  double busbw_gbps = 0;  // algbw * BusBwFactor
  int64_t wrong = -1;     // wrong elements summed over the ranks (-1: not checked)
};

// nccl-tests' bus-bandwidth factors: allreduce 2(n-1)/n; allgather,
// reduce_scatter, alltoall, gather, scatter (n-1)/n; broadcast, reduce 1;
// barrier 0.
double BusBwFactor(CollectiveKind coll, int ranks);
// The factor as the header spells it: "2(n-1)/n", "(n-1)/n", "1", "-".
const char* BusBwFactorText(CollectiveKind coll);

// The sizes of the sweep -b .. -e by -f (barrier: one row of size 0).
std::vector<uint64_t> SweepSizes(const Options& o);

// Runs one collective at one size with the options' dtype, redop, root,
// in-place form and check. Every rank calls it with the same arguments;
// rank 0's row holds the result (the others' hold their own time only).
// `algorithm`: forced through CollectiveOptions; "" lets the tuner choose.
class CollBench {
 public:
  CollBench(Communicator& comm, Collectives& coll) : comm_(comm), coll_(coll) {}
  absl::StatusOr<CollRow> Run(const Options& o, uint64_t bytes, const std::string& algorithm);

 private:
  absl::StatusOr<CollectiveResult> Call(const Options& o, size_t count, const std::string& algorithm);
  // Rank 0 gets every rank's values (the others get their own).
  absl::StatusOr<std::vector<std::vector<double>>> GatherToRoot(const std::vector<double>& mine);

  Communicator& comm_;
  Collectives& coll_;
  struct FreeDeleter {
    void operator()(char* p) const;
  };
  // 64-byte aligned, grown on demand, never shrunk.
  struct Buffer {
    std::unique_ptr<char, FreeDeleter> data;
    size_t capacity = 0;
    char* Reserve(size_t bytes);
  };
  Buffer send_, recv_;
};

// The sweep of `o`: rows for rank 0, in order.
absl::StatusOr<std::vector<CollRow>> RunCollectiveSweep(Communicator& comm, Collectives& coll, const Options& o);

// The table's header and rows, nccl-tests style.
void PrintCollHeader(const Communicator& comm, const Options& o);
void PrintCollRow(const Options& o, const CollRow& row);

}  // namespace mc::perf

#endif  // MOONCOMM_TOOLS_MC_PERF_COLL_BENCH_H_
