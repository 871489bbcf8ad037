// Network interfaces for the tcp transport: which ones to use (MC_TCP_IF or
// the default choice), their addresses, and their properties from sysfs.
#ifndef MOONCOMM_SRC_TRANSPORTS_TCP_INTERFACES_H_
#define MOONCOMM_SRC_TRANSPORTS_TCP_INTERFACES_H_

#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/statusor.h"
#include "mooncomm/plugin_abi.h"
#include "transports/tcp/sock_addr.h"

namespace mc::tcp {

struct NetInterface {
  std::string name;
  SockAddr addr;  // the address to listen on (port 0)
  bool up = false;
  bool loopback = false;
};

// Interfaces that have an IP address, ordered by interface index. Each one
// carries its first IPv4 address, else a global IPv6 one, else link-local IPv6.
absl::StatusOr<std::vector<NetInterface>> ListInterfaces();

// `if_param` is MC_TCP_IF: empty chooses the first up non-loopback interface
// with an IPv4 address, else the loopback; otherwise a comma list of names,
// each of which must exist, be up and have an address (the error names it).
absl::StatusOr<std::vector<NetInterface>> ChooseInterfaces(absl::string_view if_param);
// The same choice among `available` (exposed for tests).
absl::StatusOr<std::vector<NetInterface>> ChooseInterfacesFrom(absl::string_view if_param,
                                                               const std::vector<NetInterface>& available);

// Device properties of `name` read from `sysfs_net` (normally /sys/class/net):
// the PCI path, NUMA node and link speed; unknowns are "", -1 and 0.
mc_device_props_v1_t ReadDeviceProps(const std::string& name, bool loopback, int rail, uint64_t max_message,
                                     const std::string& sysfs_net = "/sys/class/net");

}  // namespace mc::tcp

#endif  // MOONCOMM_SRC_TRANSPORTS_TCP_INTERFACES_H_
