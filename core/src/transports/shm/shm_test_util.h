// Test support for the shm transport: a host table whose params and
// callbacks tests control, a blocking wrapper around one plugin context, and
// child processes that are always reaped (killed at a deadline).
#ifndef MOONCOMM_SRC_TRANSPORTS_SHM_SHM_TEST_UTIL_H_
#define MOONCOMM_SRC_TRANSPORTS_SHM_SHM_TEST_UTIL_H_

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "mooncomm/plugin_abi.h"
#include "transports/shm/context.h"

extern "C" const mc_plugin_v1_t mc_builtin_shm_plugin;

namespace mc::shm::testing {

using Params = std::map<std::string, std::string>;  // short name -> value, e.g. {"USE_CMA", "0"}

inline constexpr std::chrono::seconds kDeadline{20};

struct PeerFailure {
  void* ep;
  mc_result_t reason;
  std::string detail;
};

// The host table handed to init: params from a map (else the declared
// default), log lines kept (and echoed to stderr at warn and above),
// peer_failed calls recorded.
class TestHost {
 public:
  explicit TestHost(Params params = {});
  const mc_host_v1_t* host() const { return &host_; }
  const std::vector<PeerFailure>& failures() const { return failures_; }
  const std::vector<std::string>& log_lines() const { return log_lines_; }
  bool LogContains(const std::string& text) const;
  // Runs inside peer_failed, after the failure is recorded.
  std::function<void(void* ep)> on_failure;

 private:
  static void Log(void* ctx, mc_log_level_t level, const char* message);
  static mc_result_t GetParam(void* ctx, const char* name, char* value, size_t value_len);
  static void PeerFailed(void* ctx, void* ep, mc_result_t reason, const char* detail);

  Params params_;
  mc_host_v1_t host_;
  std::vector<PeerFailure> failures_;
  std::vector<std::string> log_lines_;
};

// One initialized plugin context with blocking helpers (every wait has a deadline).
class Peer {
 public:
  explicit Peer(Params params = {});
  ~Peer();
  Peer(const Peer&) = delete;
  Peer& operator=(const Peer&) = delete;

  bool ok() const { return ctx_ != nullptr; }
  const std::string& init_error() const { return init_error_; }
  void* ctx() const { return ctx_; }
  void* listener() const { return listener_; }
  const mc_transport_v1_t& t() const { return *mc_builtin_shm_plugin.transport; }
  const mc_memory_v1_t& mem() const { return *mc_builtin_shm_plugin.memory; }
  TestHost& host() { return host_; }
  // Which paths moved how many bytes in this context.
  const ShmStats& stats() const { return static_cast<Context*>(ctx_)->stats(); }

  // Listens and returns the address bytes.
  std::vector<uint8_t> Listen();
  // Accepts one connection (deadline); nullptr on failure.
  void* Accept(std::vector<uint8_t>* hello = nullptr);
  void* Connect(const std::vector<uint8_t>& addr, const std::vector<uint8_t>& hello = {});

  // Tests `req` until done or the deadline; false on timeout.
  bool Wait(void* req, mc_completion_v1_t* completion);
  // isend / irecv and wait. The result is the post's error or the completion's status.
  mc_result_t Send(void* ep, uint64_t tag, const void* buf, size_t len);
  mc_result_t Recv(void* ep, uint64_t tag, void* buf, size_t len, mc_completion_v1_t* completion = nullptr);
  // Polls until a notification arrives (deadline); the result is the last poll's.
  mc_result_t WaitNotification(void* ep, mc_notification_v1_t* notification);
  // Calls progress until `done()` or the deadline.
  bool ProgressUntil(const std::function<bool()>& done);

 private:
  TestHost host_;
  void* ctx_ = nullptr;
  void* listener_ = nullptr;
  std::string init_error_;
};

// Busy-wait loops in tests call this: two spinning processes on a small,
// busy CI machine must not starve each other.
void YieldIfCrowded();

// Deterministic test data: byte i of stream `seed`.
void FillPattern(uint8_t* buf, size_t len, uint64_t seed);
// Index of the first byte that differs from the pattern, or -1.
int64_t FirstMismatch(const uint8_t* buf, size_t len, uint64_t seed);

// A forked child running `body`; its return value is the exit code. The
// destructor kills and reaps a child that is still running.
class ChildProcess {
 public:
  explicit ChildProcess(const std::function<int()>& body);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  // The exit code, or -1 on timeout (then the child is killed), or 128+signal.
  int Wait(std::chrono::milliseconds timeout = kDeadline);
  void Kill();

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  int status_ = 0;
};

// A pipe for small messages between parent and child (fork keeps both ends;
// each side uses one direction).
class Channel {
 public:
  Channel();
  ~Channel();
  bool Write(const void* data, size_t len);
  // Reads exactly len bytes, or fails at the deadline / end of file.
  bool Read(void* data, size_t len, std::chrono::milliseconds timeout = kDeadline);
  bool WriteBytes(const std::vector<uint8_t>& bytes);
  bool ReadBytes(std::vector<uint8_t>* bytes);

 private:
  int fds_[2] = {-1, -1};
};

// In a child: stop with a message and exit code 2 unless `cond`.
#define SHM_CHILD_CHECK(cond)                                                           \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      std::fprintf(stderr, "child check failed at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
      return 2;                                                                         \
    }                                                                                   \
  } while (0)

}  // namespace mc::shm::testing

#endif  // MOONCOMM_SRC_TRANSPORTS_SHM_SHM_TEST_UTIL_H_
