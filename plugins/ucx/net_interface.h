// The network interface whose address the side connections use.
#ifndef MOONCOMM_PLUGINS_UCX_NET_INTERFACE_H_
#define MOONCOMM_PLUGINS_UCX_NET_INTERFACE_H_

#include <sys/socket.h>

#include <string>

namespace mc::ucx {

struct NetInterface {
  std::string name;
  sockaddr_storage address{};  // port 0
  bool loopback = false;
};

// `wanted` empty: the first up non-loopback interface with an IPv4 address
// (by interface index), else the loopback. Otherwise the named interface,
// which must be up and have an address (IPv4 preferred). False with `why`.
bool ChooseInterface(const std::string& wanted, NetInterface* chosen, std::string* why);

}  // namespace mc::ucx

#endif  // MOONCOMM_PLUGINS_UCX_NET_INTERFACE_H_
