// The tcp transport's parameters (MC_TCP_*): their declarations for the
// plugin struct, and reading + validating them through the host table.
#ifndef MOONCOMM_SRC_TRANSPORTS_TCP_TCP_PARAMS_H_
#define MOONCOMM_SRC_TRANSPORTS_TCP_TCP_PARAMS_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "mooncomm/plugin_abi.h"

namespace mc::tcp {

extern const mc_param_v1_t kTcpParams[];
extern const size_t kNumTcpParams;

struct TcpConfig {
  std::string interfaces;     // MC_TCP_IF: "" (choose) or a comma list of interface names
  uint64_t eager_limit = 0;   // MC_TCP_EAGER_LIMIT: larger messages use rendezvous
  uint64_t max_message = 0;   // MC_TCP_MAX_MESSAGE: the largest message or put
  uint32_t user_timeout_ms = 0;  // MC_TCP_USER_TIMEOUT_MS: a silent peer is lost after this
};

// Reads every parameter through host.get_param. A value that does not parse
// or is out of range is InvalidArgument naming the variable and the value.
absl::StatusOr<TcpConfig> ReadTcpConfig(const mc_host_v1_t& host);

}  // namespace mc::tcp

#endif  // MOONCOMM_SRC_TRANSPORTS_TCP_TCP_PARAMS_H_
