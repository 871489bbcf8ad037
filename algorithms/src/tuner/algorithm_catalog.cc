// The algorithms the cost model covers (see cost_model.cc for each formula).
#include "tuner/algorithm_catalog.h"

namespace mc::algo {

const std::vector<AlgorithmDesc>& ModelAlgorithms() {
  using K = CollectiveKind;
  static const auto* kAll = new std::vector<AlgorithmDesc>{
      {K::kAllreduce, "direct"},    {K::kAllreduce, "ring"},    {K::kAllreduce, "tree"},
      {K::kAllreduce, "dbtree"},    {K::kAllgather, "direct"},  {K::kAllgather, "ring"},
      {K::kAllgatherv, "direct"},   {K::kAllgatherv, "ring"},   {K::kReduceScatter, "direct"},
      {K::kReduceScatter, "ring"},  {K::kBroadcast, "direct"},  {K::kBroadcast, "tree"},
      {K::kBroadcast, "pipelined"}, {K::kReduce, "direct"},     {K::kReduce, "tree"},
      {K::kAlltoall, "direct"},     {K::kAlltoall, "pairwise"}, {K::kAlltoallv, "direct"},
      {K::kAlltoallv, "pairwise"},  {K::kGather, "direct"},     {K::kGather, "tree"},
      {K::kScatter, "direct"},      {K::kScatter, "tree"},      {K::kBarrier, "dissemination"},
      {K::kBarrier, "tree"},        {K::kSendRecv, "direct"},   {K::kSendRecv, "pipelined"},
  };
  return *kAll;
}

bool IsChunkedAlgorithm(std::string_view name) {
  return name == "ring" || name == "tree" || name == "dbtree" || name == "pipelined";
}

}  // namespace mc::algo
