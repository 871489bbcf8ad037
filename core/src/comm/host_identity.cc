#include "comm/host_identity.h"

#include <unistd.h>

#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "mooncomm/config.h"

namespace mc {

absl::StatusOr<std::string> HostIdentity() {
  absl::StatusOr<std::string> configured = config::GetString("MC_HOST_ID");
  if (!configured.ok()) return configured.status();
  if (!configured->empty()) return *configured;

  char hostname[256] = {};
  if (gethostname(hostname, sizeof(hostname) - 1) != 0) hostname[0] = '\0';
  std::string boot_id;
  std::ifstream in("/proc/sys/kernel/random/boot_id");
  std::getline(in, boot_id);
  return absl::StrCat(hostname, "/", absl::StripAsciiWhitespace(boot_id));
}

}  // namespace mc
