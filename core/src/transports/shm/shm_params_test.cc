#include "transports/shm/shm_params.h"

#include <string>

#include "gtest/gtest.h"
#include "transports/shm/shm_test_util.h"

namespace mc::shm {
namespace {

using testing::Params;
using testing::Peer;

// Init with `params` must fail with MC_ERR_INVALID_ARG and an error that
// names the variable and the bad value.
void ExpectInitError(const Params& params, const std::string& variable, const std::string& value) {
  testing::TestHost host(params);
  void* ctx = nullptr;
  char err[512] = {};
  EXPECT_EQ(mc_builtin_shm_plugin.transport->init(host.host(), &ctx, err, sizeof(err)), MC_ERR_INVALID_ARG);
  EXPECT_EQ(ctx, nullptr);
  std::string message = err;
  EXPECT_NE(message.find(variable), std::string::npos) << message;
  EXPECT_NE(message.find(value), std::string::npos) << message;
}

TEST(ShmParamsTest, DefaultsAreValid) {
  testing::TestHost host;
  absl::StatusOr<ShmParams> params = LoadShmParams(*host.host());
  ASSERT_TRUE(params.ok()) << params.status();
  EXPECT_EQ(params->eager_limit, 64u << 10);
  EXPECT_EQ(params->ring_bytes, 1u << 20);
  EXPECT_TRUE(params->use_cma);
  EXPECT_EQ(params->cma_chunk, 1u << 20);
}

TEST(ShmParamsTest, ValuesWithSuffixesAreParsed) {
  testing::TestHost host({{"EAGER_LIMIT", "4K"}, {"RING_BYTES", "64k"}, {"USE_CMA", "off"}, {"CMA_CHUNK", "2M"}});
  absl::StatusOr<ShmParams> params = LoadShmParams(*host.host());
  ASSERT_TRUE(params.ok()) << params.status();
  EXPECT_EQ(params->eager_limit, 4096u);
  EXPECT_EQ(params->ring_bytes, 65536u);
  EXPECT_FALSE(params->use_cma);
  EXPECT_EQ(params->cma_chunk, 2u << 20);
}

TEST(ShmParamsTest, BadValuesAreInitErrorsNamingTheVariable) {
  ExpectInitError({{"EAGER_LIMIT", "lots"}}, "MC_SHM_EAGER_LIMIT", "lots");
  ExpectInitError({{"RING_BYTES", "100000"}}, "MC_SHM_RING_BYTES", "100000");
  ExpectInitError({{"RING_BYTES", "32K"}}, "MC_SHM_RING_BYTES", "32K");
  ExpectInitError({{"RING_BYTES", "2G"}}, "MC_SHM_RING_BYTES", "2G");
  ExpectInitError({{"USE_CMA", "maybe"}}, "MC_SHM_USE_CMA", "maybe");
  ExpectInitError({{"CMA_CHUNK", "1"}}, "MC_SHM_CMA_CHUNK", "1");
  ExpectInitError({{"CMA_CHUNK", "-5"}}, "MC_SHM_CMA_CHUNK", "-5");
  // An eager limit the ring cannot pipeline names both.
  ExpectInitError({{"EAGER_LIMIT", "32K"}, {"RING_BYTES", "64K"}}, "MC_SHM_EAGER_LIMIT", "32K");
  ExpectInitError({{"EAGER_LIMIT", "32K"}, {"RING_BYTES", "64K"}}, "MC_SHM_RING_BYTES", "64K");
}

TEST(ShmParamsTest, PluginDeclaresEveryParamItReads) {
  const mc_plugin_v1_t& plugin = mc_builtin_shm_plugin;
  EXPECT_EQ(plugin.abi_version, static_cast<uint32_t>(MC_PLUGIN_ABI_VERSION));
  EXPECT_STREQ(plugin.name, "shm");
  ASSERT_EQ(plugin.num_params, 4u);
  for (size_t i = 0; i < plugin.num_params; ++i) {
    EXPECT_NE(plugin.params[i].help, nullptr);
    EXPECT_NE(plugin.params[i].default_value, nullptr);
  }
}

TEST(ShmParamsTest, DeviceIsOneSameHostShmDevice) {
  Peer peer;
  ASSERT_TRUE(peer.ok()) << peer.init_error();
  int count = 0;
  ASSERT_EQ(peer.t().device_count(peer.ctx(), &count), MC_SUCCESS);
  EXPECT_EQ(count, 1);
  mc_device_props_v1_t props{};
  ASSERT_EQ(mc_builtin_shm_plugin.topology->device_props(peer.ctx(), 0, &props), MC_SUCCESS);
  EXPECT_STREQ(props.name, "shm");
  EXPECT_EQ(props.numa_node, -1);
  EXPECT_EQ(props.same_host_only, 1);
  EXPECT_EQ(props.mem_kinds, MC_MEM_KIND_BIT(MC_MEM_HOST));
  EXPECT_GE(props.max_message_bytes, 1ull << 30);
  EXPECT_GT(props.latency_us, 0);
  EXPECT_GE(props.bandwidth_gbps, 0);
  EXPECT_EQ(mc_builtin_shm_plugin.topology->device_props(peer.ctx(), 1, &props), MC_ERR_INVALID_ARG);
}

}  // namespace
}  // namespace mc::shm
