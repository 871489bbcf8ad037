// Whether this host has an RDMA device at all, the cheap way: every RDMA
// device (InfiniBand, RoCE, EFA) has an entry in /sys/class/infiniband. The
// plugins' loaders (lazy_plugin.h) ask this before loading a fabric library.
#ifndef MOONCOMM_PLUGINS_RDMA_SYSFS_H_
#define MOONCOMM_PLUGINS_RDMA_SYSFS_H_

#include <dirent.h>

#include <cstring>

namespace mc::plugins {

inline constexpr const char* kRdmaSysfsDir = "/sys/class/infiniband";

// True when `dir` (normally kRdmaSysfsDir) has at least one entry.
inline bool HasRdmaDevice(const char* dir = kRdmaSysfsDir) {
  DIR* d = opendir(dir);
  if (d == nullptr) return false;
  bool any = false;
  while (const dirent* entry = readdir(d)) {
    if (std::strcmp(entry->d_name, ".") != 0 && std::strcmp(entry->d_name, "..") != 0) {
      any = true;
      break;
    }
  }
  closedir(d);
  return any;
}

}  // namespace mc::plugins

#endif  // MOONCOMM_PLUGINS_RDMA_SYSFS_H_
