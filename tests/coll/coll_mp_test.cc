// Multi-process collective tests: real processes (coll_worker), real sockets
// and shared memory, over tcp and shm.
#include <signal.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "launcher/local_ranks.h"

namespace mc {
namespace {

std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TMPDIR");
  return absl::StrCat(dir ? dir : "/tmp", "/mc_coll_", getpid(), "_", name);
}

std::vector<RankExit> RunWorker(std::vector<std::string> args, int ranks, const std::string& transport,
                          bool kill_all_on_failure = true, int timeout_ms = 10000, absl::Duration limit = absl::Minutes(8)) {
  LocalLaunch launch;
  launch.argv = {MC_COLL_WORKER};
  for (auto& a : args) launch.argv.push_back(a);
  launch.num_ranks = ranks;
  launch.env = {{"MC_TRANSPORT", transport},
                {"MC_TIMEOUT_MS", std::to_string(timeout_ms)},
                {"MC_BOOTSTRAP_TIMEOUT_MS", "60000"}};
  launch.timeout = limit;
  launch.kill_all_on_failure = kill_all_on_failure;
  auto exits = RunLocalRanks(launch);
  EXPECT_TRUE(exits.ok()) << exits.status();
  return exits.ok() ? *exits : std::vector<RankExit>{};
}

std::vector<std::string> Lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Results every rank must hold bit for bit the same.
bool SameEverywhere(const std::string& case_name) {
  for (const char* p : {"allreduce/", "allgather/", "allgatherv/", "broadcast/"}) {
    if (absl::StartsWith(case_name, p)) return true;
  }
  return false;
}

class CollMatrixTest : public ::testing::TestWithParam<std::tuple<std::string, int>> {};

TEST_P(CollMatrixTest, EveryCollectiveAlgorithmTypeAndOpMatchesTheSerialReference) {
  const auto& [transport, n] = GetParam();
  const std::string out = TempPath(absl::StrCat("matrix_", transport, "_", n));
  // The worker cannot expand $MC_RANK: run it through a shell.
  LocalLaunch launch;
  std::string cmd = absl::StrCat("exec ", MC_COLL_WORKER, " matrix ", out, ".$MC_RANK",
                                 " allreduce reduce_scatter reduce broadcast allgather allgatherv alltoall alltoallv"
                                 " gather scatter barrier");
  launch.argv = {"/bin/sh", "-c", cmd};
  launch.num_ranks = n;
  launch.env = {{"MC_TRANSPORT", transport}, {"MC_TIMEOUT_MS", "30000"}, {"MC_BOOTSTRAP_TIMEOUT_MS", "60000"}};
  launch.timeout = absl::Minutes(12);
  auto exits = RunLocalRanks(launch);
  ASSERT_TRUE(exits.ok()) << exits.status();
  for (const RankExit& e : *exits) EXPECT_TRUE(e.exited && e.exit_code == 0) << Describe(e);
  // Bitwise the same results on every rank.
  std::vector<std::vector<std::string>> lines(n);
  for (int r = 0; r < n; ++r) lines[r] = Lines(absl::StrCat(out, ".", r));
  ASSERT_FALSE(lines[0].empty());
  for (int r = 1; r < n; ++r) {
    ASSERT_EQ(lines[r].size(), lines[0].size()) << "rank " << r;
    for (size_t i = 0; i < lines[0].size(); ++i) {
      if (SameEverywhere(lines[0][i])) {
        EXPECT_EQ(lines[r][i], lines[0][i]) << "rank " << r << " differs from rank 0";
      }
    }
  }
  for (int r = 0; r < n; ++r) std::remove(absl::StrCat(out, ".", r).c_str());
}

// Under the sanitizers (several times slower) the sizes that cover every
// code path: 1, an even and an odd ring, and the oversubscribed 8.
#ifdef MC_TEST_SANITIZED
INSTANTIATE_TEST_SUITE_P(WorldSizes, CollMatrixTest,
                         ::testing::Values(std::make_tuple("shm", 1), std::make_tuple("shm", 2),
                                           std::make_tuple("shm", 3), std::make_tuple("tcp", 3),
                                           std::make_tuple("shm", 8)),
#else
INSTANTIATE_TEST_SUITE_P(WorldSizes, CollMatrixTest,
                         ::testing::Values(std::make_tuple("shm", 1), std::make_tuple("shm", 2),
                                           std::make_tuple("shm", 3), std::make_tuple("shm", 4),
                                           std::make_tuple("shm", 5), std::make_tuple("shm", 8),
                                           std::make_tuple("tcp", 3), std::make_tuple("tcp", 4)),
#endif
                         [](const auto& info) {
                           return absl::StrCat(std::get<0>(info.param), "_", std::get<1>(info.param), "ranks");
                         });

TEST(CollRoundingTest, FloatSumsStayWithinTheRoundingBound) {
  for (int n : {3, 5}) {
    auto exits = RunWorker({"rounding"}, n, "shm");
    for (const RankExit& e : exits) EXPECT_TRUE(e.exited && e.exit_code == 0) << Describe(e);
  }
}

TEST(CollErrorsTest, BadInputGetsAClearErrorOnEveryRank) {
  for (const char* transport : {"shm", "tcp"}) {
    auto exits = RunWorker({"errors"}, 3, transport);
    for (const RankExit& e : exits) EXPECT_TRUE(e.exited && e.exit_code == 0) << transport << ": " << Describe(e);
  }
}

// SIGKILL at a random moment, for every algorithm, on tcp and shm.
class CollKillTest : public ::testing::TestWithParam<std::tuple<std::string, std::string, std::string>> {};

TEST_P(CollKillTest, SurvivorsAgreeAndFinishOverTheSurvivors) {
  const auto& [transport, coll, algo] = GetParam();
  const int n = 4, timeout_ms = 3000;
  const int seed = static_cast<int>(std::hash<std::string>()(transport + coll + algo) % 100000);
  const int victim = seed % n;  // rank 0 (the store's host) included
  const std::string out = TempPath(absl::StrCat("kill_", transport, "_", coll, "_", algo));
  LocalLaunch launch;
  launch.argv = {"/bin/sh", "-c",
                 absl::StrCat("exec ", MC_COLL_WORKER, " kill ", coll, " ", algo, " ", victim, " ", seed, " ", out,
                              ".$MC_RANK")};
  launch.num_ranks = n;
  launch.env = {{"MC_TRANSPORT", transport},
                {"MC_TIMEOUT_MS", std::to_string(timeout_ms)},
                {"MC_BOOTSTRAP_TIMEOUT_MS", "60000"},
                {"MC_LOG_LEVEL", "error"}};
  launch.timeout = absl::Minutes(3);
  launch.kill_all_on_failure = false;
  auto exits = RunLocalRanks(launch);
  ASSERT_TRUE(exits.ok()) << exits.status();
  SCOPED_TRACE(absl::StrCat("victim ", victim, " seed ", seed));
  std::vector<int> survivors;
  for (const RankExit& e : *exits) {
    if (e.rank == victim) {
      EXPECT_EQ(e.signal, SIGKILL) << Describe(e);
    } else {
      EXPECT_TRUE(e.exited && e.exit_code == 0) << Describe(e);
      survivors.push_back(e.rank);
    }
  }
  ASSERT_EQ(survivors.size(), 3u);
  std::vector<std::vector<std::string>> logs;
  for (int r : survivors) logs.push_back(Lines(absl::StrCat(out, ".", r)));
  ASSERT_FALSE(logs[0].empty());
  for (size_t k = 1; k < logs.size(); ++k) ASSERT_EQ(logs[k].size(), logs[0].size());
  bool lost_victim = false;
  for (size_t i = 0; i + 1 < logs[0].size(); ++i) {
    // "<iteration> <active ranks> <hash>": the same active ranks everywhere,
    // and the same result where every rank holds the same result.
    std::istringstream first(logs[0][i]);
    std::string it, alive, hash;
    first >> it >> alive >> hash;
    lost_victim = lost_victim || alive.find(std::to_string(victim)) == std::string::npos;
    for (size_t k = 1; k < logs.size(); ++k) {
      std::istringstream other(logs[k][i]);
      std::string it2, alive2, hash2;
      other >> it2 >> alive2 >> hash2;
      EXPECT_EQ(alive2, alive) << "iteration " << it << ", rank " << survivors[k];
      if (coll == "allreduce" || coll == "allgather" || coll == "broadcast") {
        EXPECT_EQ(hash2, hash) << "iteration " << it << ", rank " << survivors[k];
      }
    }
  }
  EXPECT_TRUE(lost_victim) << "the victim was never reported failed";
  // No collective waited past the deadline (plus scheduling slack on a busy machine).
  for (const auto& log : logs) {
    double worst = 0;
    std::sscanf(log.back().c_str(), "worst_ms %lf", &worst);
    EXPECT_LT(worst, timeout_ms + 1500) << log.back();
  }
  for (int r = 0; r < n; ++r) std::remove(absl::StrCat(out, ".", r).c_str());
}

std::vector<std::tuple<std::string, std::string, std::string>> KillCases() {
  const std::vector<std::pair<std::string, std::string>> algos = {
      {"allreduce", "ring"},       {"allreduce", "tree"},       {"allreduce", "dbtree"},
      {"allreduce", "direct"},     {"allgather", "ring"},       {"allgather", "direct"},
      {"reduce_scatter", "ring"},  {"reduce_scatter", "direct"}, {"broadcast", "tree"},
      {"broadcast", "pipelined"},  {"broadcast", "direct"},     {"reduce", "tree"},
      {"reduce", "direct"},        {"alltoall", "direct"},      {"alltoall", "pairwise"},
      {"gather", "direct"},        {"gather", "tree"},          {"scatter", "direct"},
      {"scatter", "tree"},         {"barrier", "dissemination"}, {"barrier", "tree"},
  };
  std::vector<std::tuple<std::string, std::string, std::string>> cases;
  for (const char* t : {"shm", "tcp"}) {
    for (auto& [c, a] : algos) cases.emplace_back(t, c, a);
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(EveryAlgorithm, CollKillTest, ::testing::ValuesIn(KillCases()), [](const auto& info) {
  return absl::StrCat(std::get<0>(info.param), "_", std::get<1>(info.param), "_", std::get<2>(info.param));
});

}  // namespace
}  // namespace mc
