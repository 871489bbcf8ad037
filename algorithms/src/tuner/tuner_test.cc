// The Tuner: precedence of MC_TUNE, the tuning file and the model; checks of
// algorithm names; per-call options; DescribeMap.
#include "tuner/tuner.h"

#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tuner/tuning_file.h"

namespace mc::algo {
namespace {

using K = CollectiveKind;
using ::testing::HasSubstr;
using ::testing::StartsWith;

TopologyInfo Shm8() { return TopologyInfo{8, "shm", 0, 0, true}; }

class TunerTest : public ::testing::Test {
 protected:
  // Writes a tuning file for `transport` / `world_size` with `rules`.
  std::string TuningFile(const std::string& rules, const std::string& transport = "shm", int world_size = 8) {
    TuningTable table;
    table.transport = transport;
    table.world_size = world_size;
    table.rules = *ParseTuneString(rules);
    std::string path =
        ::testing::TempDir() + "tuner_test_" + std::to_string(getpid()) + "_" + std::to_string(files_.size()) + ".tune";
    EXPECT_TRUE(WriteTuningFile(path, table).ok());
    files_.push_back(path);
    return path;
  }
  void TearDown() override {
    for (const std::string& path : files_) std::remove(path.c_str());
  }
  static Tuner Make(std::string_view tune, std::string_view file, TopologyInfo topo = Shm8()) {
    absl::StatusOr<Tuner> tuner = Tuner::CreateWith(topo, ModelAlgorithms(), tune, file);
    EXPECT_TRUE(tuner.ok()) << tuner.status();
    return *std::move(tuner);
  }
  static std::string ErrorOf(std::string_view tune, std::string_view file,
                             std::vector<AlgorithmDesc> algorithms = ModelAlgorithms()) {
    absl::StatusOr<Tuner> tuner = Tuner::CreateWith(Shm8(), std::move(algorithms), tune, file);
    return tuner.ok() ? "ok" : std::string(tuner.status().message());
  }

