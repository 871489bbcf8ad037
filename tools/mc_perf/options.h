#ifndef MOONCOMM_TOOLS_MC_PERF_OPTIONS_H_
#define MOONCOMM_TOOLS_MC_PERF_OPTIONS_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "mooncomm/collectives.h"
#include "mooncomm/datatype.h"

namespace mc::perf {

struct Options {
  std::string mode = "p2p";    // --op: "p2p" or a collective's name
  CollectiveKind coll = CollectiveKind::kAllreduce;  // the collective when mode != "p2p"
  uint64_t min_bytes = 8;      // -b
  uint64_t max_bytes = 64ull << 20;  // -e
  uint64_t factor = 2;         // -f
  int iters = 1000;            // -n: timed iterations per repetition at small sizes
  int warmup = 50;             // -w
  int reps = 5;                // -r: repetitions per size; the table shows the median
  int window = 32;             // messages in flight in the bandwidth test
  int np = 0;                  // --np: spawn this many local ranks (0: started by a launcher)
  bool check = false;          // --check: verify received data
  // Collectives only.
  DataType dtype = DataType::kFloat32;  // -d / --dtype
  ReduceOp redop = ReduceOp::kSum;      // -o / --redop
  int root = 0;                         // --root (checked against the world size when run)
  std::string algo;                     // --algo: forced algorithm; "" lets the tuner choose
  bool inplace = false;                 // --inplace
};

// The collectives mc_perf measures, in the order the usage text lists them.
inline constexpr CollectiveKind kBenchCollectives[] = {
    CollectiveKind::kAllreduce, CollectiveKind::kAllgather, CollectiveKind::kReduceScatter,
    CollectiveKind::kBroadcast, CollectiveKind::kReduce,    CollectiveKind::kAlltoall,
    CollectiveKind::kGather,    CollectiveKind::kScatter,   CollectiveKind::kBarrier,
};

// "allreduce" -> kAllreduce for the collectives above; errors name the value
// and list the valid ones (`flag` starts the message).
absl::StatusOr<CollectiveKind> ParseBenchCollective(const std::string& flag, const std::string& name);
// The algorithms `coll` can be forced to (--algo), in the tuner's order.
std::string AlgorithmList(CollectiveKind coll);
// OK when `algo` serves `coll`, else an error naming both and the choices.
absl::Status CheckAlgorithm(CollectiveKind coll, const std::string& algo);

// Parses argv; errors name the flag and the bad value. `--help` yields
// Cancelled with the usage text as the message.
absl::StatusOr<Options> ParseOptions(int argc, char** argv);

}  // namespace mc::perf

#endif  // MOONCOMM_TOOLS_MC_PERF_OPTIONS_H_
