#include "ucx_status.h"

namespace mc::ucx {

mc_result_t ResultFromUcs(ucs_status_t status) {
  switch (status) {
    case UCS_OK:
      return MC_SUCCESS;
    case UCS_INPROGRESS:
      return MC_AGAIN;
    case UCS_ERR_MESSAGE_TRUNCATED:
      return MC_ERR_TRUNCATED;
    case UCS_ERR_CANCELED:
      return MC_ERR_CLOSED;
    case UCS_ERR_NO_MEMORY:
    case UCS_ERR_EXCEEDS_LIMIT:
      return MC_ERR_NO_MEMORY;
    case UCS_ERR_INVALID_PARAM:
    case UCS_ERR_INVALID_ADDR:
      return MC_ERR_INVALID_ARG;
    case UCS_ERR_UNSUPPORTED:
      return MC_ERR_UNSUPPORTED;
    case UCS_ERR_NO_DEVICE:
      return MC_ERR_NO_DEVICE;
    case UCS_ERR_TIMED_OUT:
      return MC_ERR_TIMEOUT;
    case UCS_ERR_NO_RESOURCE:
      return MC_AGAIN;
    case UCS_ERR_CONNECTION_RESET:
    case UCS_ERR_ENDPOINT_TIMEOUT:
    case UCS_ERR_UNREACHABLE:
    case UCS_ERR_REJECTED:
    case UCS_ERR_NOT_CONNECTED:
    case UCS_ERR_IO_ERROR:
    case UCS_ERR_SOME_CONNECTS_FAILED:
      return MC_ERR_PEER_LOST;
    default:
      return MC_ERR_INTERNAL;
  }
}

}  // namespace mc::ucx
