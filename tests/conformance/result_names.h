// Names of the ABI's codes, for failure messages. The suite uses only the ABI
// header, so that it can test an out-of-tree plugin exactly as the core sees it.
#ifndef MOONCOMM_TESTS_CONFORMANCE_RESULT_NAMES_H_
#define MOONCOMM_TESTS_CONFORMANCE_RESULT_NAMES_H_

#include <string>

#include "mooncomm/plugin_abi.h"

namespace mc::conformance {

// "MC_ERR_PEER_LOST"; an unknown value prints as "mc_result_t(42)".
std::string ResultName(mc_result_t result);

// An error code: neither MC_SUCCESS nor MC_AGAIN (which invites a retry).
inline bool IsError(mc_result_t result) { return result != MC_SUCCESS && result != MC_AGAIN; }

}  // namespace mc::conformance

#endif  // MOONCOMM_TESTS_CONFORMANCE_RESULT_NAMES_H_
