// TCP sockets of the side channel: which local address to listen on, and
// non-blocking listen / connect with the options a liveness channel wants.
#ifndef MOONCOMM_PLUGINS_RDMA_VERBS_SOCKETS_H_
#define MOONCOMM_PLUGINS_RDMA_VERBS_SOCKETS_H_

#include <sys/socket.h>

#include <string>

#include "status.h"
#include "wire.h"

namespace mc::rdma {

struct SockAddr {
  sockaddr_storage storage{};
  socklen_t len = 0;
  int family() const { return storage.ss_family; }
  sockaddr* get() { return reinterpret_cast<sockaddr*>(&storage); }
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
};

// The address to listen on: the first IPv4 (else IPv6) address of
// MC_RDMA_SOCKET_IF when set; else of the port's netdev (RoCE); else of the
// first up non-loopback interface; else 127.0.0.1.
StatusOr<SockAddr> ChooseListenAddress(const std::string& socket_if, const std::string& port_netdev);

// A non-blocking, close-on-exec listening socket bound to `addr` (port 0:
// any); *bound receives the address it got.
StatusOr<int> ListenOn(const SockAddr& addr, SockAddr* bound);
// Starts a non-blocking connect; the socket is returned at once. *error is
// set (and the caller fails the connection later) when it failed at once.
StatusOr<int> StartConnect(const SockAddr& to, int* error);
// Accepts one pending connection: the fd, -1 when none (EAGAIN), or an error.
int AcceptOne(int listen_fd, SockAddr* peer);
// The error a non-blocking connect ended with, 0 when it succeeded.
int PendingSocketError(int fd);

SockAddr FromListenAddress(const ListenAddress& address);
ListenAddress ToListenAddress(const SockAddr& addr, uint64_t listener_id);
std::string FormatSockAddr(const SockAddr& addr);

}  // namespace mc::rdma

#endif  // MOONCOMM_PLUGINS_RDMA_VERBS_SOCKETS_H_
