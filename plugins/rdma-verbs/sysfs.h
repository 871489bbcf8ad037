// What the kernel tells about an RDMA device under /sys/class/infiniband:
// the GID table with each entry's type and netdev, the PCI device and its
// NUMA node. The root is a parameter so tests can point it at a fake tree.
#ifndef MOONCOMM_PLUGINS_RDMA_VERBS_SYSFS_H_
#define MOONCOMM_PLUGINS_RDMA_VERBS_SYSFS_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mc::rdma {

using Gid = std::array<uint8_t, 16>;

// One populated entry of a port's GID table.
struct GidEntry {
  int index = 0;
  Gid gid{};
  std::string type;  // "RoCE v2", "IB/RoCE v1", or "" when the kernel does not say
  std::string ndev;  // the netdev the entry belongs to (RoCE), "" when none
};

class SysfsInfiniband {
 public:
  static constexpr const char* kDefaultRoot = "/sys/class/infiniband";

  explicit SysfsInfiniband(std::string root = kDefaultRoot) : root_(std::move(root)) {}

  const std::string& root() const { return root_; }
  // Device names (directory entries under the root), sorted; empty when the root is absent.
  std::vector<std::string> DeviceNames() const;
  // Non-zero GIDs of a port, by index.
  std::vector<GidEntry> GidTable(const std::string& dev, int port) const;
  // The resolved sysfs path of the device's PCI function, "" when none.
  std::string PciPath(const std::string& dev) const;
  // -1 when unknown.
  int NumaNode(const std::string& dev) const;
  // The netdev of a RoCE port ("" for InfiniBand or when unknown).
  std::string PortNetdev(const std::string& dev, int port) const;

 private:
  std::string root_;
};

// "fe80:0000:0000:0000:0202:c9ff:fe00:0001" (8 groups of hex digits) to bytes.
std::optional<Gid> ParseGid(const std::string& text);
std::string FormatGid(const Gid& gid);
bool IsZeroGid(const Gid& gid);
// ::ffff:a.b.c.d, the GID RoCE v2 derives from an IPv4 address.
bool IsIpv4MappedGid(const Gid& gid);
bool IsLinkLocalGid(const Gid& gid);

}  // namespace mc::rdma

#endif  // MOONCOMM_PLUGINS_RDMA_VERBS_SYSFS_H_
