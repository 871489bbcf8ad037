#include "result_names.h"

namespace mc::conformance {

std::string ResultName(mc_result_t result) {
  switch (result) {
    case MC_SUCCESS:
      return "MC_SUCCESS";
    case MC_AGAIN:
      return "MC_AGAIN";
    case MC_ERR_INVALID_ARG:
      return "MC_ERR_INVALID_ARG";
    case MC_ERR_UNSUPPORTED:
      return "MC_ERR_UNSUPPORTED";
    case MC_ERR_NO_DEVICE:
      return "MC_ERR_NO_DEVICE";
    case MC_ERR_NO_MEMORY:
      return "MC_ERR_NO_MEMORY";
    case MC_ERR_TRUNCATED:
      return "MC_ERR_TRUNCATED";
    case MC_ERR_PEER_LOST:
      return "MC_ERR_PEER_LOST";
    case MC_ERR_CLOSED:
      return "MC_ERR_CLOSED";
    case MC_ERR_TIMEOUT:
      return "MC_ERR_TIMEOUT";
    case MC_ERR_PROTOCOL:
      return "MC_ERR_PROTOCOL";
    case MC_ERR_ACCESS:
      return "MC_ERR_ACCESS";
    case MC_ERR_INTERNAL:
      return "MC_ERR_INTERNAL";
  }
  return "mc_result_t(" + std::to_string(static_cast<int>(result)) + ")";
}

}  // namespace mc::conformance
