// Logging for the core. MC_LOG_LEVEL sets the threshold (default warn).
//   MC_LOG(INFO) << "chose shm for rank " << r;
#ifndef MOONCOMM_SRC_COMMON_LOG_H_
#define MOONCOMM_SRC_COMMON_LOG_H_

#include <sstream>

#include "mooncomm/log.h"
#include "mooncomm/plugin_abi.h"

namespace mc {

void SetLogThreshold(mc_log_level_t level);
// The rank shown in log lines once known (-1 before).
void SetLogRank(int rank);

// Binds looser than << and tighter than ?:, so MC_LOG is one expression.
struct LogVoidify {
  void operator&(std::ostream&) {}
};

class LogMessage {
 public:
  explicit LogMessage(mc_log_level_t level) : level_(level) {}
  ~LogMessage() { LogLine(level_, stream_.str().c_str()); }
  std::ostream& stream() { return stream_; }

 private:
  mc_log_level_t level_;
  std::ostringstream stream_;
};

}  // namespace mc

#define MC_LOG_LEVEL_ERROR MC_LOG_ERROR
#define MC_LOG_LEVEL_WARN MC_LOG_WARN
#define MC_LOG_LEVEL_INFO MC_LOG_INFO
#define MC_LOG_LEVEL_DEBUG MC_LOG_DEBUG
#define MC_LOG_LEVEL_TRACE MC_LOG_TRACE
#define MC_LOG(severity)                                                     \
  (MC_LOG_LEVEL_##severity > ::mc::LogThreshold())                          \
      ? (void)0                                                              \
      : ::mc::LogVoidify() & ::mc::LogMessage(MC_LOG_LEVEL_##severity).stream()

#endif  // MOONCOMM_SRC_COMMON_LOG_H_
