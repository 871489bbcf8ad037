// libmooncomm-efa.so, the file the core loads. It links no libfabric (see
// plugins/lazy_plugin.h): init checks the params and, for the efa provider,
// that this host has an RDMA device at all (ProviderMayHaveDevice in
// efa_params.h), and only then loads libmooncomm_efa_impl.so, which links
// libfabric and holds the plugin. So the processes that MC_TRANSPORT=auto or
// mc_info open the plugin in, on hosts without EFA, never load libfabric and
// the provider libraries it links (Debian's libpsm2 and libpsm_infinipath
// take about 0.1 s each to load).
#include <string>

#include "efa_params.h"
#include "lazy_plugin.h"
#include "mooncomm/plugin_abi.h"

namespace mc::efa {
namespace {

struct LoaderTraits {
  static constexpr const char* kImplFile = "libmooncomm_efa_impl.so";
  static mc_result_t Precheck(const mc_host_v1_t& host, std::string* why) {
    EfaConfig config;
    if (!ReadEfaConfig(host, &config, why)) return MC_ERR_INVALID_ARG;
    if (!ProviderMayHaveDevice(config.provider, kRdmaSysfsDir)) {
      *why = kNoEfaDevice;
      return MC_ERR_NO_DEVICE;
    }
    return MC_SUCCESS;
  }
};
using Loader = plugins::LazyPlugin<LoaderTraits>;

}  // namespace
}  // namespace mc::efa

// The same name, version and params as the implementation's table (efa_plugin.cc).
extern "C" __attribute__((visibility("default"))) const mc_plugin_v1_t mc_plugin_v1 = {
    .abi_version = 1,
    .name = "efa",
    .version = "0.1.0",
    .params = mc::efa::kEfaParams,
    .num_params = mc::efa::kNumEfaParams,
    .transport = &mc::efa::Loader::kTransport,
    .memory = &mc::efa::Loader::kMemory,
    .topology = &mc::efa::Loader::kTopology,
};
