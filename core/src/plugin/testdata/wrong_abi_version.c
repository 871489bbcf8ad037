/* Exports mc_plugin_v1, but the struct's abi_version field says 2. */
#include "mooncomm/plugin_abi.h"

__attribute__((visibility("default"))) const mc_plugin_v1_t mc_plugin_v1 = {
    .abi_version = 2,
    .name = "wrongabi",
    .version = "0",
};
