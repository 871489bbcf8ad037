// The plugin's MC_EFA_* parameters: their declarations (what mc_info lists)
// and the values read through the host's get_param.
#ifndef MOONCOMM_PLUGINS_EFA_EFA_PARAMS_H_
#define MOONCOMM_PLUGINS_EFA_EFA_PARAMS_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "mooncomm/plugin_abi.h"
#include "rdma_sysfs.h"

namespace mc::efa {

extern const mc_param_v1_t kEfaParams[];
extern const size_t kNumEfaParams;

struct EfaConfig {
  std::string provider = "efa";  // libfabric provider (MC_EFA_PROVIDER; empty reads as "efa")
  std::string domain;         // only this libfabric domain; empty: all of them
  std::string socket_ifname;  // interface of the control sockets; empty: chosen per device
  int64_t connect_timeout_ms = 10000;
  bool force_mr_local = false;  // register local buffers even if the provider does not ask
  uint64_t max_message = uint64_t{2} << 30;
  bool truncation_guard = true;  // receives carry an overflow iov (truncation_guard.h)
};

// False with the reason in *error when a value cannot be read or is out of range.
bool ReadEfaConfig(const mc_host_v1_t& host, EfaConfig* config, std::string* error);

// False when `provider` is efa and `sysfs_dir` (/sys/class/infiniband) has no
// entry: every EFA NIC is an RDMA device there, so libfabric's efa provider
// would find none either. Asking libfabric anyway starts all its providers
// (about 0.3 s on the development machine), in every process that
// MC_TRANSPORT=auto or mc_info opens the plugin in.
bool ProviderMayHaveDevice(const std::string& provider, const char* sysfs_dir);
using ::mc::plugins::kRdmaSysfsDir;
// init's answer (MC_ERR_NO_DEVICE) when ProviderMayHaveDevice is false.
inline constexpr const char* kNoEfaDevice =
    "no EFA device: /sys/class/infiniband is absent or empty, so libfabric's efa provider has nothing to drive; "
    "MC_EFA_PROVIDER picks another provider (tcp or shm for testing)";

}  // namespace mc::efa

#endif  // MOONCOMM_PLUGINS_EFA_EFA_PARAMS_H_
