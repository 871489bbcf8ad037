// Without RDMA hardware (this machine): init says "no RDMA device found",
// and through the real core MC_TRANSPORT=rdma fails with that reason while
// MC_TRANSPORT=auto skips the plugin and works. Skipped where a device exists.
#include <stdlib.h>

#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mooncomm/communicator.h"
#include "plugin/loader.h"
#include "plugin/transport.h"

namespace mc {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::StartsWith;

bool HasRdmaDevice() {
  std::error_code ec;
  std::filesystem::directory_iterator it("/sys/class/infiniband", ec);
  return !ec && it != std::filesystem::directory_iterator();
}

// Values to set (nullopt: unset).
using Vars = std::map<std::string, std::optional<std::string>>;

// Sets environment variables for one test and restores them afterwards.
class ScopedEnv {
 public:
  explicit ScopedEnv(const Vars& vars) {
    for (const auto& [name, value] : vars) {
      const char* old = getenv(name.c_str());
      saved_[name] = old != nullptr ? std::optional<std::string>(old) : std::nullopt;
      if (value) {
        setenv(name.c_str(), value->c_str(), 1);
      } else {
        unsetenv(name.c_str());
      }
    }
  }
  ~ScopedEnv() {
    for (const auto& [name, value] : saved_) {
      if (value) {
        setenv(name.c_str(), value->c_str(), 1);
      } else {
        unsetenv(name.c_str());
      }
    }
  }

 private:
  std::map<std::string, std::optional<std::string>> saved_;
};

class NoDeviceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (HasRdmaDevice()) GTEST_SKIP() << "this machine has an RDMA device; the no-device path cannot run";
  }
  // The plugin from this build, found by name the way the core finds it; a
  // single-process launch (no launcher variables).
  ScopedEnv env_{Vars{{"MC_PLUGIN_PATH", MC_RDMA_PLUGIN_DIR},
                      {"MC_RANK", std::nullopt},
                      {"MC_WORLD_SIZE", std::nullopt},
                      {"RANK", std::nullopt},
                      {"WORLD_SIZE", std::nullopt},
                      {"OMPI_COMM_WORLD_RANK", std::nullopt},
                      {"SLURM_PROCID", std::nullopt}}};
};

TEST_F(NoDeviceTest, InitSaysNoRdmaDeviceFound) {
  absl::StatusOr<LoadedPlugin> plugin = LoadPlugin("rdma");
  ASSERT_TRUE(plugin.ok()) << plugin.status();
  EXPECT_THAT(plugin->path, HasSubstr("libmooncomm-rdma.so"));
  // A host that answers every param with its default.
  struct Host {
    static mc_result_t GetParam(void* ctx, const char* name, char* value, size_t len) {
      const mc_plugin_v1_t* p = static_cast<const mc_plugin_v1_t*>(ctx);
      for (size_t i = 0; i < p->num_params; ++i) {
        if (std::string(p->params[i].name) == name) {
          std::snprintf(value, len, "%s", p->params[i].default_value);
          return MC_SUCCESS;
        }
      }
      return MC_ERR_INVALID_ARG;
    }
  };
  mc_host_v1_t host{const_cast<mc_plugin_v1_t*>(plugin->plugin), nullptr, &Host::GetParam, nullptr};
  char err[512] = {0};
  void* ctx = nullptr;
  EXPECT_EQ(plugin->plugin->transport->init(&host, &ctx, err, sizeof(err)), MC_ERR_NO_DEVICE);
  EXPECT_EQ(ctx, nullptr);
  EXPECT_THAT(std::string(err), AllOf(StartsWith("no RDMA device found"), HasSubstr("/sys/class/infiniband")));
}

TEST_F(NoDeviceTest, TransportOpenFailsWithTheReason) {
  absl::StatusOr<LoadedPlugin> plugin = LoadPlugin("rdma");
  ASSERT_TRUE(plugin.ok()) << plugin.status();
  absl::StatusOr<std::unique_ptr<Transport>> transport = Transport::Open(*plugin, nullptr);
  ASSERT_FALSE(transport.ok());
  EXPECT_EQ(transport.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(transport.status().message(),
              AllOf(HasSubstr("transport 'rdma'"), HasSubstr("cannot run here: no RDMA device found"),
                    HasSubstr("MC_ERR_NO_DEVICE")));
}

TEST_F(NoDeviceTest, BadParamsAreReportedBeforeDevices) {
  absl::StatusOr<LoadedPlugin> plugin = LoadPlugin("rdma");
  ASSERT_TRUE(plugin.ok()) << plugin.status();
  {
    ScopedEnv bad(Vars{{"MC_RDMA_QPS_PER_PEER", "0"}});
    absl::StatusOr<std::unique_ptr<Transport>> transport = Transport::Open(*plugin, nullptr);
    ASSERT_FALSE(transport.ok());
    EXPECT_THAT(transport.status().message(),
                AllOf(HasSubstr("MC_RDMA_QPS_PER_PEER='0'"), HasSubstr("between 1 and 16")));
  }
  {
    ScopedEnv bad(Vars{{"MC_RDMA_GID_INDEX", "first"}});  // the core rejects what is not an integer
    absl::StatusOr<std::unique_ptr<Transport>> transport = Transport::Open(*plugin, nullptr);
    ASSERT_FALSE(transport.ok());
    EXPECT_THAT(transport.status().message(), AllOf(HasSubstr("MC_RDMA_GID_INDEX"), HasSubstr("first")));
  }
  {
    ScopedEnv bad(Vars{{"MC_RDMA_GID_INDEX", "-5"}});  // an integer, out of the plugin's range
    absl::StatusOr<std::unique_ptr<Transport>> transport = Transport::Open(*plugin, nullptr);
    ASSERT_FALSE(transport.ok());
    EXPECT_THAT(transport.status().message(), HasSubstr("MC_RDMA_GID_INDEX='-5'"));
  }
}

TEST_F(NoDeviceTest, NamedRdmaTransportIsAnErrorNotAFallback) {
  ScopedEnv env(Vars{{"MC_TRANSPORT", "rdma"}});
  absl::StatusOr<std::unique_ptr<Communicator>> comm = Communicator::Create();
  ASSERT_FALSE(comm.ok());
  EXPECT_THAT(comm.status().message(), AllOf(HasSubstr("rdma"), HasSubstr("no RDMA device found")));
}

TEST_F(NoDeviceTest, AutoSkipsRdmaAndWorks) {
  ScopedEnv env(Vars{{"MC_TRANSPORT", "auto"}, {"MC_LOG_LEVEL", "info"}});
  ::testing::internal::CaptureStderr();
  absl::StatusOr<std::unique_ptr<Communicator>> comm = Communicator::Create();
  const std::string log = ::testing::internal::GetCapturedStderr();
  ASSERT_TRUE(comm.ok()) << comm.status() << "\n" << log;
  EXPECT_EQ((*comm)->size(), 1);
  EXPECT_THAT(log, AllOf(HasSubstr("skipped"), HasSubstr("rdma ("), HasSubstr("no RDMA device found")));
}

}  // namespace
}  // namespace mc
