// UCX status codes in MoonComm's terms.
#ifndef MOONCOMM_PLUGINS_UCX_UCX_STATUS_H_
#define MOONCOMM_PLUGINS_UCX_UCX_STATUS_H_

#include <ucs/type/status.h>

#include "mooncomm/plugin_abi.h"

namespace mc::ucx {

// The outcome of a UCX operation as a completion status: a dead or
// unreachable peer is MC_ERR_PEER_LOST, a cancelled operation MC_ERR_CLOSED.
mc_result_t ResultFromUcs(ucs_status_t status);

}  // namespace mc::ucx

#endif  // MOONCOMM_PLUGINS_UCX_UCX_STATUS_H_
