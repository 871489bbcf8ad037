#include "gid_choice.h"

namespace mc::rdma {
namespace {

// Higher is better; 0: never chosen automatically.
int Preference(const GidEntry& e) {
  const bool v2 = e.type == "RoCE v2";
  const bool v1 = e.type == "IB/RoCE v1";
  if (v2 && IsIpv4MappedGid(e.gid)) return 6;
  if (v2 && !IsLinkLocalGid(e.gid)) return 5;
  if (v2) return 4;
  if (!v1 && IsIpv4MappedGid(e.gid)) return 3;  // unknown type (an old kernel)
  if (!v1) return 2;
  return 1;
}

std::string Indexes(const std::vector<GidEntry>& table) {
  std::string out;
  for (const GidEntry& e : table) out += (out.empty() ? "" : ", ") + std::to_string(e.index);
  return out.empty() ? "none" : out;
}

}  // namespace

StatusOr<GidEntry> ChooseGid(const std::vector<GidEntry>& table, bool ethernet, int requested,
                             const std::string& where) {
  if (requested >= 0) {
    for (const GidEntry& e : table) {
      if (e.index == requested) return e;
    }
    return InvalidArgument("MC_RDMA_GID_INDEX=" + std::to_string(requested) + ": " + where +
                           " has no GID at that index (populated: " + Indexes(table) + ")");
  }
  if (!ethernet) {
    for (const GidEntry& e : table) {
      if (e.index == 0) return e;
    }
    // InfiniBand routes by LID within a subnet; a zero GID is fine there.
    GidEntry none;
    none.index = 0;
    return none;
  }
  const GidEntry* best = nullptr;
  for (const GidEntry& e : table) {
    if (best == nullptr || Preference(e) > Preference(*best)) best = &e;
  }
  if (best == nullptr) {
    return NoDevice(where + " is RoCE but has no usable GID (is an IP address configured on its netdev?)");
  }
  return *best;
}

}  // namespace mc::rdma
