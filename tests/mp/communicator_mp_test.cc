// Multi-process Communicator tests: real processes (mp_worker), real
// sockets, real shared memory, over every built-in transport.
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "launcher/local_ranks.h"

namespace mc {
namespace {


std::vector<RankExit> RunWorker(const std::string& scenario, int ranks, std::map<std::string, std::string> env,
                                std::vector<std::string> extra_args = {}, bool kill_all_on_failure = true) {
  LocalLaunch launch;
  launch.argv = {MC_MP_WORKER, scenario};
  for (auto& a : extra_args) launch.argv.push_back(a);
  launch.num_ranks = ranks;
  launch.env = std::move(env);
  launch.timeout = absl::Seconds(120);
  launch.kill_all_on_failure = kill_all_on_failure;
  absl::StatusOr<std::vector<RankExit>> exits = RunLocalRanks(launch);
  EXPECT_TRUE(exits.ok()) << exits.status();
  return exits.ok() ? *exits : std::vector<RankExit>{};
}

void ExpectAllSucceeded(const std::vector<RankExit>& exits) {
  ASSERT_FALSE(exits.empty());
  for (const RankExit& e : exits) EXPECT_TRUE(e.exited && e.exit_code == 0) << Describe(e);
}

class CommunicatorMpTest : public ::testing::TestWithParam<std::string> {
 protected:
  std::map<std::string, std::string> Env(const std::string& timeout_ms = "10000") {
    return {{"MC_TRANSPORT", GetParam()}, {"MC_TIMEOUT_MS", timeout_ms}, {"MC_BOOTSTRAP_TIMEOUT_MS", "30000"}};
  }
};

TEST_P(CommunicatorMpTest, ConnectsFourRanksOverTheNamedTransport) {
  ExpectAllSucceeded(RunWorker("connect", 4, Env(), {GetParam()}));
}

TEST_P(CommunicatorMpTest, SendRecvAllSizesManyInFlightMixedTags) {
  ExpectAllSucceeded(RunWorker("sendrecv", 2, Env()));
}

TEST_P(CommunicatorMpTest, PutNotificationArrivesAfterItsData) {
  ExpectAllSucceeded(RunWorker("put", 2, Env()));
}

TEST_P(CommunicatorMpTest, SigkilledPeerIsReportedToBlockedAndIdleSurvivors) {
  std::vector<RankExit> exits = RunWorker("kill", 3, Env("3000"), {}, /*kill_all_on_failure=*/false);
  ASSERT_EQ(exits.size(), 3u);
  for (int r = 0; r < 2; ++r) EXPECT_TRUE(exits[r].exited && exits[r].exit_code == 0) << Describe(exits[r]);
  EXPECT_FALSE(exits[2].exited);
  EXPECT_EQ(exits[2].signal, SIGKILL);
}

TEST_P(CommunicatorMpTest, StoppedPeerIsDeclaredFailedAtTheDeadline) {
  std::vector<RankExit> exits = RunWorker("hang", 2, Env("1500"), {}, /*kill_all_on_failure=*/false);
  ASSERT_EQ(exits.size(), 2u);
  EXPECT_TRUE(exits[0].exited && exits[0].exit_code == 0) << Describe(exits[0]);
  EXPECT_EQ(exits[1].signal, SIGKILL) << Describe(exits[1]);  // rank 0 killed it after the check
}

INSTANTIATE_TEST_SUITE_P(Transports, CommunicatorMpTest, ::testing::Values("tcp", "shm"),
                         [](const auto& info) { return info.param; });

TEST(CommunicatorAutoTest, AutoPicksShmOnOneHost) {
  ExpectAllSucceeded(RunWorker("connect", 2, {{"MC_TRANSPORT", "auto"}}, {"shm"}));
}

TEST(CommunicatorAutoTest, AutoPicksTcpBetweenHosts) {
  // Two "hosts" on one machine: ranks with different MC_HOST_ID share no memory.
  LocalLaunch launch;
  // mp_worker reads MC_HOST_ID per rank; give each rank its own through a tiny shell.
  launch.argv = {"/bin/sh", "-c", std::string("MC_HOST_ID=host$MC_RANK exec ") + MC_MP_WORKER + " connect tcp"};
  launch.num_ranks = 3;
  launch.env = {{"MC_TRANSPORT", "auto"}};
  launch.timeout = absl::Seconds(60);
  absl::StatusOr<std::vector<RankExit>> exits = RunLocalRanks(launch);
  ASSERT_TRUE(exits.ok()) << exits.status();
  ExpectAllSucceeded(*exits);
}

}  // namespace
}  // namespace mc
