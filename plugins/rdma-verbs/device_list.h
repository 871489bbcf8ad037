// Finding the ports to use: every active port of every RDMA device that
// libibverbs lists (or those MC_RDMA_DEVICES names), each with its GID and
// the properties the topology layer wants (from sysfs and ibv_query_port).
#ifndef MOONCOMM_PLUGINS_RDMA_VERBS_DEVICE_LIST_H_
#define MOONCOMM_PLUGINS_RDMA_VERBS_DEVICE_LIST_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ibv_port.h"
#include "params.h"
#include "status.h"
#include "sysfs.h"

namespace mc::rdma {

// One item of MC_RDMA_DEVICES: "mlx5_0" (port 0: every port) or "mlx5_0:1".
struct DeviceSelector {
  std::string name;
  int port = 0;
};

// Parses MC_RDMA_DEVICES ("" selects everything). Errors name the bad item.
StatusOr<std::vector<DeviceSelector>> ParseDeviceList(const std::string& text);
bool IsSelected(const std::vector<DeviceSelector>& selectors, const std::string& name, int port);

// "mlx5_0:1" and friends.
std::string PortName(const std::string& device, int port);

struct OpenedDevices {
  std::vector<std::unique_ptr<Hca>> hcas;
  std::vector<std::unique_ptr<IbvPort>> ports;  // the ABI's device indexes, in order
};

// Opens every selected device with an active port. With none usable the
// error is MC_ERR_NO_DEVICE, its text starting "no RDMA device found" and
// saying why; a bad MC_RDMA_DEVICES or MC_RDMA_GID_INDEX is MC_ERR_INVALID_ARG.
StatusOr<OpenedDevices> OpenDevices(const RdmaConfig& config, const SysfsInfiniband& sysfs,
                                    const std::function<void(mc_log_level_t, const std::string&)>& log);

}  // namespace mc::rdma

#endif  // MOONCOMM_PLUGINS_RDMA_VERBS_DEVICE_LIST_H_
