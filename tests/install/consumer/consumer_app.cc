// Links the installed libmooncomm and uses its public API.
#include <cstdio>

#include "mooncomm/config.h"
#include "mooncomm/status.h"

int main() {
  absl::StatusOr<absl::Duration> timeout = mc::config::Timeout();
  if (!timeout.ok()) return 1;
  std::printf("MC_TIMEOUT_MS=%lld\n", static_cast<long long>(absl::ToInt64Milliseconds(*timeout)));
  return mc::FailedPeerOf(mc::PeerFailedError(3, "test")) == 3 ? 0 : 1;
}
