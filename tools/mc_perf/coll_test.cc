// Runs mc_perf's collectives on real local ranks (--np) with --check: every
// collective, in place and out of place, a few types and reductions, and a
// forced algorithm. Checks the table: zero wrong elements, the algorithm
// column, the sizes.
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mc_perf/options.h"
#include "mc_perf/test_run_program.h"

namespace mc::perf {
namespace {

using ::testing::HasSubstr;

struct Row {
  uint64_t bytes = 0, count = 0;
  std::string type, redop, algorithm, wrong;
  int root = 0;
};

class McPerfColl : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = mc::testing::MakeTempDir("mc_perf_coll_test");
    ASSERT_FALSE(dir_.empty());
  }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  // mc_perf's rows; fails the test unless it exited 0.
  std::vector<Row> Run(std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
    args.insert(args.begin(), MC_PERF_BINARY);
    env.emplace("MC_TUNE", "");
    env.emplace("MC_TUNING_FILE", "");
    mc::testing::ProgramResult r = mc::testing::RunProgram(args, env, 120, dir_);
    std::string joined;
    for (const std::string& a : args) joined += a + " ";
    EXPECT_EQ(r.exit_code, 0) << joined << "\nstdout:\n" << r.out << "\nstderr:\n" << r.err;
    last_out_ = r.out;
    std::vector<Row> rows;
    for (absl::string_view line : absl::StrSplit(r.out, '\n')) {
      if (line.empty() || line[0] == '#') continue;
      std::vector<std::string> f = absl::StrSplit(line, ' ', absl::SkipEmpty());
      if (f.size() != 10) {
        ADD_FAILURE() << "odd row: " << line;
        continue;
      }
      Row row;
      EXPECT_TRUE(absl::SimpleAtoi(f[0], &row.bytes));
      EXPECT_TRUE(absl::SimpleAtoi(f[1], &row.count));
      row.type = f[2];
      row.redop = f[3];
      EXPECT_TRUE(absl::SimpleAtoi(f[4], &row.root));
      row.algorithm = f[5];
      row.wrong = f[9];
      rows.push_back(row);
    }
    return rows;
  }

  std::string dir_;
  std::string last_out_;
};

std::vector<std::string> Small(std::vector<std::string> more) {
  std::vector<std::string> args = {"-b", "1K", "-e", "64K", "-f", "8", "-n", "4", "-w", "1", "-r", "1", "--check"};
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

TEST_F(McPerfColl, EveryCollectiveIsRightOnThreeRanks) {
  for (CollectiveKind k : kBenchCollectives) {
    for (bool inplace : {false, true}) {
      std::vector<std::string> args = Small({"--np", "3", "--op", CollectiveName(k), "--root", "1"});
      if (inplace) args.push_back("--inplace");
      std::vector<Row> rows = Run(args);
      const size_t want_rows = k == CollectiveKind::kBarrier ? 1 : 2;  // 1K, 8K, (64K)
      ASSERT_GE(rows.size(), want_rows) << CollectiveName(k) << "\n" << last_out_;
      for (const Row& row : rows) {
        EXPECT_FALSE(row.algorithm.empty());
        EXPECT_TRUE(CheckAlgorithm(k, row.algorithm).ok()) << row.algorithm;
        if (k == CollectiveKind::kBarrier) continue;
        EXPECT_EQ(row.wrong, "0") << CollectiveName(k) << (inplace ? " in place" : "") << " at " << row.bytes;
        EXPECT_EQ(row.count * 4, row.bytes);
        EXPECT_EQ(row.type, "f32");
      }
    }
  }
}

TEST_F(McPerfColl, SizesAreTheWholeBuffer) {
  // allgather with 3 ranks: 1K rounds down to 3 blocks of 85 f32.
  std::vector<Row> rows = Run(Small({"--np", "3", "--op", "allgather", "-e", "1K"}));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].bytes, 3u * 85 * 4);
  EXPECT_EQ(rows[0].count, 3u * 85);
  EXPECT_EQ(rows[0].redop, "none");
  EXPECT_EQ(rows[0].root, -1);
  EXPECT_THAT(last_out_, HasSubstr("(n-1)/n"));
  rows = Run(Small({"--np", "2", "--op", "allreduce", "-e", "1K"}));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].bytes, 1024u);
  EXPECT_EQ(rows[0].redop, "sum");
  EXPECT_THAT(last_out_, HasSubstr("2(n-1)/n"));
}

TEST_F(McPerfColl, TypesAndReductions) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"f16", "sum"}, {"bf16", "prod"}, {"i8", "avg"}, {"u8", "max"}, {"bool", "min"},
      {"f64", "avg"}, {"i64", "prod"}, {"i32", "min"}, {"bf16", "avg"}, {"bool", "sum"}};
  for (const auto& [type, op] : cases) {
    for (const char* coll : {"allreduce", "reduce_scatter", "reduce"}) {
      std::vector<Row> rows = Run(Small({"--np", "3", "--op", coll, "-d", type, "-o", op}));
      ASSERT_FALSE(rows.empty());
      for (const Row& row : rows) {
        EXPECT_EQ(row.wrong, "0") << coll << " " << type << " " << op << " at " << row.bytes;
        EXPECT_EQ(row.type, type);
        EXPECT_EQ(row.redop, op);
      }
    }
  }
}

TEST_F(McPerfColl, ForcedAlgorithmRuns) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"allreduce", "ring"}, {"allreduce", "tree"},    {"allreduce", "dbtree"}, {"allreduce", "direct"},
      {"broadcast", "pipelined"}, {"alltoall", "pairwise"}, {"gather", "tree"}, {"barrier", "tree"}};
  for (const auto& [coll, algo] : cases) {
    std::vector<Row> rows = Run(Small({"--np", "4", "--op", coll, "--algo", algo}));
    ASSERT_FALSE(rows.empty());
    for (const Row& row : rows) {
      EXPECT_EQ(row.algorithm, algo) << coll;
      if (coll != "barrier") {
        EXPECT_EQ(row.wrong, "0") << coll << " " << algo;
      }
    }
    EXPECT_THAT(last_out_, HasSubstr("algorithm forced: " + algo));
  }
}

TEST_F(McPerfColl, WithoutCheckWrongIsNA) {
  std::vector<Row> rows = Run({"--np", "2", "--op", "broadcast", "-b", "4K", "-e", "4K", "-n", "3", "-r", "1"});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].wrong, "N/A");
}

TEST_F(McPerfColl, P2pModeStillWorks) {
  mc::testing::ProgramResult r = mc::testing::RunProgram(
      {MC_PERF_BINARY, "--np", "2", "-b", "8", "-e", "1K", "-f", "32", "-n", "10", "-w", "1", "-r", "1", "--check"},
      {}, 120, dir_);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("mc_perf p2p"));
}

TEST_F(McPerfColl, BadRootForTheWorldIsAnError) {
  // --root is checked against the world size when it is not known at parse time.
  mc::testing::ProgramResult r = mc::testing::RunProgram(
      {MC_PERF_BINARY, "--np", "2", "--op", "broadcast", "--root", "1", "-b", "1K", "-e", "1K", "-n", "2", "-r", "1"},
      {}, 60, dir_);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = mc::testing::RunProgram({MC_PERF_BINARY, "--np", "2", "--op", "broadcast", "--root", "2"}, {}, 60, dir_);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--root 2"));
}

}  // namespace
}  // namespace mc::perf
