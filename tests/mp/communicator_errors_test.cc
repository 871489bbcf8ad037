// Bad input to Communicator::Create gets a clear error naming what was wrong,
// promptly: bad MC_* values, a missing transport, an unreachable bootstrap.
#include <stdlib.h>

#include <chrono>
#include <map>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "launcher/local_ranks.h"
#include "mooncomm/communicator.h"
#include "mooncomm/status.h"

namespace mc {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

// Sets environment variables for one test and restores them afterwards.
class ScopedEnv {
 public:
  using Vars = std::map<std::string, std::string>;
  explicit ScopedEnv(Vars vars) {
    for (const auto& [k, v] : vars) {
      const char* old = getenv(k.c_str());
      saved_[k] = old ? std::optional<std::string>(old) : std::nullopt;
      setenv(k.c_str(), v.c_str(), 1);
    }
  }
  ~ScopedEnv() {
    for (const auto& [k, v] : saved_) {
      if (v) setenv(k.c_str(), v->c_str(), 1);
      else unsetenv(k.c_str());
    }
  }

 private:
  std::map<std::string, std::optional<std::string>> saved_;
};

std::string CreateError() {
  absl::StatusOr<std::unique_ptr<Communicator>> comm = Communicator::Create();
  return comm.ok() ? "ok" : std::string(comm.status().message());
}

TEST(CommunicatorErrorsTest, BadTimeoutValueIsNamed) {
  ScopedEnv env(ScopedEnv::Vars{{"MC_TIMEOUT_MS", "soon"}});
  EXPECT_THAT(CreateError(), AllOf(HasSubstr("MC_TIMEOUT_MS"), HasSubstr("soon")));
}

TEST(CommunicatorErrorsTest, NonPositiveTimeoutIsRejected) {
  ScopedEnv env(ScopedEnv::Vars{{"MC_TIMEOUT_MS", "0"}});
  EXPECT_THAT(CreateError(), HasSubstr("MC_TIMEOUT_MS"));
}

TEST(CommunicatorErrorsTest, BadLogLevelListsTheChoices) {
  ScopedEnv env(ScopedEnv::Vars{{"MC_LOG_LEVEL", "loud"}});
  EXPECT_THAT(CreateError(), AllOf(HasSubstr("MC_LOG_LEVEL"), HasSubstr("loud"), HasSubstr("debug")));
}

TEST(CommunicatorErrorsTest, NamedTransportThatDoesNotExistIsAnErrorNotAFallback) {
  ScopedEnv env(ScopedEnv::Vars{{"MC_TRANSPORT", "warpdrive"}});
  EXPECT_THAT(CreateError(), AllOf(HasSubstr("warpdrive"), HasSubstr("not found")));
}

TEST(CommunicatorErrorsTest, BadRankIsNamed) {
  ScopedEnv env(ScopedEnv::Vars{{"MC_RANK", "5"}, {"MC_WORLD_SIZE", "2"}, {"MC_BOOTSTRAP", "127.0.0.1:1"}});
  EXPECT_THAT(CreateError(), HasSubstr("MC_RANK"));
}

TEST(CommunicatorErrorsTest, MissingBootstrapAddressIsNamed) {
  ScopedEnv env(ScopedEnv::Vars{{"MC_RANK", "1"}, {"MC_WORLD_SIZE", "2"}});
  unsetenv("MC_BOOTSTRAP");
  unsetenv("MASTER_ADDR");
  EXPECT_THAT(CreateError(), HasSubstr("MC_BOOTSTRAP"));
}

TEST(CommunicatorErrorsTest, UnreachableBootstrapTimesOutNamingTheAddress) {
  absl::StatusOr<int> port = PickFreePort();  // nothing listens there
  ASSERT_TRUE(port.ok());
  std::string address = "127.0.0.1:" + std::to_string(*port);
  ScopedEnv env(ScopedEnv::Vars{{"MC_RANK", "1"}, {"MC_WORLD_SIZE", "2"}, {"MC_BOOTSTRAP", address},
                 {"MC_BOOTSTRAP_TIMEOUT_MS", "700"}});
  auto start = std::chrono::steady_clock::now();
  std::string error = CreateError();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_THAT(error, HasSubstr(address));
  EXPECT_LT(seconds, 5.0);
}

TEST(CommunicatorErrorsTest, UnknownVariableDoesNotStopCreation) {
  ScopedEnv env(ScopedEnv::Vars{{"MC_TIMEOUT_MSS", "5"}});  // a typo: warned about, not fatal
  EXPECT_EQ(CreateError(), "ok");
}

TEST(CommunicatorErrorsTest, SingleRankWorldRejectsSelfSendAndBadPeers) {
  ScopedEnv env(ScopedEnv::Vars{{"MC_TRANSPORT", "auto"}});
  absl::StatusOr<std::unique_ptr<Communicator>> comm = Communicator::Create();
  ASSERT_TRUE(comm.ok()) << comm.status();
  EXPECT_EQ((*comm)->size(), 1);
  EXPECT_EQ((*comm)->transport_name(0), "self");
  char byte = 0;
  Request req;
  EXPECT_THAT(std::string((*comm)->Isend(0, 1, &byte, 1, &req).message()), HasSubstr("oneself"));
  EXPECT_THAT(std::string((*comm)->Irecv(3, 1, &byte, 1, &req).message()), HasSubstr("outside the communicator"));
  EXPECT_TRUE(absl::IsInvalidArgument((*comm)->Isend(-1, 1, &byte, 1, &req)));
}

}  // namespace
}  // namespace mc
