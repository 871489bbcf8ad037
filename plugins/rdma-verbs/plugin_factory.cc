#include "plugin_factory.h"

namespace mc::rdma {

const char* const kPluginName = "rdma";

StatusOr<std::unique_ptr<RdmaContext>> OpenContext(const mc_host_v1_t& host) { return RdmaContext::Create(host); }

}  // namespace mc::rdma
