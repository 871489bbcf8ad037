// The transports compiled into libmooncomm. They implement the same C plugin
// ABI as external plugins and are registered here, statically, so that every
// test of the core exercises the ABI.
#ifndef MOONCOMM_SRC_TRANSPORTS_BUILTIN_H_
#define MOONCOMM_SRC_TRANSPORTS_BUILTIN_H_

#include <span>

#include "mooncomm/plugin_abi.h"

extern "C" {
extern const mc_plugin_v1_t mc_builtin_tcp_plugin;
extern const mc_plugin_v1_t mc_builtin_shm_plugin;
}

namespace mc {

// In the order `MC_TRANSPORT=auto` prefers them (nearest first).
std::span<const mc_plugin_v1_t* const> BuiltinPlugins();

}  // namespace mc

#endif  // MOONCOMM_SRC_TRANSPORTS_BUILTIN_H_
