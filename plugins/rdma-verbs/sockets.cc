#include "sockets.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace mc::rdma {
namespace {

constexpr int kListenBacklog = 1024;
// A host that vanishes without closing its sockets (power loss) is noticed
// by TCP keepalive on the idle side channel within about 10 s; a live but
// silent peer is fine. Process deaths are seen at once (the kernel closes).
constexpr int kKeepIdleSeconds = 5;
constexpr int kKeepIntervalSeconds = 1;
constexpr int kKeepCount = 5;

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

void SetOptions(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
  int idle = kKeepIdleSeconds, interval = kKeepIntervalSeconds, count = kKeepCount;
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof(interval));
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof(count));
}

// The best address of one interface: IPv4 first, then a non-link-local IPv6.
bool AddressOf(const ifaddrs* list, const std::string& name, SockAddr* out) {
  const ifaddrs* v6 = nullptr;
  for (const ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
    if (i->ifa_addr == nullptr || name != i->ifa_name || !(i->ifa_flags & IFF_UP)) continue;
    if (i->ifa_addr->sa_family == AF_INET) {
      std::memcpy(&out->storage, i->ifa_addr, sizeof(sockaddr_in));
      out->len = sizeof(sockaddr_in);
      return true;
    }
    if (i->ifa_addr->sa_family == AF_INET6 && v6 == nullptr &&
        !IN6_IS_ADDR_LINKLOCAL(&reinterpret_cast<const sockaddr_in6*>(i->ifa_addr)->sin6_addr)) {
      v6 = i;
    }
  }
  if (v6 == nullptr) return false;
  std::memcpy(&out->storage, v6->ifa_addr, sizeof(sockaddr_in6));
  out->len = sizeof(sockaddr_in6);
  return true;
}

}  // namespace

StatusOr<SockAddr> ChooseListenAddress(const std::string& socket_if, const std::string& port_netdev) {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return Internal(Errno("getifaddrs"));
  SockAddr addr;
  bool found = false;
  if (!socket_if.empty()) {
    found = AddressOf(list, socket_if, &addr);
    if (!found) {
      std::string names;
      for (const ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
        if (i->ifa_addr != nullptr && (i->ifa_flags & IFF_UP) && names.find(i->ifa_name) == std::string::npos) {
          names += (names.empty() ? "" : ", ") + std::string(i->ifa_name);
        }
      }
      freeifaddrs(list);
      return InvalidArgument("MC_RDMA_SOCKET_IF='" + socket_if +
                             "' is not an up interface with an IP address (up: " + names + ")");
    }
  }
  if (!found && !port_netdev.empty()) found = AddressOf(list, port_netdev, &addr);
  for (const ifaddrs* i = list; !found && i != nullptr; i = i->ifa_next) {
    if (i->ifa_addr == nullptr || (i->ifa_flags & IFF_LOOPBACK) || !(i->ifa_flags & IFF_UP)) continue;
    if (i->ifa_addr->sa_family == AF_INET) found = AddressOf(list, i->ifa_name, &addr);
  }
  freeifaddrs(list);
  if (!found) {
    auto* in = reinterpret_cast<sockaddr_in*>(&addr.storage);
    in->sin_family = AF_INET;
    in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.len = sizeof(sockaddr_in);
  }
  // Port 0: the kernel picks one.
  if (addr.family() == AF_INET) reinterpret_cast<sockaddr_in*>(&addr.storage)->sin_port = 0;
  if (addr.family() == AF_INET6) reinterpret_cast<sockaddr_in6*>(&addr.storage)->sin6_port = 0;
  return addr;
}

StatusOr<int> ListenOn(const SockAddr& addr, SockAddr* bound) {
  int fd = socket(addr.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Internal(Errno("socket"));
  if (bind(fd, addr.get(), addr.len) != 0 || listen(fd, kListenBacklog) != 0) {
    Status s = Internal(Errno("listening on " + FormatSockAddr(addr)));
    close(fd);
    return s;
  }
  bound->len = sizeof(bound->storage);
  if (getsockname(fd, bound->get(), &bound->len) != 0) {
    Status s = Internal(Errno("getsockname"));
    close(fd);
    return s;
  }
  return fd;
}

StatusOr<int> StartConnect(const SockAddr& to, int* error) {
  *error = 0;
  int fd = socket(to.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Internal(Errno("socket"));
  SetOptions(fd);
  if (connect(fd, to.get(), to.len) != 0 && errno != EINPROGRESS) *error = errno;
  return fd;
}

int AcceptOne(int listen_fd, SockAddr* peer) {
  peer->len = sizeof(peer->storage);
  int fd = accept4(listen_fd, peer->get(), &peer->len, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd < 0) return (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) ? -1 : -2;
  SetOptions(fd);
  return fd;
}

int PendingSocketError(int fd) {
  int err = 0;
  socklen_t len = sizeof(err);
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return errno;
  return err;
}

SockAddr FromListenAddress(const ListenAddress& address) {
  SockAddr addr;
  if (address.family == AF_INET6) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&addr.storage);
    in6->sin6_family = AF_INET6;
    std::memcpy(&in6->sin6_addr, address.ip.data(), 16);
    in6->sin6_port = htons(address.port);
    addr.len = sizeof(sockaddr_in6);
  } else {
    auto* in = reinterpret_cast<sockaddr_in*>(&addr.storage);
    in->sin_family = AF_INET;
    std::memcpy(&in->sin_addr, address.ip.data(), 4);
    in->sin_port = htons(address.port);
    addr.len = sizeof(sockaddr_in);
  }
  return addr;
}

ListenAddress ToListenAddress(const SockAddr& addr, uint64_t listener_id) {
  ListenAddress a;
  a.listener_id = listener_id;
  a.family = addr.family();
  if (addr.family() == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&addr.storage);
    std::memcpy(a.ip.data(), &in6->sin6_addr, 16);
    a.port = ntohs(in6->sin6_port);
  } else {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&addr.storage);
    std::memcpy(a.ip.data(), &in->sin_addr, 4);
    a.port = ntohs(in->sin_port);
  }
  return a;
}

std::string FormatSockAddr(const SockAddr& addr) {
  char host[INET6_ADDRSTRLEN] = "?";
  int port = 0;
  if (addr.family() == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&addr.storage);
    inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
    port = ntohs(in6->sin6_port);
    return "[" + std::string(host) + "]:" + std::to_string(port);
  }
  const auto* in = reinterpret_cast<const sockaddr_in*>(&addr.storage);
  inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
  port = ntohs(in->sin_port);
  return std::string(host) + ":" + std::to_string(port);
}

}  // namespace mc::rdma
