/* A plugin from a future MoonComm: it exports mc_plugin_v7 and nothing older. */
#include <stdint.h>

typedef struct future_plugin {
  uint32_t abi_version;
  const char* name;
} future_plugin_t;

__attribute__((visibility("default"))) const future_plugin_t mc_plugin_v7 = {7, "future"};
