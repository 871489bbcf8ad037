#include "socket_util.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace mc::efa {
namespace {

bool IsUsableIp(const sockaddr* sa) {
  if (sa == nullptr) return false;
  if (sa->sa_family == AF_INET) {
    return reinterpret_cast<const sockaddr_in*>(sa)->sin_addr.s_addr != htonl(INADDR_ANY);
  }
  if (sa->sa_family == AF_INET6) {
    const in6_addr& a = reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr;
    return !IN6_IS_ADDR_UNSPECIFIED(&a);
  }
  return false;
}

void CopyIp(const sockaddr* sa, SocketAddress* out) {
  out->storage = sockaddr_storage{};
  if (sa->sa_family == AF_INET) {
    sockaddr_in in = *reinterpret_cast<const sockaddr_in*>(sa);
    in.sin_port = 0;
    std::memcpy(&out->storage, &in, sizeof(in));
    out->len = sizeof(in);
  } else {
    sockaddr_in6 in6 = *reinterpret_cast<const sockaddr_in6*>(sa);
    in6.sin6_port = 0;
    std::memcpy(&out->storage, &in6, sizeof(in6));
    out->len = sizeof(in6);
  }
}

void Loopback(SocketAddress* out) {
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  CopyIp(reinterpret_cast<const sockaddr*>(&in), out);
}

// The first address of an interface that is up, by name or (empty name) the
// first non-loopback one; IPv4 before IPv6.
bool FindInterfaceIp(const std::string& ifname, SocketAddress* out) {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return false;
  bool found = false;
  for (int family : {AF_INET, AF_INET6}) {
    for (ifaddrs* i = list; i != nullptr && !found; i = i->ifa_next) {
      if (i->ifa_addr == nullptr || i->ifa_addr->sa_family != family || !(i->ifa_flags & IFF_UP)) continue;
      if (ifname.empty() ? (i->ifa_flags & IFF_LOOPBACK) != 0 : ifname != i->ifa_name) continue;
      // An unnamed pick skips IPv6 link-local addresses: they need a scope to be reached.
      if (ifname.empty() && family == AF_INET6 &&
          IN6_IS_ADDR_LINKLOCAL(&reinterpret_cast<const sockaddr_in6*>(i->ifa_addr)->sin6_addr)) {
        continue;
      }
      CopyIp(i->ifa_addr, out);
      found = true;
    }
    if (found) break;
  }
  freeifaddrs(list);
  return found;
}

}  // namespace

std::string SocketAddress::ToString() const {
  char text[INET6_ADDRSTRLEN] = "?";
  if (family() == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&storage);
    inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text));
    return std::string(text) + ":" + std::to_string(ntohs(in->sin_port));
  }
  if (family() == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&storage);
    inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof(text));
    std::string scope = in6->sin6_scope_id != 0 ? "%" + std::to_string(in6->sin6_scope_id) : "";
    return "[" + std::string(text) + scope + "]:" + std::to_string(ntohs(in6->sin6_port));
  }
  return "(no address)";
}

bool ChooseControlIp(const std::string& ifname, const sockaddr* device_addr, bool same_host_only, SocketAddress* ip,
                     std::string* error) {
  if (!ifname.empty()) {
    if (FindInterfaceIp(ifname, ip)) return true;
    *error = "MC_EFA_SOCKET_IFNAME=" + ifname + ": no interface of that name is up with an IP address";
    return false;
  }
  if (IsUsableIp(device_addr)) {
    CopyIp(device_addr, ip);
    return true;
  }
  if (same_host_only || !FindInterfaceIp("", ip)) Loopback(ip);
  return true;
}

int OpenListenSocket(const SocketAddress& ip, SocketAddress* bound, std::string* error) {
  int fd = socket(ip.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = "socket: " + ErrnoText(errno);
    return -1;
  }
  if (bind(fd, reinterpret_cast<const sockaddr*>(&ip.storage), ip.len) != 0) {
    *error = "bind to " + ip.ToString() + ": " + ErrnoText(errno);
    close(fd);
    return -1;
  }
  if (listen(fd, 128) != 0) {
    *error = "listen: " + ErrnoText(errno);
    close(fd);
    return -1;
  }
  bound->len = sizeof(bound->storage);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&bound->storage), &bound->len) != 0) {
    *error = "getsockname: " + ErrnoText(errno);
    close(fd);
    return -1;
  }
  return fd;
}

int StartConnect(const SocketAddress& to) {
  int fd = socket(to.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  EnableKeepalive(fd);
  if (connect(fd, reinterpret_cast<const sockaddr*>(&to.storage), to.len) != 0 && errno != EINPROGRESS) {
    const int err = errno;
    close(fd);
    errno = err;
    return -1;
  }
  return fd;
}

void EnableKeepalive(int fd) {
  const int on = 1, idle_s = 10, interval_s = 2, probes = 5;
  setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle_s, sizeof(idle_s));
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval_s, sizeof(interval_s));
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &probes, sizeof(probes));
}

int PendingSocketError(int fd) {
  int err = 0;
  socklen_t len = sizeof(err);
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return errno;
  return err;
}

SocketAddress SocketAddressOf(const ListenAddress& address) {
  SocketAddress out;
  if (address.family == 4) {
    sockaddr_in in{};
    in.sin_family = AF_INET;
    in.sin_port = htons(address.port);
    std::memcpy(&in.sin_addr, address.ip, 4);
    std::memcpy(&out.storage, &in, sizeof(in));
    out.len = sizeof(in);
  } else {
    sockaddr_in6 in6{};
    in6.sin6_family = AF_INET6;
    in6.sin6_port = htons(address.port);
    in6.sin6_scope_id = address.scope_id;
    std::memcpy(&in6.sin6_addr, address.ip, 16);
    std::memcpy(&out.storage, &in6, sizeof(in6));
    out.len = sizeof(in6);
  }
  return out;
}

void FillListenAddress(const SocketAddress& bound, ListenAddress* address) {
  std::memset(address->ip, 0, sizeof(address->ip));
  if (bound.family() == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&bound.storage);
    address->family = 4;
    address->port = ntohs(in->sin_port);
    std::memcpy(address->ip, &in->sin_addr, 4);
    address->scope_id = 0;
  } else {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&bound.storage);
    address->family = 6;
    address->port = ntohs(in6->sin6_port);
    std::memcpy(address->ip, &in6->sin6_addr, 16);
    address->scope_id = in6->sin6_scope_id;
  }
}

std::string ErrnoText(int err) {
  char buf[128];
  // GNU strerror_r returns the text (maybe not in buf).
  return strerror_r(err, buf, sizeof(buf));
}

}  // namespace mc::efa
