// Every algorithm, by collective and name; what the tuner chooses from.
#ifndef MOONCOMM_ALGORITHMS_ALGOS_REGISTRY_H_
#define MOONCOMM_ALGORITHMS_ALGOS_REGISTRY_H_

#include <string_view>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "algos/args.h"
#include "engine/attempt.h"

namespace mc::algo {

using AlgorithmFn = absl::Status (*)(Attempt& attempt, const CollArgs& args);

struct AlgorithmEntry {
  CollectiveKind kind;
  const char* name;
  AlgorithmFn run;
};

absl::Span<const AlgorithmEntry> AllAlgorithms();
// Null when `name` does not serve `kind`.
const AlgorithmEntry* FindAlgorithm(CollectiveKind kind, std::string_view name);

// The algorithms, one function per (collective, algorithm).
absl::Status AllreduceRing(Attempt& a, const CollArgs& args);
absl::Status AllreduceTree(Attempt& a, const CollArgs& args);
absl::Status AllreduceDoubleTree(Attempt& a, const CollArgs& args);
absl::Status AllreduceDirect(Attempt& a, const CollArgs& args);
absl::Status AllgathervRing(Attempt& a, const CollArgs& args);    // also allgather
absl::Status AllgathervDirect(Attempt& a, const CollArgs& args);  // also allgather
absl::Status ReduceScatterRing(Attempt& a, const CollArgs& args);
absl::Status ReduceScatterDirect(Attempt& a, const CollArgs& args);
absl::Status BroadcastTree(Attempt& a, const CollArgs& args);
absl::Status BroadcastPipelined(Attempt& a, const CollArgs& args);
absl::Status BroadcastDirect(Attempt& a, const CollArgs& args);
absl::Status ReduceTree(Attempt& a, const CollArgs& args);
absl::Status ReduceDirect(Attempt& a, const CollArgs& args);
absl::Status AlltoallvDirect(Attempt& a, const CollArgs& args);    // also alltoall
absl::Status AlltoallvPairwise(Attempt& a, const CollArgs& args);  // also alltoall
absl::Status GatherDirect(Attempt& a, const CollArgs& args);
absl::Status GatherTree(Attempt& a, const CollArgs& args);
absl::Status ScatterDirect(Attempt& a, const CollArgs& args);
absl::Status ScatterTree(Attempt& a, const CollArgs& args);
absl::Status BarrierDissemination(Attempt& a, const CollArgs& args);
absl::Status BarrierTree(Attempt& a, const CollArgs& args);

}  // namespace mc::algo

#endif  // MOONCOMM_ALGORITHMS_ALGOS_REGISTRY_H_
