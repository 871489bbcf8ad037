// mc_tune end to end on two local ranks: the tuning file it writes is one
// the tuner accepts, and MC_TUNING_FILE changes the algorithm mc_perf runs.
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mc_perf/test_run_program.h"
#include "tuner/algorithm_catalog.h"
#include "tuner/size_text.h"
#include "tuner/tuner.h"
#include "tuner/tuning_file.h"

namespace mc::tune {
namespace {

using ::testing::HasSubstr;
using K = CollectiveKind;

// The variables that would steer the tuner are cleared for every run.
const std::map<std::string, std::string> kClean = {{"MC_TUNE", ""}, {"MC_TUNING_FILE", ""}};

class McTune : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = mc::testing::MakeTempDir("mc_tune_test");
    ASSERT_FALSE(dir_.empty());
  }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  mc::testing::ProgramResult Run(std::vector<std::string> args, std::map<std::string, std::string> env = kClean) {
    for (const auto& [k, v] : kClean) env.emplace(k, v);
    return mc::testing::RunProgram(args, env, 240, dir_);
  }

  // size -> algorithm column of an mc_perf run.
  std::map<uint64_t, std::string> PerfAlgorithms(const std::string& op, std::map<std::string, std::string> env) {
    mc::testing::ProgramResult r = Run({MC_PERF_BINARY, "--np", "2", "--op", op, "-b", "1K", "-e", "16K", "-f", "4",
                                        "-n", "3", "-w", "1", "-r", "1", "--check"},
                                       env);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    std::map<uint64_t, std::string> out;
    for (absl::string_view line : absl::StrSplit(r.out, '\n')) {
      if (line.empty() || line[0] == '#') continue;
      std::vector<std::string> f = absl::StrSplit(line, ' ', absl::SkipEmpty());
      if (f.size() != 10) continue;
      EXPECT_EQ(f[9], "0") << line;
      out[std::stoull(f[0])] = f[5];
    }
    return out;
  }

  std::string dir_;
};

TEST_F(McTune, WritesATuningFileTheTunerUsesAndMcPerfFollows) {
  const std::string file = dir_ + "/tuning.txt";
  mc::testing::ProgramResult r = Run({MC_TUNE_BINARY, "--np", "2", "-b", "1K", "-e", "16K", "-f", "4", "--ops",
                                      "allreduce,broadcast,barrier", "-n", "5", "-w", "1", "-r", "1", "-o", file,
                                      "--chart", "none", "--check"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  // Progress on stderr: op, size, algorithm, time.
  EXPECT_THAT(r.err, HasSubstr("allreduce"));
  EXPECT_THAT(r.err, ::testing::ContainsRegex("broadcast +16k +pipelined +[0-9.]+ us"));
  EXPECT_THAT(r.err, HasSubstr("wins"));

  absl::StatusOr<algo::TuningTable> table = algo::ReadTuningFile(file);
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_EQ(table->world_size, 2);
  EXPECT_FALSE(table->transport.empty());
  // Every size of each op is covered, from 0 to infinity, by the op's algorithms.
  for (K k : {K::kAllreduce, K::kBroadcast, K::kBarrier}) {
    uint64_t next = 0;
    for (const algo::TuneRule& rule : table->rules) {
      if (rule.coll != k) continue;
      EXPECT_EQ(rule.lo, next) << CollectiveName(k);
      next = rule.hi;
    }
    EXPECT_EQ(next, algo::kInfiniteSize) << CollectiveName(k);
  }
  // The CSV next to it, one line per measurement.
  std::string csv = mc::testing::ReadWholeFile(dir_ + "/tuning.csv");
  EXPECT_THAT(csv, HasSubstr("op,bytes,algorithm,time_us,busbw_gbps,winner"));
  EXPECT_THAT(csv, HasSubstr("allreduce,1024,dbtree,"));

  // The tuner takes the file for this transport and world size.
  algo::TopologyInfo topo;
  topo.world_size = 2;
  topo.transport = table->transport;
  topo.single_host = true;
  absl::StatusOr<algo::Tuner> tuner = algo::Tuner::CreateWith(topo, algo::ModelAlgorithms(), "", file);
  ASSERT_TRUE(tuner.ok()) << tuner.status();
  EXPECT_TRUE(tuner->notes().empty()) << tuner->notes()[0];
  for (const algo::TuneRule& rule : table->rules) {
    algo::AlgorithmChoice c = tuner->Choose(rule.coll, rule.lo);
    EXPECT_EQ(c.algorithm, rule.algorithm) << algo::FormatTuneRule(rule);
    EXPECT_EQ(c.source, "MC_TUNING_FILE");
  }

  // mc_perf under MC_TUNING_FILE runs what the file says at every size.
  std::map<uint64_t, std::string> tuned = PerfAlgorithms("allreduce", {{"MC_TUNING_FILE", file}});
  ASSERT_EQ(tuned.size(), 3u);
  for (const auto& [bytes, algorithm] : tuned) {
    EXPECT_EQ(algorithm, tuner->Choose(K::kAllreduce, bytes).algorithm) << bytes;
  }

  // A file that puts a non-default algorithm everywhere changes the column.
  std::map<uint64_t, std::string> plain = PerfAlgorithms("allreduce", {});
  ASSERT_EQ(plain.size(), 3u);
  std::string other;
  for (const algo::AlgorithmDesc& d : algo::ModelAlgorithms()) {
    if (d.coll == K::kAllreduce && d.name != plain.begin()->second) other = d.name;
  }
  ASSERT_FALSE(other.empty());
  algo::TuningTable forced = *table;
  forced.rules.clear();
  algo::TuneRule rule;
  rule.coll = K::kAllreduce;
  rule.algorithm = other;
  forced.rules.push_back(rule);
  const std::string forced_file = dir_ + "/forced.txt";
  ASSERT_TRUE(algo::WriteTuningFile(forced_file, forced).ok());
  std::map<uint64_t, std::string> changed = PerfAlgorithms("allreduce", {{"MC_TUNING_FILE", forced_file}});
  ASSERT_EQ(changed.size(), 3u);
  EXPECT_NE(changed.begin()->second, plain.begin()->second);
  for (const auto& [bytes, algorithm] : changed) EXPECT_EQ(algorithm, other) << bytes;

  // A file for another world size is ignored: the default comes back.
  forced.world_size = 3;
  ASSERT_TRUE(algo::WriteTuningFile(forced_file, forced).ok());
  EXPECT_EQ(PerfAlgorithms("allreduce", {{"MC_TUNING_FILE", forced_file}}), plain);
}

TEST_F(McTune, ChartOrASayingWhyNot) {
  const std::string file = dir_ + "/t.txt";
  // A python that does not exist: the tuning file is still written.
  mc::testing::ProgramResult r = Run({MC_TUNE_BINARY, "--np", "2", "-b", "1K", "-e", "1K", "--ops", "allgather", "-n",
                                      "3", "-w", "1", "-r", "1", "-o", file, "--python", "/nonexistent/python3"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr("no chart"));
  EXPECT_TRUE(algo::ReadTuningFile(file).ok());
}

TEST_F(McTune, BadOpsIsAnErrorNamingIt) {
  mc::testing::ProgramResult r = Run({MC_TUNE_BINARY, "--np", "2", "--ops", "allreduce,bogus"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("bogus"));
}

}  // namespace
}  // namespace mc::tune
