#include "ucx_tls.h"

#include <sstream>
#include <string>

namespace mc::ucx {
namespace {

bool IsHostLocalTransport(const std::string& name) {
  static const char* const kLocal[] = {"posix", "sysv", "cma", "knem", "xpmem", "self", "sm", "shm", "mm",
                                       "cuda_ipc", "cuda_copy", "rocm_ipc", "rocm_copy", "gdr_copy"};
  for (const char* local : kLocal) {
    if (name == local) return true;
  }
  return false;
}

}  // namespace

bool OnlyHostLocalTransports(const char* ucx_tls) {
  if (ucx_tls == nullptr || *ucx_tls == '\0' || *ucx_tls == '^') return false;
  std::stringstream list(ucx_tls);
  std::string name;
  bool any = false;
  while (std::getline(list, name, ',')) {
    if (name.empty()) continue;
    if (!IsHostLocalTransport(name)) return false;
    any = true;
  }
  return any;
}

bool WorthRunning(const char* ucx_tls, bool has_rdma_device) {
  return (ucx_tls != nullptr && *ucx_tls != '\0') || has_rdma_device;
}

}  // namespace mc::ucx
