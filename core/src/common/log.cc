#include "common/log.h"

#include <atomic>
#include <cstdio>
#include <string>

#include "mooncomm/config.h"

namespace mc {
namespace {

constexpr int kUnset = -1;
std::atomic<int> g_threshold{kUnset};
std::atomic<int> g_rank{-1};

const char* LevelName(mc_log_level_t level) {
  switch (level) {
    case MC_LOG_ERROR: return "ERROR";
    case MC_LOG_WARN: return "WARN";
    case MC_LOG_INFO: return "INFO";
    case MC_LOG_DEBUG: return "DEBUG";
    case MC_LOG_TRACE: return "TRACE";
  }
  return "?";
}

}  // namespace

mc_log_level_t LogThreshold() {
  int level = g_threshold.load(std::memory_order_relaxed);
  if (level == kUnset) {
    // A bad MC_LOG_LEVEL is reported by config validation; logging keeps the default.
    absl::StatusOr<mc_log_level_t> parsed = config::LogLevel();
    level = parsed.ok() ? *parsed : MC_LOG_WARN;
    g_threshold.store(level, std::memory_order_relaxed);
  }
  return static_cast<mc_log_level_t>(level);
}

void SetLogThreshold(mc_log_level_t level) { g_threshold.store(level, std::memory_order_relaxed); }
void SetLogRank(int rank) { g_rank.store(rank, std::memory_order_relaxed); }

void LogLine(mc_log_level_t level, const char* message) {
  int rank = g_rank.load(std::memory_order_relaxed);
  std::string prefix = rank >= 0 ? "[mooncomm rank " + std::to_string(rank) + " " : "[mooncomm ";
  std::fprintf(stderr, "%s%s] %s\n", prefix.c_str(), LevelName(level), message);
}

}  // namespace mc
