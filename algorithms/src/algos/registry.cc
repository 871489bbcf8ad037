#include "algos/registry.h"


namespace mc::algo {
namespace {

using K = CollectiveKind;
constexpr AlgorithmEntry kAlgorithms[] = {
    {K::kAllreduce, "ring", AllreduceRing},
    {K::kAllreduce, "tree", AllreduceTree},
    {K::kAllreduce, "dbtree", AllreduceDoubleTree},
    {K::kAllreduce, "direct", AllreduceDirect},
    {K::kAllgather, "ring", AllgathervRing},
    {K::kAllgather, "direct", AllgathervDirect},
    {K::kAllgatherv, "ring", AllgathervRing},
    {K::kAllgatherv, "direct", AllgathervDirect},
    {K::kReduceScatter, "ring", ReduceScatterRing},
    {K::kReduceScatter, "direct", ReduceScatterDirect},
    {K::kBroadcast, "tree", BroadcastTree},
    {K::kBroadcast, "pipelined", BroadcastPipelined},
    {K::kBroadcast, "direct", BroadcastDirect},
    {K::kReduce, "tree", ReduceTree},
    {K::kReduce, "direct", ReduceDirect},
    {K::kAlltoall, "direct", AlltoallvDirect},
    {K::kAlltoall, "pairwise", AlltoallvPairwise},
    {K::kAlltoallv, "direct", AlltoallvDirect},
    {K::kAlltoallv, "pairwise", AlltoallvPairwise},
    {K::kGather, "direct", GatherDirect},
    {K::kGather, "tree", GatherTree},
    {K::kScatter, "direct", ScatterDirect},
    {K::kScatter, "tree", ScatterTree},
    {K::kBarrier, "dissemination", BarrierDissemination},
    {K::kBarrier, "tree", BarrierTree},
};

}  // namespace

absl::Span<const AlgorithmEntry> AllAlgorithms() { return kAlgorithms; }

const AlgorithmEntry* FindAlgorithm(CollectiveKind kind, std::string_view name) {
  for (const AlgorithmEntry& e : kAlgorithms) {
    if (e.kind == kind && name == e.name) return &e;
  }
  return nullptr;
}

}  // namespace mc::algo
