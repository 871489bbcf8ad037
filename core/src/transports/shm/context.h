// One initialized shm plugin: params, endpoints, listeners, registrations,
// the request pool, liveness checks, and the deferral of peer-failure
// callbacks and endpoint deletion until no plugin code is on the stack.
#ifndef MOONCOMM_SRC_TRANSPORTS_SHM_CONTEXT_H_
#define MOONCOMM_SRC_TRANSPORTS_SHM_CONTEXT_H_

#include <poll.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "mooncomm/plugin_abi.h"
#include "transports/shm/registration.h"
#include "transports/shm/request.h"
#include "transports/shm/shm_params.h"

namespace mc::shm {

class Endpoint;
class Listener;

// Bytes by path, for tests and tools to see which path moved the data.
struct ShmStats {
  uint64_t eager_bytes = 0;       // sent whole through the ring
  uint64_t cma_read_bytes = 0;    // pulled by this side with process_vm_readv
  uint64_t cma_write_bytes = 0;   // put by this side with process_vm_writev
  uint64_t streamed_bytes = 0;    // sent or put through the ring in chunks (no CMA)
};

class Context {
 public:
  static absl::StatusOr<std::unique_ptr<Context>> Create(const mc_host_v1_t& host);
  ~Context();  // closes every endpoint and listener; no callbacks
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  // Held by every entry point that can complete requests or close endpoints.
  // When the outermost scope ends, queued peer_failed callbacks run and
  // closed endpoints are deleted, so no callback ever re-enters half-done
  // plugin code and no endpoint is freed while something still walks it.
  class Scope {
   public:
    explicit Scope(Context* ctx) : ctx_(ctx) { ++ctx_->depth_; }
    ~Scope() { ctx_->LeaveScope(); }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    Context* ctx_;
  };

  const ShmParams& params() const { return params_; }
  uint64_t nonce() const { return nonce_; }
  const uint8_t* boot_id() const { return boot_id_; }
  void Log(mc_log_level_t level, const std::string& message) const;

  // CMA: enabled by MC_SHM_USE_CMA and a working probe; switched off for the
  // whole context the first time the kernel refuses it (logged once).
  bool cma_enabled() const { return cma_enabled_; }
  void DisableCma(const std::string& why);

  Endpoint* AddEndpoint(std::unique_ptr<Endpoint> ep);
  void CloseEndpoint(Endpoint* ep);
  Listener* AddListener(std::unique_ptr<Listener> listener);
  void CloseListener(Listener* listener);
  std::string NewListenerName();

  Request* NewRequest() { return pool_.Get(this); }
  void FreeRequest(Request* req) { pool_.Put(req); }

  RegistrationTable& registrations() { return registrations_; }
  RemoteKeySet& remote_keys() { return remote_keys_; }
  ShmStats& stats() { return stats_; }

  // Drives every endpoint, then checks liveness if it is due.
  void Progress();
  // Polls every connected endpoint's socket, at most once per ~1 ms.
  void MaybeCheckLiveness();
  // `ep` lost its peer; host->peer_failed runs when the outermost Scope ends.
  void QueuePeerFailure(Endpoint* ep, std::string detail);

  double BandwidthGbps();  // measured once, lazily

 private:
  Context(const mc_host_v1_t& host, const ShmParams& params);
  void LeaveScope();
  void DeleteClosedEndpoints();

  mc_host_v1_t host_;
  ShmParams params_;
  uint64_t nonce_ = 0;
  uint8_t boot_id_[16] = {};
  bool cma_enabled_ = false;
  uint64_t listener_counter_ = 0;

  std::vector<Endpoint*> endpoints_;  // owned; closed ones are deleted at scope end
  std::vector<Listener*> listeners_;  // owned
  RegistrationTable registrations_;
  RemoteKeySet remote_keys_;
  RequestPool pool_;
  ShmStats stats_;

  int depth_ = 0;
  struct PendingFailure {
    Endpoint* ep;
    std::string detail;
  };
  std::deque<PendingFailure> pending_failures_;
  bool have_closed_endpoints_ = false;

  int64_t next_liveness_ns_ = 0;
  std::vector<pollfd> poll_fds_;
  std::vector<Endpoint*> poll_eps_;

  double bandwidth_gbps_ = -1;
};

}  // namespace mc::shm

#endif  // MOONCOMM_SRC_TRANSPORTS_SHM_CONTEXT_H_
