#include "transports/builtin.h"

namespace mc {

std::span<const mc_plugin_v1_t* const> BuiltinPlugins() {
  static const mc_plugin_v1_t* const kPlugins[] = {&mc_builtin_shm_plugin, &mc_builtin_tcp_plugin};
  return kPlugins;
}

}  // namespace mc
