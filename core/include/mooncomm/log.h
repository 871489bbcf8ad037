// MoonComm's log, for the layers above the core (algorithms, consumers):
// the same lines, threshold (MC_LOG_LEVEL) and rank prefix as the core's.
#ifndef MOONCOMM_LOG_H_
#define MOONCOMM_LOG_H_

#include "mooncomm/plugin_abi.h"

namespace mc {

// MC_LOG_LEVEL (default warn).
mc_log_level_t LogThreshold();
// Writes one line to stderr: "[mooncomm rank 2 WARN] message".
void LogLine(mc_log_level_t level, const char* message);

}  // namespace mc

#endif  // MOONCOMM_LOG_H_
