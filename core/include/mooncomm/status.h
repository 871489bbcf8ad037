// Errors in MoonComm's C++ API are absl::Status values. A status that is
// about a lost peer carries that peer's rank, so callers can tell which rank
// failed without parsing the message.
#ifndef MOONCOMM_STATUS_H_
#define MOONCOMM_STATUS_H_

#include <optional>
#include <string_view>

#include "absl/status/status.h"
#include "mooncomm/plugin_abi.h"

namespace mc {

// kUnavailable status naming `rank`: "peer rank 3 failed: connection reset".
absl::Status PeerFailedError(int rank, std::string_view detail);

// The rank a PeerFailedError names, or nullopt for any other status.
std::optional<int> FailedPeerOf(const absl::Status& status);

// "MC_ERR_PEER_LOST" and so on.
const char* ResultName(mc_result_t result);

// Maps a plugin's result code to a status whose message starts with `context`.
absl::Status StatusFromResult(mc_result_t result, std::string_view context);

}  // namespace mc

#endif  // MOONCOMM_STATUS_H_
