// What tells the shipped plugin from its test double: the name it registers
// under, and how init finds its devices. plugin_factory.cc is the real one
// (libibverbs); fake_net_plugin_factory.cc makes "rdmafake", the same plugin
// over queue pairs emulated on localhost TCP, for the conformance suite on
// machines without RDMA hardware.
#ifndef MOONCOMM_PLUGINS_RDMA_VERBS_PLUGIN_FACTORY_H_
#define MOONCOMM_PLUGINS_RDMA_VERBS_PLUGIN_FACTORY_H_

#include <memory>

#include "context.h"
#include "mooncomm/plugin_abi.h"
#include "status.h"

namespace mc::rdma {

extern const char* const kPluginName;
StatusOr<std::unique_ptr<RdmaContext>> OpenContext(const mc_host_v1_t& host);

}  // namespace mc::rdma

#endif  // MOONCOMM_PLUGINS_RDMA_VERBS_PLUGIN_FACTORY_H_
