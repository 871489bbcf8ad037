// Which GID a port's queue pairs use. RoCE needs one (it is the address on
// the Ethernet/IP network); InfiniBand uses it only across subnets.
#ifndef MOONCOMM_PLUGINS_RDMA_VERBS_GID_CHOICE_H_
#define MOONCOMM_PLUGINS_RDMA_VERBS_GID_CHOICE_H_

#include <string>
#include <vector>

#include "status.h"
#include "sysfs.h"

namespace mc::rdma {

// `table` is the port's populated GID entries; `requested` is
// MC_RDMA_GID_INDEX (-1: choose); `where` names the port in messages
// ("mlx5_0 port 1"). Automatic choice on Ethernet prefers, in this order:
// RoCE v2 with an IPv4-mapped address, RoCE v2 with a global IPv6 address,
// RoCE v2 link-local, then entries of unknown type, then RoCE v1 -- the
// lowest index among equals. On InfiniBand it is index 0 (the port GID).
StatusOr<GidEntry> ChooseGid(const std::vector<GidEntry>& table, bool ethernet, int requested,
                             const std::string& where);

}  // namespace mc::rdma

#endif  // MOONCOMM_PLUGINS_RDMA_VERBS_GID_CHOICE_H_
