#include "net_interface.h"

#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include <cstring>
#include <map>

namespace mc::ucx {
namespace {

struct Candidate {
  std::string name;
  bool up = false;
  bool loopback = false;
  bool has_v4 = false;
  sockaddr_storage v4{};
  bool has_v6 = false;
  sockaddr_storage v6{};
};

bool IsLinkLocal(const sockaddr_in6& sin6) { return IN6_IS_ADDR_LINKLOCAL(&sin6.sin6_addr); }

// Interfaces by index, each with its first IPv4 and its best IPv6 address.
std::map<unsigned, Candidate> ListCandidates() {
  std::map<unsigned, Candidate> by_index;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return by_index;
  for (ifaddrs* it = list; it != nullptr; it = it->ifa_next) {
    if (it->ifa_addr == nullptr || it->ifa_name == nullptr) continue;
    const int family = it->ifa_addr->sa_family;
    if (family != AF_INET && family != AF_INET6) continue;
    const unsigned index = if_nametoindex(it->ifa_name);
    Candidate& c = by_index[index];
    c.name = it->ifa_name;
    c.up = (it->ifa_flags & IFF_UP) != 0;
    c.loopback = (it->ifa_flags & IFF_LOOPBACK) != 0;
    if (family == AF_INET && !c.has_v4) {
      std::memcpy(&c.v4, it->ifa_addr, sizeof(sockaddr_in));
      c.has_v4 = true;
    } else if (family == AF_INET6) {
      const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(it->ifa_addr);
      const bool better =
          !c.has_v6 || (IsLinkLocal(reinterpret_cast<const sockaddr_in6&>(c.v6)) && !IsLinkLocal(*sin6));
      if (better) {
        std::memcpy(&c.v6, sin6, sizeof(sockaddr_in6));
        c.has_v6 = true;
      }
    }
  }
  freeifaddrs(list);
  return by_index;
}

NetInterface Pick(const Candidate& c) {
  NetInterface out;
  out.name = c.name;
  out.loopback = c.loopback;
  out.address = c.has_v4 ? c.v4 : c.v6;
  if (out.address.ss_family == AF_INET) {
    reinterpret_cast<sockaddr_in*>(&out.address)->sin_port = 0;
  } else {
    reinterpret_cast<sockaddr_in6*>(&out.address)->sin6_port = 0;
  }
  return out;
}

}  // namespace

bool ChooseInterface(const std::string& wanted, NetInterface* chosen, std::string* why) {
  const std::map<unsigned, Candidate> candidates = ListCandidates();
  if (!wanted.empty()) {
    for (const auto& [index, c] : candidates) {
      if (c.name != wanted) continue;
      if (!c.up) {
        *why = "MC_UCX_IF names interface '" + wanted + "', which is down";
        return false;
      }
      *chosen = Pick(c);
      return true;
    }
    *why = "MC_UCX_IF names interface '" + wanted + "', which does not exist or has no IP address";
    return false;
  }
  for (const auto& [index, c] : candidates) {
    if (c.up && !c.loopback && c.has_v4) {
      *chosen = Pick(c);
      return true;
    }
  }
  for (const auto& [index, c] : candidates) {
    if (c.up && c.loopback) {
      *chosen = Pick(c);
      return true;
    }
  }
  *why = "no network interface is up with an IP address (needed for the ucx plugin's side connections)";
  return false;
}

}  // namespace mc::ucx
