// The cost model: inputs and defaults, and decisions that any sane model makes.
#include "tuner/cost_model.h"

#include <cmath>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tuner/algorithm_catalog.h"
#include "tuner/model_inputs.h"
#include "tuner/tuner.h"

namespace mc::algo {
namespace {

using K = CollectiveKind;
using ::testing::AnyOf;

TopologyInfo Topo(int ranks, std::string transport, double latency_us = 0, double bandwidth_gbps = 0) {
  return TopologyInfo{ranks, std::move(transport), latency_us, bandwidth_gbps, /*single_host=*/false};
}

Tuner ModelTuner(const TopologyInfo& topo) {
  absl::StatusOr<Tuner> tuner = Tuner::CreateWith(topo, ModelAlgorithms(), "", "");
  EXPECT_TRUE(tuner.ok()) << tuner.status();
  return *std::move(tuner);
}

TEST(ModelInputsTest, DefaultsPerTransport) {
  auto shm = ResolveModelInputs(Topo(4, "shm"));
  ASSERT_TRUE(shm.ok());
  EXPECT_DOUBLE_EQ(shm->latency_us, 1.0);
  EXPECT_DOUBLE_EQ(shm->link_bytes_per_us, 10000.0);  // 80 Gbit/s
  EXPECT_EQ(shm->latency_source, "shm default");
  auto tcp = ResolveModelInputs(Topo(4, "tcp"));
  EXPECT_DOUBLE_EQ(tcp->latency_us, 20.0);
  EXPECT_DOUBLE_EQ(tcp->link_bytes_per_us, 1250.0);  // 10 Gbit/s
  auto ucx = ResolveModelInputs(Topo(4, "ucx"));
  EXPECT_DOUBLE_EQ(ucx->latency_us, 5.0);
  EXPECT_DOUBLE_EQ(ucx->stream_bytes_per_us, ucx->link_bytes_per_us);  // no copying core
  TopologyInfo unknown_local = Topo(4, "");
  unknown_local.single_host = true;
  EXPECT_DOUBLE_EQ(ResolveModelInputs(unknown_local)->latency_us, 1.0);
  EXPECT_DOUBLE_EQ(ResolveModelInputs(Topo(4, ""))->latency_us, 20.0);
}

TEST(ModelInputsTest, GivenValuesWin) {
  auto in = ResolveModelInputs(Topo(4, "tcp", 7.5, 400));
  ASSERT_TRUE(in.ok());
  EXPECT_DOUBLE_EQ(in->latency_us, 7.5);
  EXPECT_DOUBLE_EQ(in->link_bytes_per_us, 50000.0);
  EXPECT_DOUBLE_EQ(in->stream_bytes_per_us, kHostCopyBytesPerUs);  // tcp copies on a core
  EXPECT_EQ(in->latency_source, "given");
  EXPECT_EQ(in->bandwidth_source, "given");
}

TEST(ModelInputsTest, BadTopologyIsAnError) {
  EXPECT_EQ(ResolveModelInputs(Topo(0, "shm")).status().message(), "tuner: world size must be at least 1, not 0");
  EXPECT_FALSE(ResolveModelInputs(Topo(4, "shm", -1)).ok());
  EXPECT_FALSE(ResolveModelInputs(Topo(4, "shm", 1, std::nan(""))).ok());
  EXPECT_FALSE(ResolveModelInputs(Topo(4, "shm", INFINITY)).ok());
}

TEST(CostModelTest, EveryPairHasAFinitePositivePrediction) {
  for (const char* transport : {"shm", "tcp", "ucx"}) {
    for (int ranks : {1, 2, 3, 8, 64, 1000}) {
      Tuner tuner = ModelTuner(Topo(ranks, transport));
      for (const AlgorithmDesc& desc : ModelAlgorithms()) {
        for (uint64_t bytes : {uint64_t{0}, uint64_t{1}, uint64_t{4096}, uint64_t{1} << 20, uint64_t{1} << 30}) {
          double micros = tuner.PredictMicros(desc.coll, desc.name, bytes);
          EXPECT_TRUE(std::isfinite(micros) && micros > 0)
              << transport << " n=" << ranks << " " << CollectiveName(desc.coll) << "/" << desc.name << " " << bytes
              << ": " << micros;
        }
      }
    }
  }
}

TEST(CostModelTest, UnknownAlgorithmsAreInfinite) {
  Tuner tuner = ModelTuner(Topo(8, "shm"));
  EXPECT_TRUE(std::isinf(tuner.PredictMicros(K::kAllreduce, "pipelined", 1024)));
  EXPECT_TRUE(std::isinf(tuner.PredictMicros(K::kBroadcast, "ring", 1024)));
}

TEST(CostModelTest, MoreBytesNeverCostLessForFixedPlans) {
  ModelInputs in = *ResolveModelInputs(Topo(8, "tcp"));
  for (const AlgorithmDesc& desc : ModelAlgorithms()) {
    Plan plan{IsChunkedAlgorithm(desc.name) ? size_t{64} << 10 : 0, 1};
    double previous = 0;
    for (uint64_t bytes = 1; bytes <= (uint64_t{1} << 32); bytes *= 4) {
      double micros = PredictWithPlan(in, desc.coll, desc.name, bytes, plan);
      EXPECT_GE(micros, previous) << CollectiveName(desc.coll) << "/" << desc.name << " " << bytes;
      previous = micros;
    }
  }
}

TEST(CostModelTest, AllreduceSmallIsLatencyBoundLargeIsRing) {
  for (const char* transport : {"shm", "tcp", "ucx"}) {
    for (int ranks : {2, 4, 8, 16, 64, 256}) {
      Tuner tuner = ModelTuner(Topo(ranks, transport));
      EXPECT_THAT(tuner.Choose(K::kAllreduce, 8).algorithm, AnyOf("direct", "tree", "dbtree"))
          << transport << " n=" << ranks;
      // Ring and the double binary tree move the same bytes; the ring wins
      // up to tens of ranks, where its 2(n-1) steps are still cheap.
      std::string large = tuner.Choose(K::kAllreduce, size_t{1} << 30).algorithm;
      if (ranks <= 64) {
        EXPECT_EQ(large, "ring") << transport << " n=" << ranks;
      } else {
        EXPECT_THAT(large, AnyOf("ring", "dbtree")) << transport << " n=" << ranks;
      }
      EXPECT_EQ(tuner.Choose(K::kReduceScatter, size_t{1} << 30).algorithm, "ring") << transport << " n=" << ranks;
    }
  }
}

TEST(CostModelTest, AllreduceMediumSizesUseATreeOnManyRanks) {
  Tuner tuner = ModelTuner(Topo(64, "ucx"));
  EXPECT_THAT(tuner.Choose(K::kAllreduce, 64 << 10).algorithm, AnyOf("tree", "dbtree"));
}

TEST(CostModelTest, BroadcastLargeIsPipelined) {
  for (const char* transport : {"shm", "tcp", "ucx"}) {
    for (int ranks : {4, 8, 64}) {
      Tuner tuner = ModelTuner(Topo(ranks, transport));
      AlgorithmChoice large = tuner.Choose(K::kBroadcast, size_t{256} << 20);
      EXPECT_EQ(large.algorithm, "pipelined") << transport << " n=" << ranks;
      EXPECT_GE(large.chunk_bytes, kMinChunkBytes);
      EXPECT_LE(large.chunk_bytes, kMaxChunkBytes);
      EXPECT_THAT(tuner.Choose(K::kBroadcast, 8).algorithm, AnyOf("direct", "tree")) << transport << " n=" << ranks;
    }
  }
}

TEST(CostModelTest, OtherCollectivesPickSensibly) {
  Tuner tcp = ModelTuner(Topo(8, "tcp"));
  EXPECT_EQ(tcp.Choose(K::kAlltoall, 64).algorithm, "direct");
  EXPECT_EQ(tcp.Choose(K::kAlltoall, size_t{64} << 20).algorithm, "pairwise");
  EXPECT_EQ(tcp.Choose(K::kBarrier, 0).algorithm, "dissemination");
  EXPECT_EQ(tcp.Choose(K::kAllgather, size_t{1} << 30).algorithm, "ring");
  EXPECT_EQ(tcp.Choose(K::kSendRecv, size_t{1} << 30).algorithm, "direct");  // one stream fills 10 Gbit/s
  Tuner many = ModelTuner(Topo(256, "ucx"));
  EXPECT_EQ(many.Choose(K::kScatter, 256).algorithm, "tree");
  EXPECT_EQ(many.Choose(K::kGather, 256).algorithm, "tree");
}

TEST(CostModelTest, ChannelsOnlyWhereOneStreamCannotFillTheLink) {
  Tuner fast_tcp = ModelTuner(Topo(2, "tcp", 10, 400));  // 50 GB/s link, 10 GB/s per copying core
  AlgorithmChoice big = fast_tcp.Choose(K::kSendRecv, size_t{1} << 30);
  EXPECT_EQ(big.algorithm, "pipelined");
  EXPECT_GT(big.channels, 1);
  EXPECT_LE(big.channels, kMaxModelChannels);
  EXPECT_EQ(fast_tcp.Choose(K::kSendRecv, 64).algorithm, "direct");

  Tuner shm = ModelTuner(Topo(8, "shm"));
  for (uint64_t bytes = 1; bytes <= (uint64_t{1} << 32); bytes *= 8) {
    for (K coll : {K::kAllreduce, K::kBroadcast, K::kAllgather}) {
      EXPECT_EQ(shm.Choose(coll, bytes).channels, 1) << CollectiveName(coll) << " " << bytes;
    }
  }
}

TEST(CostModelTest, ChunksComeFromTheModelForChunkedAlgorithmsOnly) {
  ModelInputs in = *ResolveModelInputs(Topo(8, "shm"));
  Estimate ring = BestPlan(in, K::kAllreduce, "ring", size_t{64} << 20);
  EXPECT_GE(ring.plan.chunk_bytes, kMinChunkBytes);
  EXPECT_LE(ring.plan.chunk_bytes, kMaxChunkBytes);
  EXPECT_EQ(ring.plan.chunk_bytes & (ring.plan.chunk_bytes - 1), 0u);  // a power of two
  EXPECT_EQ(BestPlan(in, K::kAllreduce, "direct", size_t{64} << 20).plan.chunk_bytes, 0u);
  EXPECT_EQ(BestPlan(in, K::kBarrier, "tree", 0).plan.chunk_bytes, 0u);
  EXPECT_EQ(BestPlan(in, K::kAllreduce, "ring", 0).plan.chunk_bytes, 0u);
  // The best plan is no worse than any other plan.
  for (size_t chunk = kMinChunkBytes; chunk <= kMaxChunkBytes; chunk *= 2) {
    EXPECT_LE(ring.micros, PredictWithPlan(in, K::kAllreduce, "ring", size_t{64} << 20, {chunk, 1}) * (1 + 1e-9));
  }
  // A bigger pipeline has a chunk at least as big.
  Estimate small = BestPlan(in, K::kBroadcast, "pipelined", size_t{256} << 10);
  Estimate large = BestPlan(in, K::kBroadcast, "pipelined", size_t{1} << 30);
  EXPECT_LE(small.plan.chunk_bytes, large.plan.chunk_bytes);
}

TEST(CostModelTest, OneRankIsALocalCopy) {
  Tuner tuner = ModelTuner(Topo(1, "shm"));
  EXPECT_DOUBLE_EQ(tuner.PredictMicros(K::kAllreduce, "ring", 1 << 20),
                   tuner.PredictMicros(K::kAllreduce, "direct", 1 << 20));
  EXPECT_EQ(tuner.Choose(K::kAllreduce, 1 << 20).algorithm, "direct");  // the first listed wins the tie
}

}  // namespace
}  // namespace mc::algo
