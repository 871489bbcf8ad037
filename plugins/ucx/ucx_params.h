// The plugin's MC_UCX_* parameters and reading them through the host table.
// UCX's own settings (UCX_TLS, UCX_NET_DEVICES, ...) are read by UCX itself
// from the environment.
#ifndef MOONCOMM_PLUGINS_UCX_UCX_PARAMS_H_
#define MOONCOMM_PLUGINS_UCX_UCX_PARAMS_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "mooncomm/plugin_abi.h"

namespace mc::ucx {

inline constexpr mc_param_v1_t kUcxParams[] = {
    {"IF", MC_PARAM_STRING, "",
     "network interface of the side connection used for the handshake and liveness (default: the first up "
     "non-loopback IPv4 interface, else lo)"},
    {"CONNECT_TIMEOUT_MS", MC_PARAM_INT, "30000",
     "a connection whose handshake has not finished after this many milliseconds fails"},
    {"PEER_TIMEOUT_MS", MC_PARAM_INT, "30000",
     "a peer whose host stops answering on the side connection for this long is lost (TCP keepalive)"},
    {"ERROR_MODE", MC_PARAM_STRING, "auto",
     "UCP error handling: peer (UCX reports failures; UCX 1.13 then skips shared memory), none, or auto (none "
     "when UCX_TLS names only shared-memory transports, else peer)"},
};
inline constexpr size_t kNumUcxParams = sizeof(kUcxParams) / sizeof(kUcxParams[0]);

enum class ErrorMode { kAuto, kPeer, kNone };

struct UcxConfig {
  std::string interface;                 // MC_UCX_IF: "" picks one
  int connect_timeout_ms = 0;            // MC_UCX_CONNECT_TIMEOUT_MS
  int peer_timeout_ms = 0;               // MC_UCX_PEER_TIMEOUT_MS
  ErrorMode error_mode = ErrorMode::kAuto;  // MC_UCX_ERROR_MODE
};

// False, with `why` naming the parameter, when a value is unusable.
bool ReadUcxConfig(const mc_host_v1_t& host, UcxConfig* config, std::string* why);

}  // namespace mc::ucx

#endif  // MOONCOMM_PLUGINS_UCX_UCX_PARAMS_H_
