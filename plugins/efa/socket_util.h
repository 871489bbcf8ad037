// TCP plumbing for the control sockets: which IP a device's listeners bind
// to, non-blocking listen / connect / accept, and errno words for details.
#ifndef MOONCOMM_PLUGINS_EFA_SOCKET_UTIL_H_
#define MOONCOMM_PLUGINS_EFA_SOCKET_UTIL_H_

#include <sys/socket.h>

#include <string>

#include "wire_format.h"

namespace mc::efa {

struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t len = 0;

  int family() const { return storage.ss_family; }
  std::string ToString() const;  // "192.0.2.2:4711", "[fe80::1%2]:4711"
};

// The IP for a device's control sockets: the interface named by `ifname`;
// else the device's own IP address (`device_addr`, IP-based providers); else
// loopback for a provider that reaches only this host; else the first up
// non-loopback IPv4 interface, else loopback.
bool ChooseControlIp(const std::string& ifname, const sockaddr* device_addr, bool same_host_only, SocketAddress* ip,
                     std::string* error);

// A non-blocking listening socket on `ip`, port chosen by the kernel (in *bound).
int OpenListenSocket(const SocketAddress& ip, SocketAddress* bound, std::string* error);

// Starts a non-blocking connect. Returns the socket, or -1 with errno set.
int StartConnect(const SocketAddress& to);

// TCP keepalive on a control socket: a peer host that crashed (no FIN, no
// RST) is then seen too, within about 20 s, by the kernel alone.
void EnableKeepalive(int fd);

// The socket's pending error (SO_ERROR), 0 if none.
int PendingSocketError(int fd);

// Where a listen address points, and the listen address fields of a bound socket.
SocketAddress SocketAddressOf(const ListenAddress& address);
void FillListenAddress(const SocketAddress& bound, ListenAddress* address);

std::string ErrnoText(int err);

}  // namespace mc::efa

#endif  // MOONCOMM_PLUGINS_EFA_SOCKET_UTIL_H_
