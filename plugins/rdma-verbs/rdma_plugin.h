// The rdma plugin's exported table, also reachable by name for tests that
// link the plugin's code and run it over fake devices.
#ifndef MOONCOMM_PLUGINS_RDMA_VERBS_RDMA_PLUGIN_H_
#define MOONCOMM_PLUGINS_RDMA_VERBS_RDMA_PLUGIN_H_

#include "mooncomm/plugin_abi.h"

extern "C" const mc_plugin_v1_t mc_plugin_v1;

namespace mc::rdma {
const mc_plugin_v1_t* RdmaPluginTable();
}  // namespace mc::rdma

#endif  // MOONCOMM_PLUGINS_RDMA_VERBS_RDMA_PLUGIN_H_
