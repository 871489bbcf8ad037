#include "mooncomm/status.h"

#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"

namespace mc {
namespace {
constexpr char kPeerPayloadUrl[] = "mooncomm.dev/failed-peer-rank";
}  // namespace

absl::Status PeerFailedError(int rank, std::string_view detail) {
  absl::Status status = absl::UnavailableError(absl::StrCat("peer rank ", rank, " failed: ", ToAbsl(detail)));
  status.SetPayload(kPeerPayloadUrl, absl::Cord(absl::StrCat(rank)));
  return status;
}

std::optional<int> FailedPeerOf(const absl::Status& status) {
  absl::optional<absl::Cord> payload = status.GetPayload(kPeerPayloadUrl);
  if (!payload) return std::nullopt;
  int rank = -1;
  if (!absl::SimpleAtoi(std::string(*payload), &rank)) return std::nullopt;
  return rank;
}

const char* ResultName(mc_result_t result) {
  switch (result) {
    case MC_SUCCESS: return "MC_SUCCESS";
    case MC_AGAIN: return "MC_AGAIN";
    case MC_ERR_INVALID_ARG: return "MC_ERR_INVALID_ARG";
    case MC_ERR_UNSUPPORTED: return "MC_ERR_UNSUPPORTED";
    case MC_ERR_NO_DEVICE: return "MC_ERR_NO_DEVICE";
    case MC_ERR_NO_MEMORY: return "MC_ERR_NO_MEMORY";
    case MC_ERR_TRUNCATED: return "MC_ERR_TRUNCATED";
    case MC_ERR_PEER_LOST: return "MC_ERR_PEER_LOST";
    case MC_ERR_CLOSED: return "MC_ERR_CLOSED";
    case MC_ERR_TIMEOUT: return "MC_ERR_TIMEOUT";
    case MC_ERR_PROTOCOL: return "MC_ERR_PROTOCOL";
    case MC_ERR_ACCESS: return "MC_ERR_ACCESS";
    case MC_ERR_INTERNAL: return "MC_ERR_INTERNAL";
  }
  return "MC_ERR_UNKNOWN";
}

absl::Status StatusFromResult(mc_result_t result, std::string_view context) {
  std::string message = absl::StrCat(ToAbsl(context), ": ", ResultName(result));
  switch (result) {
    case MC_SUCCESS: return absl::OkStatus();
    case MC_AGAIN: return absl::UnavailableError(message);
    case MC_ERR_INVALID_ARG: return absl::InvalidArgumentError(message);
    case MC_ERR_UNSUPPORTED: return absl::UnimplementedError(message);
    case MC_ERR_NO_DEVICE: return absl::FailedPreconditionError(message);
    case MC_ERR_NO_MEMORY: return absl::ResourceExhaustedError(message);
    case MC_ERR_TRUNCATED: return absl::OutOfRangeError(message);
    case MC_ERR_PEER_LOST: return absl::UnavailableError(message);
    case MC_ERR_CLOSED: return absl::CancelledError(message);
    case MC_ERR_TIMEOUT: return absl::DeadlineExceededError(message);
    case MC_ERR_PROTOCOL: return absl::DataLossError(message);
    case MC_ERR_ACCESS: return absl::PermissionDeniedError(message);
    case MC_ERR_INTERNAL: return absl::InternalError(message);
  }
  return absl::UnknownError(message);
}

}  // namespace mc
