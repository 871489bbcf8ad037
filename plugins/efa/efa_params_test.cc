#include "efa_params.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace mc::efa {
namespace {

// A host whose get_param answers from a map, else the declared default.
class FakeHost {
 public:
  explicit FakeHost(std::map<std::string, std::string> values) : values_(std::move(values)) {
    table_.ctx = this;
    table_.get_param = &GetParam;
  }
  const mc_host_v1_t& table() const { return table_; }

 private:
  static mc_result_t GetParam(void* ctx, const char* name, char* value, size_t value_len) {
    auto* self = static_cast<FakeHost*>(ctx);
    std::string text;
    auto it = self->values_.find(name);
    if (it != self->values_.end()) {
      text = it->second;
    } else {
      bool declared = false;
      for (size_t i = 0; i < kNumEfaParams; ++i) {
        if (std::strcmp(kEfaParams[i].name, name) == 0) {
          text = kEfaParams[i].default_value;
          declared = true;
        }
      }
      if (!declared) return MC_ERR_INVALID_ARG;
    }
    if (text.size() + 1 > value_len) return MC_ERR_NO_MEMORY;
    std::memcpy(value, text.c_str(), text.size() + 1);
    return MC_SUCCESS;
  }

  std::map<std::string, std::string> values_;
  mc_host_v1_t table_{};
};

TEST(EfaParamsTest, DefaultsAreUsable) {
  FakeHost host(std::map<std::string, std::string>{});
  EfaConfig config;
  std::string error;
  ASSERT_TRUE(ReadEfaConfig(host.table(), &config, &error)) << error;
  EXPECT_EQ(config.provider, "efa");
  EXPECT_EQ(config.connect_timeout_ms, 10000);
  EXPECT_FALSE(config.force_mr_local);
  EXPECT_EQ(config.max_message, uint64_t{2} << 30);
  EXPECT_TRUE(config.truncation_guard);
}

TEST(EfaParamsTest, ReadsNormalizedAndRawValues) {
  // The core hands "3072" for "3K"; a host that passes values through is understood too.
  FakeHost host({{"PROVIDER", "shm"},
                 {"MAX_MESSAGE", "512M"},
                 {"FORCE_MR_LOCAL", "yes"},
                 {"TRUNCATION_GUARD", "0"},
                 {"CONNECT_TIMEOUT_MS", "250"}});
  EfaConfig config;
  std::string error;
  ASSERT_TRUE(ReadEfaConfig(host.table(), &config, &error)) << error;
  EXPECT_EQ(config.provider, "shm");
  EXPECT_EQ(config.max_message, uint64_t{512} << 20);
  EXPECT_TRUE(config.force_mr_local);
  EXPECT_FALSE(config.truncation_guard);
  EXPECT_EQ(config.connect_timeout_ms, 250);
}

TEST(EfaParamsTest, AnEmptyProviderIsEfa) {
  // MC_TRANSPORT=auto opens the plugin only over efa unless MC_EFA_PROVIDER names another provider.
  FakeHost host(std::map<std::string, std::string>{{"PROVIDER", ""}});
  EfaConfig config;
  std::string error;
  ASSERT_TRUE(ReadEfaConfig(host.table(), &config, &error)) << error;
  EXPECT_EQ(config.provider, "efa");
}

TEST(EfaParamsTest, TheEfaProviderNeedsAnRdmaDevice) {
  char dir[] = "/tmp/efa_params_test_XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  EXPECT_FALSE(ProviderMayHaveDevice("efa", dir));
  EXPECT_FALSE(ProviderMayHaveDevice("efa", "/nonexistent/infiniband"));
  EXPECT_TRUE(ProviderMayHaveDevice("tcp", dir));  // other providers: libfabric decides
  EXPECT_TRUE(ProviderMayHaveDevice("shm", "/nonexistent/infiniband"));
  const std::string device = std::string(dir) + "/rdmap0s6";
  ASSERT_EQ(mkdir(device.c_str(), 0700), 0);
  EXPECT_TRUE(ProviderMayHaveDevice("efa", dir));
  rmdir(device.c_str());
  rmdir(dir);
}

TEST(EfaParamsTest, RefusesOutOfRangeValuesByName) {
  for (const auto& [name, value] : std::vector<std::pair<std::string, std::string>>{
           {"CONNECT_TIMEOUT_MS", "0"}, {"CONNECT_TIMEOUT_MS", "soon"}, {"MAX_MESSAGE", "0"}}) {
    FakeHost host(std::map<std::string, std::string>{{name, value}});
    EfaConfig config;
    std::string error;
    EXPECT_FALSE(ReadEfaConfig(host.table(), &config, &error)) << name << "=" << value;
    EXPECT_NE(error.find("MC_EFA_" + name), std::string::npos) << error;
  }
}

TEST(EfaParamsTest, EveryParamHasAOneLineHelp) {
  for (size_t i = 0; i < kNumEfaParams; ++i) {
    ASSERT_NE(kEfaParams[i].help, nullptr);
    EXPECT_EQ(std::strchr(kEfaParams[i].help, '\n'), nullptr) << kEfaParams[i].name;
  }
}

}  // namespace
}  // namespace mc::efa
