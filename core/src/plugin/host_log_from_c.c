/* Test helper for transport_test.cc: in C, an enum parameter may carry any
 * int, which is what the core must survive from a plugin. */
#include "mooncomm/plugin_abi.h"

void mc_test_log_with_int_level(const mc_host_v1_t* host, int level, const char* message) {
  host->log(host->ctx, (mc_log_level_t)level, message);
}
