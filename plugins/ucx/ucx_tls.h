// What UCX_TLS says about the transports UCX may use.
#ifndef MOONCOMM_PLUGINS_UCX_UCX_TLS_H_
#define MOONCOMM_PLUGINS_UCX_UCX_TLS_H_

#include "rdma_sysfs.h"

namespace mc::ucx {

// True when `ucx_tls` (UCX_TLS as UCX reads it: a comma list, "^" in front
// excludes, unset or empty is "all") names only transports that reach
// processes of this host: shared memory, CMA, "self" and the like.
bool OnlyHostLocalTransports(const char* ucx_tls);

using ::mc::plugins::HasRdmaDevice;
using ::mc::plugins::kRdmaSysfsDir;

// Whether the plugin should run at all: when UCX_TLS is set (the user chose
// UCX's transports: "UCX_TLS=all" keeps UCX's own choice), or when an RDMA
// device exists. Otherwise UCX would only run over TCP and shared memory,
// which the built-in tcp and shm transports cover: init then answers
// MC_ERR_NO_DEVICE, so MC_TRANSPORT=auto does not open UCX (its memory hooks,
// its threads) in every process for nothing.
bool WorthRunning(const char* ucx_tls, bool has_rdma_device);

// init's answer (MC_ERR_NO_DEVICE) when WorthRunning is false.
inline constexpr const char* kNotWorthRunning =
    "UCX_TLS is not set and there is no RDMA device (/sys/class/infiniband is absent or empty): UCX would only run "
    "over TCP and shared memory, which the built-in tcp and shm transports cover, so MC_TRANSPORT=auto leaves ucx "
    "out; set UCX_TLS (UCX_TLS=tcp, UCX_TLS=posix,cma,sysv, or UCX_TLS=all for UCX's own choice) to use it anyway";

}  // namespace mc::ucx

#endif  // MOONCOMM_PLUGINS_UCX_UCX_TLS_H_
