// "rdmafake": the rdma plugin over fake_net_fabric (tests only; never installed).
#include "fake_net_fabric.h"
#include "plugin_factory.h"

namespace mc::rdma {

const char* const kPluginName = "rdmafake";

StatusOr<std::unique_ptr<RdmaContext>> OpenContext(const mc_host_v1_t& host) {
  StatusOr<RdmaConfig> config = ReadRdmaConfig(host, "MC_RDMAFAKE_");
  if (!config.ok()) return config.status();
  ContextDevices devices;
  devices.ports.push_back(std::make_unique<testing::NetFakePort>("fake0:1"));
  return RdmaContext::CreateWithDevices(host, *config, std::move(devices));
}

}  // namespace mc::rdma
