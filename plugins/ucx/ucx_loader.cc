// libmooncomm-ucx.so, the file the core loads. It links no UCX (see
// plugins/lazy_plugin.h): init checks the params and whether UCX is worth
// running here (WorthRunning in ucx_tls.h: UCX_TLS set, or an RDMA device),
// and only then loads libmooncomm_ucx_impl.so, which links UCX and holds the
// plugin. So the processes that MC_TRANSPORT=auto or mc_info open the plugin
// in, on hosts where it would not run, never load UCX (its memory hooks, its
// library constructors, its threads).
#include <cstdlib>
#include <string>

#include "lazy_plugin.h"
#include "mooncomm/plugin_abi.h"
#include "ucx_params.h"
#include "ucx_tls.h"

namespace mc::ucx {
namespace {

struct LoaderTraits {
  static constexpr const char* kImplFile = "libmooncomm_ucx_impl.so";
  static mc_result_t Precheck(const mc_host_v1_t& host, std::string* why) {
    UcxConfig config;
    if (!ReadUcxConfig(host, &config, why)) return MC_ERR_INVALID_ARG;
    if (!WorthRunning(std::getenv("UCX_TLS"), HasRdmaDevice(kRdmaSysfsDir))) {
      *why = kNotWorthRunning;
      return MC_ERR_NO_DEVICE;
    }
    return MC_SUCCESS;
  }
};
using Loader = plugins::LazyPlugin<LoaderTraits>;

}  // namespace
}  // namespace mc::ucx

// The same name, version and params as the implementation's table (ucx_plugin.cc).
extern "C" __attribute__((visibility("default"))) const mc_plugin_v1_t mc_plugin_v1 = {
    .abi_version = 1,
    .name = "ucx",
    .version = "0.1.0",
    .params = mc::ucx::kUcxParams,
    .num_params = mc::ucx::kNumUcxParams,
    .transport = &mc::ucx::Loader::kTransport,
    .memory = &mc::ucx::Loader::kMemory,
    .topology = &mc::ucx::Loader::kTopology,
};
