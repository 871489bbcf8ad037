// Names of the collectives, as MC_TUNE, tuning files and mc_perf spell them.
#include <array>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "mooncomm/collectives.h"

namespace mc {
namespace {

constexpr std::array<const char*, kNumCollectiveKinds> kNames = {
    "allreduce", "allgather", "allgatherv", "reduce_scatter", "broadcast", "reduce",
    "alltoall",  "alltoallv", "gather",     "scatter",        "barrier",   "sendrecv",
};

}  // namespace

const char* CollectiveName(CollectiveKind kind) {
  auto i = static_cast<size_t>(kind);
  return i < kNames.size() ? kNames[i] : "unknown";
}

absl::StatusOr<CollectiveKind> ParseCollective(std::string_view name) {
  for (size_t i = 0; i < kNames.size(); ++i) {
    if (name == kNames[i]) return static_cast<CollectiveKind>(i);
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown collective '", absl::string_view(name.data(), name.size()),
                                                 "' (expected one of ", absl::StrJoin(kNames, ", "), ")"));
}

}  // namespace mc
