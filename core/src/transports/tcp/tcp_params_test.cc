// Params through the ABI: init reads them via host->get_param, and a bad
// value is an init error that names the variable and the value.
#include <string>

#include "gtest/gtest.h"
#include "transports/tcp/tcp_test_host.h"

namespace mc::tcp::testing {
namespace {

struct BadValue {
  const char* param;
  const char* value;
  const char* variable;  // what the error must name
};

class TcpBadParamTest : public ::testing::TestWithParam<BadValue> {};

TEST_P(TcpBadParamTest, InitFailsNamingVariableAndValue) {
  TestHost host;
  host.Set(GetParam().param, GetParam().value);
  void* ctx = nullptr;
  std::string err;
  EXPECT_EQ(InitTcp(host, &ctx, &err), MC_ERR_INVALID_ARG);
  EXPECT_NE(err.find(GetParam().variable), std::string::npos) << err;
  EXPECT_NE(err.find(GetParam().value), std::string::npos) << err;
}

INSTANTIATE_TEST_SUITE_P(
    Values, TcpBadParamTest,
    ::testing::Values(BadValue{"EAGER_LIMIT", "lots", "MC_TCP_EAGER_LIMIT"},
                      BadValue{"EAGER_LIMIT", "-5", "MC_TCP_EAGER_LIMIT"},
                      BadValue{"EAGER_LIMIT", "3G", "MC_TCP_EAGER_LIMIT"},  // above MAX_MESSAGE
                      BadValue{"MAX_MESSAGE", "0", "MC_TCP_MAX_MESSAGE"},
                      BadValue{"MAX_MESSAGE", "12Q", "MC_TCP_MAX_MESSAGE"},
                      BadValue{"MAX_MESSAGE", "99999999T", "MC_TCP_MAX_MESSAGE"},
                      BadValue{"USER_TIMEOUT_MS", "soon", "MC_TCP_USER_TIMEOUT_MS"},
                      BadValue{"USER_TIMEOUT_MS", "0", "MC_TCP_USER_TIMEOUT_MS"},
                      BadValue{"IF", "nosuchif0", "nosuchif0"},
                      BadValue{"IF", "lo,nosuchif1", "nosuchif1"},
                      BadValue{"IF", "lo,lo", "MC_TCP_IF"}));

TEST(TcpParamsTest, DefaultsWork) {
  TestHost host;
  void* ctx = nullptr;
  std::string err;
  ASSERT_EQ(InitTcp(host, &ctx, &err), MC_SUCCESS) << err;
  int count = 0;
  EXPECT_EQ(Ops().device_count(ctx, &count), MC_SUCCESS);
  EXPECT_EQ(count, 1);
  mc_device_props_v1_t props;
  ASSERT_EQ(mc_builtin_tcp_plugin.topology->device_props(ctx, 0, &props), MC_SUCCESS);
  EXPECT_STREQ(props.name, "lo");
  EXPECT_EQ(props.max_message_bytes, 2ull << 30);  // allows 1 GiB messages
  EXPECT_EQ(props.mem_kinds, MC_MEM_KIND_BIT(MC_MEM_HOST));
  EXPECT_EQ(props.same_host_only, 0);
  EXPECT_STREQ(props.pci_path, "");  // lo is virtual
  EXPECT_EQ(props.numa_node, -1);
  EXPECT_GT(props.latency_us, 0);
  EXPECT_EQ(mc_builtin_tcp_plugin.topology->device_props(ctx, 1, &props), MC_ERR_INVALID_ARG);
  EXPECT_EQ(Ops().finalize(ctx), MC_SUCCESS);
}

TEST(TcpParamsTest, SizesWithSuffixesAreRead) {
  TestHost host;
  host.Set("MAX_MESSAGE", "3M");
  host.Set("EAGER_LIMIT", "1k");
  void* ctx = nullptr;
  std::string err;
  ASSERT_EQ(InitTcp(host, &ctx, &err), MC_SUCCESS) << err;
  mc_device_props_v1_t props;
  ASSERT_EQ(mc_builtin_tcp_plugin.topology->device_props(ctx, 0, &props), MC_SUCCESS);
  EXPECT_EQ(props.max_message_bytes, 3u << 20);
  EXPECT_EQ(Ops().finalize(ctx), MC_SUCCESS);
}

TEST(TcpParamsTest, EmptyIfChoosesAnInterface) {
  TestHost host;
  host.Set("IF", "");
  void* ctx = nullptr;
  std::string err;
  ASSERT_EQ(InitTcp(host, &ctx, &err), MC_SUCCESS) << err;
  int count = 0;
  EXPECT_EQ(Ops().device_count(ctx, &count), MC_SUCCESS);
  EXPECT_EQ(count, 1);
  EXPECT_EQ(Ops().finalize(ctx), MC_SUCCESS);
}

TEST(TcpParamsTest, DeclaresItsParams) {
  const mc_plugin_v1_t& p = mc_builtin_tcp_plugin;
  EXPECT_STREQ(p.name, "tcp");
  EXPECT_EQ(p.abi_version, MC_PLUGIN_ABI_VERSION);
  std::string names;
  for (size_t i = 0; i < p.num_params; ++i) {
    names += std::string(p.params[i].name) + ",";
    EXPECT_NE(p.params[i].help, nullptr);
    EXPECT_NE(p.params[i].default_value, nullptr);
  }
  EXPECT_EQ(names, "IF,EAGER_LIMIT,MAX_MESSAGE,USER_TIMEOUT_MS,");
}

}  // namespace
}  // namespace mc::tcp::testing
