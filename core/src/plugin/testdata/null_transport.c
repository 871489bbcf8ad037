/* A v1 plugin whose transport table is NULL. */
#include "mooncomm/plugin_abi.h"

static mc_result_t DeviceProps(void* ctx, int dev, mc_device_props_v1_t* props) {
  (void)ctx;
  (void)dev;
  (void)props;
  return MC_ERR_UNSUPPORTED;
}

static const mc_topology_v1_t kTopology = {.device_props = DeviceProps};

__attribute__((visibility("default"))) const mc_plugin_v1_t mc_plugin_v1 = {
    .abi_version = MC_PLUGIN_ABI_VERSION,
    .name = "nulltransport",
    .version = "0",
    .transport = 0,
    .memory = 0,
    .topology = &kTopology,
};
