// The ucx plugin's parameters, read through a host table, and what UCX_TLS
// tells about the transports.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>

#include "gtest/gtest.h"
#include "mooncomm/plugin_abi.h"
#include "ucx_params.h"
#include "ucx_tls.h"

namespace mc::ucx {
namespace {

// A host whose get_param answers from a map, else the declared default.
class FakeHost {
 public:
  FakeHost() {
    table_.ctx = this;
    table_.log = nullptr;
    table_.peer_failed = nullptr;
    table_.get_param = &GetParam;
  }
  const mc_host_v1_t& table() const { return table_; }
  void Set(const std::string& name, const std::string& value) { values_[name] = value; }

 private:
  static mc_result_t GetParam(void* ctx, const char* name, char* value, size_t value_len) {
    auto* self = static_cast<FakeHost*>(ctx);
    std::string text;
    bool declared = false;
    for (const mc_param_v1_t& p : kUcxParams) {
      if (std::strcmp(p.name, name) == 0) {
        declared = true;
        text = p.default_value;
      }
    }
    if (!declared) return MC_ERR_INVALID_ARG;
    if (auto it = self->values_.find(name); it != self->values_.end()) text = it->second;
    if (text.size() + 1 > value_len) return MC_ERR_NO_MEMORY;
    std::memcpy(value, text.c_str(), text.size() + 1);
    return MC_SUCCESS;
  }

  mc_host_v1_t table_{};
  std::map<std::string, std::string> values_;
};

TEST(UcxParamsTest, DefaultsAreUsable) {
  FakeHost host;
  UcxConfig config;
  std::string why;
  ASSERT_TRUE(ReadUcxConfig(host.table(), &config, &why)) << why;
  EXPECT_EQ(config.interface, "");
  EXPECT_EQ(config.connect_timeout_ms, 30000);
  EXPECT_EQ(config.peer_timeout_ms, 30000);
  EXPECT_EQ(config.error_mode, ErrorMode::kAuto);
}

TEST(UcxParamsTest, ReadsSetValues) {
  FakeHost host;
  host.Set("IF", "eth7");
  host.Set("CONNECT_TIMEOUT_MS", "1500");
  host.Set("PEER_TIMEOUT_MS", "9000");
  host.Set("ERROR_MODE", "none");
  UcxConfig config;
  std::string why;
  ASSERT_TRUE(ReadUcxConfig(host.table(), &config, &why)) << why;
  EXPECT_EQ(config.interface, "eth7");
  EXPECT_EQ(config.connect_timeout_ms, 1500);
  EXPECT_EQ(config.peer_timeout_ms, 9000);
  EXPECT_EQ(config.error_mode, ErrorMode::kNone);
  host.Set("ERROR_MODE", "peer");
  ASSERT_TRUE(ReadUcxConfig(host.table(), &config, &why)) << why;
  EXPECT_EQ(config.error_mode, ErrorMode::kPeer);
}

TEST(UcxParamsTest, BadValuesNameTheParameter) {
  const std::pair<const char*, const char*> bad[] = {
      {"CONNECT_TIMEOUT_MS", "0"},      {"CONNECT_TIMEOUT_MS", "-5"}, {"PEER_TIMEOUT_MS", "86400001"},
      {"PEER_TIMEOUT_MS", "12abc"},     {"ERROR_MODE", "sometimes"},  {"ERROR_MODE", ""},
  };
  for (const auto& [name, value] : bad) {
    FakeHost host;
    host.Set(name, value);
    UcxConfig config;
    std::string why;
    EXPECT_FALSE(ReadUcxConfig(host.table(), &config, &why)) << name << "=" << value;
    EXPECT_NE(why.find(std::string("MC_UCX_") + name), std::string::npos) << why;
  }
}

TEST(UcxParamsTest, LongValuesAreReadWhole) {
  FakeHost host;
  const std::string long_name(1000, 'x');
  host.Set("IF", long_name);
  UcxConfig config;
  std::string why;
  ASSERT_TRUE(ReadUcxConfig(host.table(), &config, &why)) << why;
  EXPECT_EQ(config.interface, long_name);
}

TEST(UcxTlsTest, TellsHostLocalTransportListsApart) {
  EXPECT_TRUE(OnlyHostLocalTransports("posix,cma,sysv"));
  EXPECT_TRUE(OnlyHostLocalTransports("sm,self"));
  EXPECT_TRUE(OnlyHostLocalTransports("shm"));
  EXPECT_FALSE(OnlyHostLocalTransports("tcp"));
  EXPECT_FALSE(OnlyHostLocalTransports("posix,tcp"));
  EXPECT_FALSE(OnlyHostLocalTransports("rc,sm"));
  EXPECT_FALSE(OnlyHostLocalTransports("^tcp"));  // everything but tcp: the network too
  EXPECT_FALSE(OnlyHostLocalTransports(""));      // unset means all
  EXPECT_FALSE(OnlyHostLocalTransports(nullptr));
  EXPECT_FALSE(OnlyHostLocalTransports(","));
}

TEST(UcxTlsTest, RunsOnlyWithUcxTlsOrAnRdmaDevice) {
  EXPECT_FALSE(WorthRunning(nullptr, false));  // auto on a host with TCP and shared memory only
  EXPECT_FALSE(WorthRunning("", false));
  EXPECT_TRUE(WorthRunning("tcp", false));
  EXPECT_TRUE(WorthRunning("posix,cma,sysv", false));
  EXPECT_TRUE(WorthRunning("all", false));
  EXPECT_TRUE(WorthRunning(nullptr, true));
}

TEST(UcxTlsTest, AnRdmaDeviceIsAnEntryInTheDirectory) {
  char dir[] = "/tmp/ucx_params_test_XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  EXPECT_FALSE(HasRdmaDevice(dir));
  const std::string device = std::string(dir) + "/mlx5_0";
  ASSERT_EQ(mkdir(device.c_str(), 0700), 0);
  EXPECT_TRUE(HasRdmaDevice(dir));
  rmdir(device.c_str());
  rmdir(dir);
  EXPECT_FALSE(HasRdmaDevice("/nonexistent/infiniband"));
}

}  // namespace
}  // namespace mc::ucx
