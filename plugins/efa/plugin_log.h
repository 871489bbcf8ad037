// Log lines through the host's logger, printf style.
#ifndef MOONCOMM_PLUGINS_EFA_PLUGIN_LOG_H_
#define MOONCOMM_PLUGINS_EFA_PLUGIN_LOG_H_

#include "mooncomm/plugin_abi.h"

namespace mc::efa {

class Logger {
 public:
  explicit Logger(const mc_host_v1_t& host) : host_(host) {}
  void operator()(mc_log_level_t level, const char* format, ...) const __attribute__((format(printf, 3, 4)));

 private:
  mc_host_v1_t host_;
};

}  // namespace mc::efa

#endif  // MOONCOMM_PLUGINS_EFA_PLUGIN_LOG_H_
