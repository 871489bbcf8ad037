// The host table the suite hands a plugin at init: log lines go to stderr,
// params come from the environment (MC_<PLUGIN>_<NAME>) or their declared
// default, and peer failures are recorded for the cases to check. Contract
// breaches seen in the callbacks (an undeclared param, a bad reason code, a
// second failure report for one endpoint) are recorded as problems.
#ifndef MOONCOMM_TESTS_CONFORMANCE_TEST_HOST_H_
#define MOONCOMM_TESTS_CONFORMANCE_TEST_HOST_H_

#include <mutex>
#include <string>
#include <vector>

#include "deadline.h"
#include "mooncomm/plugin_abi.h"

namespace mc::conformance {

struct PeerFailure {
  void* ep = nullptr;
  mc_result_t reason = MC_SUCCESS;
  std::string detail;
  Clock::time_point when;
  bool ep_closed_since = false;  // the endpoint was closed after this report
};

class TestHost {
 public:
  explicit TestHost(const mc_plugin_v1_t* plugin);
  ~TestHost();
  TestHost(const TestHost&) = delete;
  TestHost& operator=(const TestHost&) = delete;

  const mc_host_v1_t* table() const { return &table_; }

  // Thread-safe snapshots: a plugin may report failures from its own threads.
  std::vector<PeerFailure> failures() const;
  std::vector<PeerFailure> FailuresOf(void* ep) const;
  std::vector<std::string> problems() const;

  // The session tells the host which endpoints exist, so that a failure
  // reported for a closed endpoint (or twice for one) is caught; an address
  // may be reused by a later endpoint.
  void EndpointOpened(void* ep);
  void EndpointClosed(void* ep);

  // "MC_TCP_EAGER_LIMIT" for plugin "tcp" and param "eager_limit".
  static std::string EnvName(const char* plugin_name, const char* param_name);

 private:
  static void Log(void* ctx, mc_log_level_t level, const char* message);
  static mc_result_t GetParam(void* ctx, const char* name, char* value, size_t value_len);
  static void PeerFailed(void* ctx, void* ep, mc_result_t reason, const char* detail);
  // The live host `ctx` points to, or nullptr (the plugin passed a wrong ctx).
  static TestHost* FromCtx(void* ctx, const char* callback);

  void AddProblem(std::string problem);

  const mc_plugin_v1_t* plugin_;
  mc_host_v1_t table_;
  mc_log_level_t log_threshold_;
  mutable std::mutex mu_;
  std::vector<PeerFailure> failures_;
  std::vector<void*> closed_eps_;
  std::vector<std::string> problems_;
};

}  // namespace mc::conformance

#endif  // MOONCOMM_TESTS_CONFORMANCE_TEST_HOST_H_
