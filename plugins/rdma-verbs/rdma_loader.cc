// libmooncomm-rdma.so, the file the core loads. It links no libibverbs (see
// plugins/lazy_plugin.h): init reads the params and checks that
// /sys/class/infiniband lists a device, and only then loads
// libmooncomm_rdma_impl.so, which links libibverbs and holds the plugin. On
// a host without RDMA hardware, the processes that MC_TRANSPORT=auto or
// mc_info open the plugin in never load libibverbs and its providers.
#include <string>

#include "lazy_plugin.h"
#include "mooncomm/plugin_abi.h"
#include "params.h"
#include "sysfs.h"

namespace mc::rdma {
namespace {

struct LoaderTraits {
  static constexpr const char* kImplFile = "libmooncomm_rdma_impl.so";
  static mc_result_t Precheck(const mc_host_v1_t& host, std::string* why) {
    StatusOr<RdmaConfig> config = ReadRdmaConfig(host);
    if (!config.ok()) {
      *why = config.status().message();
      return config.status().code();
    }
    const SysfsInfiniband sysfs;
    if (sysfs.DeviceNames().empty()) {
      // The implementation says the same from libibverbs (device_list.cc).
      *why = "no RDMA device found (" + sysfs.root() + " is absent or empty)";
      return MC_ERR_NO_DEVICE;
    }
    return MC_SUCCESS;
  }
};
using Loader = plugins::LazyPlugin<LoaderTraits>;

}  // namespace
}  // namespace mc::rdma

// The same name, version and params as the implementation's table (rdma_plugin.cc).
extern "C" __attribute__((visibility("default"))) const mc_plugin_v1_t mc_plugin_v1 = {
    .abi_version = MC_PLUGIN_ABI_VERSION,
    .name = "rdma",
    .version = MC_RDMA_VERSION,
    .params = mc::rdma::kRdmaParams,
    .num_params = mc::rdma::kNumRdmaParams,
    .transport = &mc::rdma::Loader::kTransport,
    .memory = &mc::rdma::Loader::kMemory,
    .topology = &mc::rdma::Loader::kTopology,
};
