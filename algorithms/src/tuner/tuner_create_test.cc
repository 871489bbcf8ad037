// Tuner::Create reads MC_TUNE and MC_TUNING_FILE from the environment.
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <optional>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tuner/tuner.h"
#include "tuner/tuning_file.h"

namespace mc::algo {
namespace {

using K = CollectiveKind;

// Sets a variable for one test and restores it after.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = getenv(name)) old_ = old;
    setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_) {
      setenv(name_, old_->c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TopologyInfo Tcp4() { return TopologyInfo{4, "tcp", 0, 0, false}; }

TEST(TunerCreateTest, ReadsMcTune) {
  ScopedEnv tune("MC_TUNE", "allreduce:0-inf:tree#barrier:tree");
  absl::StatusOr<Tuner> tuner = Tuner::Create(Tcp4(), ModelAlgorithms());
  ASSERT_TRUE(tuner.ok()) << tuner.status();
  AlgorithmChoice choice = tuner->Choose(K::kAllreduce, size_t{1} << 30);
  EXPECT_EQ(choice.algorithm, "tree");
  EXPECT_EQ(choice.source, "MC_TUNE");
  EXPECT_EQ(tuner->Choose(K::kBarrier, 0).algorithm, "tree");
}

TEST(TunerCreateTest, UnsetMeansTheModel) {
  unsetenv("MC_TUNE");
  unsetenv("MC_TUNING_FILE");
  absl::StatusOr<Tuner> tuner = Tuner::Create(Tcp4(), ModelAlgorithms());
  ASSERT_TRUE(tuner.ok()) << tuner.status();
  EXPECT_EQ(tuner->Choose(K::kAllreduce, size_t{1} << 30).source, "model");
}

TEST(TunerCreateTest, BadMcTuneIsAnErrorNamingIt) {
  ScopedEnv tune("MC_TUNE", "allreduce:0-64q:tree");
  absl::StatusOr<Tuner> tuner = Tuner::Create(Tcp4(), ModelAlgorithms());
  ASSERT_FALSE(tuner.ok());
  EXPECT_EQ(tuner.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(tuner.status().message(), "MC_TUNE: bad size '64q' in rule 1 (\"allreduce:0-64q:tree\")");

  ScopedEnv unknown("MC_TUNE", "broadcast:ring");
  EXPECT_THAT(std::string(Tuner::Create(Tcp4(), ModelAlgorithms()).status().message()),
              ::testing::StartsWith("MC_TUNE: unknown algorithm 'ring' for broadcast"));
}

TEST(TunerCreateTest, ReadsMcTuningFile) {
  ScopedEnv no_tune("MC_TUNE", "");
  std::string path = ::testing::TempDir() + "tuner_create_test_" + std::to_string(getpid()) + ".tune";
  TuningTable table;
  table.transport = "tcp";
  table.world_size = 4;
  table.rules = {{K::kAllreduce, 0, kInfiniteSize, "dbtree", 0, 0}};
  ASSERT_TRUE(WriteTuningFile(path, table).ok());
  {
    ScopedEnv file("MC_TUNING_FILE", path);
    absl::StatusOr<Tuner> tuner = Tuner::Create(Tcp4(), ModelAlgorithms());
    ASSERT_TRUE(tuner.ok()) << tuner.status();
    EXPECT_EQ(tuner->Choose(K::kAllreduce, 8).algorithm, "dbtree");
    EXPECT_EQ(tuner->Choose(K::kAllreduce, 8).source, "MC_TUNING_FILE");
    ScopedEnv tune("MC_TUNE", "allreduce:0-16:direct");
    tuner = Tuner::Create(Tcp4(), ModelAlgorithms());
    ASSERT_TRUE(tuner.ok()) << tuner.status();
    EXPECT_EQ(tuner->Choose(K::kAllreduce, 8).source, "MC_TUNE");
    EXPECT_EQ(tuner->Choose(K::kAllreduce, 16).source, "MC_TUNING_FILE");
  }
  std::remove(path.c_str());
  ScopedEnv missing("MC_TUNING_FILE", path);
  EXPECT_THAT(std::string(Tuner::Create(Tcp4(), ModelAlgorithms()).status().message()),
              ::testing::StartsWith("MC_TUNING_FILE: cannot open tuning file '" + path + "'"));
}

}  // namespace
}  // namespace mc::algo
