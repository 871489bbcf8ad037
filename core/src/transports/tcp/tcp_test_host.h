// Test support for the tcp transport's unit tests: a host table backed by a
// map of params, and helpers that drive the plugin through its C ABI with a
// deadline on every wait.
#ifndef MOONCOMM_SRC_TRANSPORTS_TCP_TCP_TEST_HOST_H_
#define MOONCOMM_SRC_TRANSPORTS_TCP_TCP_TEST_HOST_H_

#include <chrono>
#include <initializer_list>
#include <map>
#include <string>
#include <vector>

#include "mooncomm/plugin_abi.h"

extern "C" const mc_plugin_v1_t mc_builtin_tcp_plugin;

namespace mc::tcp::testing {

inline const mc_transport_v1_t& Ops() { return *mc_builtin_tcp_plugin.transport; }
inline const mc_memory_v1_t& Mem() { return *mc_builtin_tcp_plugin.memory; }

struct ReportedFailure {
  void* ep;
  mc_result_t reason;
  std::string detail;
};

class TestHost {
 public:
  // Params not set here read as their declared defaults (IF defaults to "lo"
  // so that tests do not depend on the machine's interfaces).
  TestHost();
  void Set(const std::string& name, const std::string& value) { params_[name] = value; }
  const mc_host_v1_t* table() const { return &table_; }
  const std::vector<ReportedFailure>& failures() const { return failures_; }
  int FailuresOf(void* ep) const;

 private:
  static void LogLine(void* ctx, mc_log_level_t level, const char* message);
  static mc_result_t GetParam(void* ctx, const char* name, char* value, size_t value_len);
  static void PeerFailed(void* ctx, void* ep, mc_result_t reason, const char* detail);

  mc_host_v1_t table_;
  std::map<std::string, std::string> params_;
  std::vector<ReportedFailure> failures_;
};

// init through the ABI; the error text lands in *err.
mc_result_t InitTcp(const TestHost& host, void** ctx, std::string* err = nullptr);

using Clock = std::chrono::steady_clock;
inline constexpr std::chrono::seconds kWait{20};

// Tests `req` (progressing `others` too) until it is done or the deadline
// passes; a timeout is a test failure and reads as MC_ERR_TIMEOUT.
mc_completion_v1_t WaitFor(void* req, std::initializer_list<void*> others = {},
                           std::chrono::milliseconds limit = kWait);

// Progresses `ctxs` until `done()` holds or the deadline passes.
template <typename Pred>
bool ProgressUntil(std::initializer_list<void*> ctxs, Pred done, std::chrono::milliseconds limit = kWait) {
  auto deadline = Clock::now() + limit;
  while (!done()) {
    if (Clock::now() > deadline) return false;
    for (void* ctx : ctxs) Ops().progress(ctx);
  }
  return true;
}

struct ListenAddress {
  void* listener = nullptr;
  std::vector<uint8_t> addr;
};
ListenAddress ListenOn(void* ctx, int dev = 0);

// Accepts one connection on `listener` (progressing `others`), or null on timeout.
void* AcceptOne(void* listener, std::initializer_list<void*> others, std::string* hello = nullptr);

// A connected pair of endpoints between two contexts of this process.
struct Pair {
  void* client = nullptr;  // the connecting side, on ctx_a
  void* server = nullptr;  // the accepting side, on ctx_b
};
Pair ConnectPair(void* ctx_a, void* ctx_b, const std::string& hello = "hi");

}  // namespace mc::tcp::testing

#endif  // MOONCOMM_SRC_TRANSPORTS_TCP_TCP_TEST_HOST_H_
