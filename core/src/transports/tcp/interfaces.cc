#include "transports/tcp/interfaces.h"

#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace mc::tcp {
namespace {

// Lower is preferred: IPv4, then global IPv6, then link-local IPv6.
int AddressRank(const sockaddr* sa) {
  if (sa->sa_family == AF_INET) return 0;
  const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
  return IN6_IS_ADDR_LINKLOCAL(&in6->sin6_addr) ? 2 : 1;
}

bool ReadFirstLine(const std::string& path, std::string* line) {
  std::ifstream in(path);
  if (!in) return false;
  return static_cast<bool>(std::getline(in, *line));
}

std::string Names(const std::vector<NetInterface>& interfaces) {
  std::vector<std::string> names;
  for (const NetInterface& i : interfaces) names.push_back(i.name);
  return names.empty() ? "none" : absl::StrJoin(names, ", ");
}

}  // namespace

absl::StatusOr<std::vector<NetInterface>> ListInterfaces() {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) {
    return absl::InternalError(absl::StrCat("getifaddrs failed: ", std::strerror(errno)));
  }
  std::vector<NetInterface> result;
  std::vector<int> ranks;
  for (ifaddrs* a = list; a != nullptr; a = a->ifa_next) {
    if (a->ifa_addr == nullptr || a->ifa_name == nullptr) continue;
    int family = a->ifa_addr->sa_family;
    if (family != AF_INET && family != AF_INET6) continue;
    int rank = AddressRank(a->ifa_addr);
    auto it = std::find_if(result.begin(), result.end(),
                           [&](const NetInterface& i) { return i.name == a->ifa_name; });
    if (it != result.end() && ranks[it - result.begin()] <= rank) continue;
    NetInterface iface;
    iface.name = a->ifa_name;
    iface.up = (a->ifa_flags & IFF_UP) != 0 && (a->ifa_flags & IFF_RUNNING) != 0;
    iface.loopback = (a->ifa_flags & IFF_LOOPBACK) != 0;
    iface.addr.len = family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
    std::memcpy(&iface.addr.storage, a->ifa_addr, iface.addr.len);
    iface.addr = WithPort(iface.addr, 0);
    if (it != result.end()) {
      ranks[it - result.begin()] = rank;
      *it = iface;
    } else {
      result.push_back(iface);
      ranks.push_back(rank);
    }
  }
  freeifaddrs(list);
  std::stable_sort(result.begin(), result.end(), [](const NetInterface& a, const NetInterface& b) {
    return if_nametoindex(a.name.c_str()) < if_nametoindex(b.name.c_str());
  });
  return result;
}

absl::StatusOr<std::vector<NetInterface>> ChooseInterfacesFrom(absl::string_view if_param,
                                                               const std::vector<NetInterface>& available) {
  std::vector<NetInterface> chosen;
  absl::string_view wanted = absl::StripAsciiWhitespace(if_param);
  if (wanted.empty()) {
    for (const NetInterface& i : available) {
      if (i.up && !i.loopback && i.addr.family() == AF_INET) return std::vector<NetInterface>{i};
    }
    for (const NetInterface& i : available) {
      if (i.loopback) return std::vector<NetInterface>{i};
    }
    return absl::NotFoundError(
        absl::StrCat("no usable network interface (interfaces with an address: ", Names(available), ")"));
  }
  for (absl::string_view name : absl::StrSplit(wanted, ',', absl::SkipWhitespace())) {
    name = absl::StripAsciiWhitespace(name);
    auto it = std::find_if(available.begin(), available.end(),
                           [&](const NetInterface& i) { return i.name == name; });
    if (it == available.end()) {
      bool exists = if_nametoindex(std::string(name).c_str()) != 0;
      return absl::InvalidArgumentError(absl::StrCat(
          "MC_TCP_IF='", if_param, "': ", exists ? "interface '" : "no interface named '", name,
          exists ? "' has no IP address" : "' exists", " (interfaces with an address: ", Names(available), ")"));
    }
    if (!it->up) {
      return absl::InvalidArgumentError(absl::StrCat("MC_TCP_IF='", if_param, "': interface '", name, "' is down"));
    }
    if (std::any_of(chosen.begin(), chosen.end(), [&](const NetInterface& i) { return i.name == name; })) {
      return absl::InvalidArgumentError(
          absl::StrCat("MC_TCP_IF='", if_param, "': interface '", name, "' is named twice"));
    }
    chosen.push_back(*it);
  }
  if (chosen.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("MC_TCP_IF='", if_param, "' names no interface"));
  }
  return chosen;
}

absl::StatusOr<std::vector<NetInterface>> ChooseInterfaces(absl::string_view if_param) {
  absl::StatusOr<std::vector<NetInterface>> available = ListInterfaces();
  if (!available.ok()) return available.status();
  return ChooseInterfacesFrom(if_param, *available);
}

mc_device_props_v1_t ReadDeviceProps(const std::string& name, bool loopback, int rail, uint64_t max_message,
                                     const std::string& sysfs_net) {
  mc_device_props_v1_t props;
  std::memset(&props, 0, sizeof(props));
  std::snprintf(props.name, sizeof(props.name), "%s", name.c_str());

  std::string base = absl::StrCat(sysfs_net, "/", name);
  // Virtual interfaces (lo, bridges) have no device link, or one outside PCI.
  char resolved[PATH_MAX];
  std::string device_link = base + "/device";
  if (realpath(device_link.c_str(), resolved) != nullptr && std::strlen(resolved) < sizeof(props.pci_path)) {
    std::memcpy(props.pci_path, resolved, std::strlen(resolved) + 1);
  }

  props.numa_node = -1;
  std::string line;
  int numa = -1;
  if (ReadFirstLine(base + "/device/numa_node", &line) && absl::SimpleAtoi(line, &numa) && numa >= 0) {
    props.numa_node = numa;
  }

  props.bandwidth_gbps = 0;
  int64_t mbit = 0;
  // "speed" reads -1 or fails (EINVAL) when the driver does not know it.
  if (ReadFirstLine(base + "/speed", &line) && absl::SimpleAtoi(line, &mbit) && mbit > 0) {
    props.bandwidth_gbps = static_cast<double>(mbit) / 1000.0;
  }

  // Rough one-way small-message latency through the kernel TCP stack.
  props.latency_us = loopback ? 5.0 : 20.0;
  props.rail = rail;
  props.mem_kinds = MC_MEM_KIND_BIT(MC_MEM_HOST);
  props.same_host_only = 0;
  props.max_message_bytes = max_message;
  return props;
}

}  // namespace mc::tcp
