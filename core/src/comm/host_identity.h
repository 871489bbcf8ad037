#ifndef MOONCOMM_SRC_COMM_HOST_IDENTITY_H_
#define MOONCOMM_SRC_COMM_HOST_IDENTITY_H_

#include <string>

#include "absl/status/statusor.h"

namespace mc {

// Who we share memory with: MC_HOST_ID if set, else "<hostname>/<boot id>"
// (the boot id tells two containers with one hostname apart from one machine).
absl::StatusOr<std::string> HostIdentity();

}  // namespace mc

#endif  // MOONCOMM_SRC_COMM_HOST_IDENTITY_H_
