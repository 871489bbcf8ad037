#include "plugin_log.h"

#include <cstdarg>
#include <cstdio>

namespace mc::efa {

void Logger::operator()(mc_log_level_t level, const char* format, ...) const {
  if (host_.log == nullptr) return;
  char line[1024];
  va_list args;
  va_start(args, format);
  std::vsnprintf(line, sizeof(line), format, args);
  va_end(args);
  host_.log(host_.ctx, level, line);
}

}  // namespace mc::efa