  std::vector<std::string> files_;
};

TEST_F(TunerTest, McTuneOverridesFileOverridesModel) {
  std::string file = TuningFile("allreduce:0-inf:tree:chunk=8k#broadcast:0-inf:direct");
  Tuner tuner = Make("allreduce:0-64k:direct", file);
  AlgorithmChoice small = tuner.Choose(K::kAllreduce, 1024);
  EXPECT_EQ(small.algorithm, "direct");
  EXPECT_EQ(small.source, "MC_TUNE");
  AlgorithmChoice large = tuner.Choose(K::kAllreduce, 1 << 20);
  EXPECT_EQ(large.algorithm, "tree");
  EXPECT_EQ(large.source, "MC_TUNING_FILE");
  EXPECT_EQ(large.chunk_bytes, 8u << 10);
  EXPECT_EQ(tuner.Choose(K::kBroadcast, size_t{1} << 30).source, "MC_TUNING_FILE");
  AlgorithmChoice model = tuner.Choose(K::kAllgather, 1 << 20);
  EXPECT_EQ(model.source, "model");
  EXPECT_EQ(model.algorithm, Make("", "").Choose(K::kAllgather, 1 << 20).algorithm);
}

TEST_F(TunerTest, RangesAreHalfOpen) {
  Tuner tuner = Make("allreduce:1k-2k:tree", "");
  EXPECT_EQ(tuner.Choose(K::kAllreduce, 1023).source, "model");
  EXPECT_EQ(tuner.Choose(K::kAllreduce, 1024).source, "MC_TUNE");
  EXPECT_EQ(tuner.Choose(K::kAllreduce, 2047).source, "MC_TUNE");
  EXPECT_EQ(tuner.Choose(K::kAllreduce, 2048).source, "model");
  EXPECT_EQ(tuner.Choose(K::kReduce, 1500).source, "model");  // another collective
}

TEST_F(TunerTest, LaterRulesWin) {
  Tuner tuner = Make("allreduce:0-inf:ring#allreduce:1k-2k:tree#allreduce:1500-1600:direct", "");
  EXPECT_EQ(tuner.Choose(K::kAllreduce, 500).algorithm, "ring");
  EXPECT_EQ(tuner.Choose(K::kAllreduce, 1100).algorithm, "tree");
  EXPECT_EQ(tuner.Choose(K::kAllreduce, 1550).algorithm, "direct");
  EXPECT_EQ(tuner.Choose(K::kAllreduce, 1700).algorithm, "tree");
  EXPECT_EQ(tuner.Choose(K::kAllreduce, 4096).algorithm, "ring");

  std::string file = TuningFile("broadcast:0-inf:tree#broadcast:0-1m:direct");
  Tuner from_file = Make("", file);
  EXPECT_EQ(from_file.Choose(K::kBroadcast, 100).algorithm, "direct");
  EXPECT_EQ(from_file.Choose(K::kBroadcast, 2 << 20).algorithm, "tree");
}

TEST_F(TunerTest, RuleChunkAndChannelsOrTheModels) {
  Tuner tuner = Make("allreduce:0-inf:ring:chunk=1m:channels=3#broadcast:0-inf:pipelined", "");
  AlgorithmChoice ring = tuner.Choose(K::kAllreduce, 64 << 20);
  EXPECT_EQ(ring.chunk_bytes, 1u << 20);
  EXPECT_EQ(ring.channels, 3);
  AlgorithmChoice pipe = tuner.Choose(K::kBroadcast, 64 << 20);
  EXPECT_EQ(pipe.chunk_bytes, Make("", "").Choose(K::kBroadcast, 64 << 20).chunk_bytes);
  EXPECT_GT(pipe.chunk_bytes, 0u);
  EXPECT_EQ(pipe.channels, 1);
}

TEST_F(TunerTest, UnknownAlgorithmsAreErrorsListingTheValidOnes) {
  EXPECT_EQ(ErrorOf("allreduce:0-1k:tree#broadcast:ring", ""),
            "MC_TUNE: unknown algorithm 'ring' for broadcast in rule 2 (\"broadcast:0-inf:ring\"); valid: direct, "
            "tree, pipelined");
  // Valid means implemented by the engine, not merely known to the model.
  std::vector<AlgorithmDesc> engine = {{K::kAllreduce, "ring"}, {K::kAllreduce, "direct"}};
  EXPECT_EQ(ErrorOf("allreduce:tree", "", engine),
            "MC_TUNE: unknown algorithm 'tree' for allreduce in rule 1 (\"allreduce:0-inf:tree\"); valid: ring, "
            "direct");
  EXPECT_EQ(ErrorOf("gather:tree", "", engine),
            "MC_TUNE: unknown algorithm 'tree' for gather in rule 1 (\"gather:0-inf:tree\"); valid: none");
  std::string file = TuningFile("allreduce:0-inf:ring#reduce:64k-inf:pipelined");
  EXPECT_EQ(ErrorOf("", file), "MC_TUNING_FILE: " + file +
                                   ": unknown algorithm 'pipelined' for reduce in rule \"reduce:64k-inf:pipelined\"; "
                                   "valid: direct, tree");
}

TEST_F(TunerTest, SyntaxErrorsNameTheirSource) {
  EXPECT_EQ(ErrorOf("allreduce:0-64k:tree#allreduce:64q-inf:ring", ""),
            "MC_TUNE: bad size '64q' in rule 2 (\"allreduce:64q-inf:ring\")");
  std::string missing = ::testing::TempDir() + "tuner_test_missing.tune";
  absl::StatusOr<Tuner> tuner = Tuner::CreateWith(Shm8(), ModelAlgorithms(), "", missing);
  ASSERT_FALSE(tuner.ok());
  EXPECT_EQ(tuner.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(tuner.status().message(),
            "MC_TUNING_FILE: cannot open tuning file '" + missing + "': No such file or directory");
  std::string bad = TuningFile("");
  FILE* f = std::fopen(bad.c_str(), "a");
  std::fputs("rule allreduce:1-0:ring\n", f);
  std::fclose(f);
  EXPECT_EQ(ErrorOf("", bad),
            "MC_TUNING_FILE: " + bad + ":4: empty range '1-0' in rule \"allreduce:1-0:ring\"; LO must be below HI");
}

TEST_F(TunerTest, FileForAnotherTransportOrWorldSizeIsIgnoredWithANote) {
  std::string tcp_file = TuningFile("allreduce:0-inf:tree", "tcp", 8);
  Tuner tuner = Make("", tcp_file);
  EXPECT_EQ(tuner.Choose(K::kAllreduce, 1 << 30).source, "model");
  ASSERT_EQ(tuner.notes().size(), 1u);
  EXPECT_EQ(tuner.notes()[0], "MC_TUNING_FILE '" + tcp_file +
                                  "' ignored: written for transport tcp and world size 8, this communicator uses "
                                  "shm with 8 ranks");
  EXPECT_THAT(tuner.DescribeMap(), HasSubstr("\nnote: " + tuner.notes()[0] + "\n"));

  std::string size_file = TuningFile("allreduce:0-inf:tree", "shm", 16);
  EXPECT_EQ(Make("", size_file).Choose(K::kAllreduce, 1 << 30).source, "model");
  EXPECT_THAT(Make("", size_file).notes().at(0), HasSubstr("written for transport shm and world size 16"));

  // An ignored file's algorithms are not checked.
  std::string foreign = TuningFile("allreduce:0-inf:magic", "ucx", 8);
  EXPECT_EQ(Make("", foreign).notes().size(), 1u);

  // "*" matches anything.
  std::string any = TuningFile("allreduce:0-inf:tree", "", 0);
  Tuner wild = Make("", any);
  EXPECT_EQ(wild.Choose(K::kAllreduce, 1 << 30).source, "MC_TUNING_FILE");
  EXPECT_TRUE(wild.notes().empty());
}

TEST_F(TunerTest, BadTopologyOrCollectiveKindIsAnError) {
  TopologyInfo zero = Shm8();
  zero.world_size = 0;
  EXPECT_EQ(Tuner::CreateWith(zero, ModelAlgorithms(), "", "").status().message(),
            "tuner: world size must be at least 1, not 0");
  EXPECT_EQ(Tuner::CreateWith(Shm8(), {{static_cast<K>(40), "ring"}}, "", "").status().message(),
            "tuner: algorithm 'ring' for an unknown collective kind 40");
}

TEST_F(TunerTest, CollectivesWithoutAlgorithms) {
  absl::StatusOr<Tuner> tuner = Tuner::CreateWith(Shm8(), {{K::kAllreduce, "ring"}}, "", "");
  ASSERT_TRUE(tuner.ok());
  AlgorithmChoice none = tuner->Choose(K::kBroadcast, 100);
  EXPECT_EQ(none.algorithm, "");
  EXPECT_EQ(none.source, "none");
  EXPECT_EQ(tuner->Choose(K::kAllreduce, 100).algorithm, "ring");
  EXPECT_THAT(tuner->DescribeMap(), HasSubstr("\nbroadcast: no algorithms\n"));
}

TEST_F(TunerTest, AlgorithmsTheModelDoesNotKnow) {
  std::vector<AlgorithmDesc> engine = {
      {K::kAllreduce, "magic"}, {K::kAllreduce, "ring"}, {K::kBroadcast, "magic"}, {K::kAllreduce, "ring"}};
  absl::StatusOr<Tuner> tuner = Tuner::CreateWith(Shm8(), engine, "allreduce:0-1k:magic", "");
  ASSERT_TRUE(tuner.ok()) << tuner.status();
  EXPECT_THAT(tuner->algorithms(K::kAllreduce), ::testing::ElementsAre("magic", "ring"));  // duplicates dropped
  EXPECT_EQ(tuner->Choose(K::kAllreduce, 100).algorithm, "magic");                         // MC_TUNE may force it
  EXPECT_EQ(tuner->Choose(K::kAllreduce, 4096).algorithm, "ring");                         // the model never picks it
  EXPECT_EQ(tuner->Choose(K::kBroadcast, 4096).algorithm, "magic");                        // unless it is the only one
  EXPECT_EQ(tuner->Choose(K::kAllreduce, 100).chunk_bytes, 0u);
}

TEST_F(TunerTest, ResolveAppliesTheCallsOptions) {
  Tuner tuner = Make("allreduce:0-inf:tree", "");
  CollectiveOptions none;
  EXPECT_EQ(tuner.Resolve(K::kAllreduce, 1 << 20, none)->source, "MC_TUNE");

  CollectiveOptions forced;
  forced.algorithm = "ring";
  absl::StatusOr<AlgorithmChoice> ring = tuner.Resolve(K::kAllreduce, 1 << 20, forced);
  ASSERT_TRUE(ring.ok());
  EXPECT_EQ(ring->algorithm, "ring");
  EXPECT_EQ(ring->source, "forced");
  EXPECT_GT(ring->chunk_bytes, 0u);

  forced.chunk_bytes = 12345;
  forced.channels = 5;
  ring = tuner.Resolve(K::kAllreduce, 1 << 20, forced);
  EXPECT_EQ(ring->chunk_bytes, 12345u);
  EXPECT_EQ(ring->channels, 5);

  CollectiveOptions chunk_only;
  chunk_only.chunk_bytes = 4096;
  EXPECT_EQ(tuner.Resolve(K::kAllreduce, 1 << 20, chunk_only)->algorithm, "tree");
  EXPECT_EQ(tuner.Resolve(K::kAllreduce, 1 << 20, chunk_only)->chunk_bytes, 4096u);

  CollectiveOptions negative;
  negative.channels = -1;
  EXPECT_EQ(tuner.Resolve(K::kAllreduce, 1, negative).status().message(),
            "CollectiveOptions: channels must be 0 (the tuner's choice) or positive, not -1");

  forced.algorithm = "pipelined";
  EXPECT_EQ(tuner.Resolve(K::kAllreduce, 1 << 20, forced).status().message(),
            "CollectiveOptions: unknown algorithm 'pipelined' for allreduce in this call; valid: direct, ring, "
            "tree, dbtree");
}

TEST_F(TunerTest, DescribeMapHasOneLinePerCollectiveWithSources) {
  std::string file = TuningFile("broadcast:0-inf:tree");
  Tuner tuner = Make("allreduce:0-64k:tree#allreduce:100000-1m:direct", file);
  std::string map = tuner.DescribeMap();
  std::vector<std::string> lines = absl::StrSplit(map, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u + kNumCollectiveKinds) << map;
  EXPECT_THAT(lines[0], StartsWith("tuner: 8 ranks over shm; latency 1 us (shm default), bandwidth 80 Gbit/s"));
  EXPECT_EQ(lines[1], "tuning file: " + file + " (1 rules)");
  for (int i = 0; i < kNumCollectiveKinds; ++i) {
    EXPECT_THAT(lines[2 + i], StartsWith(std::string(CollectiveName(static_cast<K>(i))) + ": 0-")) << map;
  }
  const std::string& allreduce = lines[2];
  EXPECT_THAT(allreduce, StartsWith("allreduce: 0-64k tree (MC_TUNE), 64k-"));
  EXPECT_THAT(allreduce, HasSubstr("100000-1m direct (MC_TUNE), 1m-"));
  EXPECT_THAT(allreduce, HasSubstr("-inf ring (model)"));
  EXPECT_EQ(lines[2 + static_cast<int>(K::kBroadcast)], "broadcast: 0-inf tree (MC_TUNING_FILE)");
  EXPECT_EQ(lines[2 + static_cast<int>(K::kBarrier)], "barrier: 0-inf dissemination (model)");
}

TEST_F(TunerTest, DescribeMapFollowsTheModel) {
  Tuner tuner = Make("", "");
  std::string map = tuner.DescribeMap();
  // Every range boundary shown is where Choose() changes.
  std::vector<std::string> lines = absl::StrSplit(map, '\n', absl::SkipEmpty());
  std::string allreduce = lines[1];
  EXPECT_THAT(allreduce, StartsWith("allreduce: 0-"));
  EXPECT_THAT(allreduce, HasSubstr("ring (model)"));
  std::vector<std::string> ranges = absl::StrSplit(allreduce.substr(strlen("allreduce: ")), ", ");
  ASSERT_GE(ranges.size(), 2u);
  for (const std::string& range : ranges) {
    std::vector<std::string> parts = absl::StrSplit(range, ' ');
    ASSERT_EQ(parts.size(), 3u) << range;
    std::string lo = parts[0].substr(0, parts[0].find('-'));
    EXPECT_EQ(tuner.Choose(K::kAllreduce, *ParseSizeText(lo, false)).algorithm, parts[1]) << range;
  }
}

}  // namespace
}  // namespace mc::algo
