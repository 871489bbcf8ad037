// One plugin context: a UCP context and one worker (UCS_THREAD_MODE_SINGLE:
// the core calls a context from one thread), an epoll set for the side
// connections, and everything the context handed out.
//
// Progress order: UCX first (its callbacks only record what happened), then
// what the callbacks recorded (control messages, UCX errors, flushed puts),
// then the side connections (every call while a handshake runs, else every
// millisecond), then peer_failed reports, last, because the core may close
// endpoints from inside them. Objects are deleted only by the sweep at the
// start of progress, so nothing a report or a batch of events still points
// to goes away under it.
#ifndef MOONCOMM_PLUGINS_UCX_CONTEXT_H_
#define MOONCOMM_PLUGINS_UCX_CONTEXT_H_

#include <ucp/api/ucp.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "memory.h"
#include "mooncomm/plugin_abi.h"
#include "net_interface.h"
#include "request.h"
#include "socket_watcher.h"
#include "tag_layout.h"
#include "ucx_params.h"

namespace mc::ucx {

class Endpoint;
class Listener;

// The largest message or put: UCX handles any size_t, this is what the
// plugin promises the core (tested here up to 256 MiB).
inline constexpr uint64_t kMaxMessageBytes = uint64_t{2} << 30;

// A control message on its way out; UCX may read `message` until the send completes.
struct OutgoingControl {
  UcxContext* ctx = nullptr;
  void* request = nullptr;
  ControlMessage message;
};

class UcxContext {
 public:
  static constexpr uint32_t kMagic = 0x58435543;  // "UCCX"

  // MC_ERR_NO_DEVICE (with `why`) when UCX or the network cannot be used.
  static mc_result_t Create(const mc_host_v1_t& host, UcxContext** out, std::string* why);
  ~UcxContext();  // finalize: frees everything still open
  UcxContext(const UcxContext&) = delete;
  UcxContext& operator=(const UcxContext&) = delete;

  bool valid() const { return magic_ == kMagic; }

  // ---- the ABI's calls (context.cc, context_memory.cc) ----
  int device_count() const { return 1; }
  mc_result_t DeviceProps(int dev, mc_device_props_v1_t* props) const;
  mc_result_t Listen(int dev, void* addr, size_t* addr_len, Listener** out);
  mc_result_t CloseListener(Listener* listener);
  mc_result_t Connect(int dev, const void* addr, size_t addr_len, const void* hello, size_t hello_len,
                      Endpoint** out);
  mc_result_t CloseEndpoint(Endpoint* ep);
  mc_result_t Progress();
  mc_result_t Test(Request* r, int* done, mc_completion_v1_t* completion);
  mc_result_t Register(void* ptr, size_t len, mc_mem_kind_t kind, Registration** out);
  mc_result_t Deregister(Registration* mr);
  mc_result_t PackKey(Registration* mr, void* buf, size_t* len);
  mc_result_t ReleaseKey(RemoteKey* key);

  // ---- for endpoints and listeners ----
  ucp_worker_h worker() const { return worker_; }
  const std::string& worker_address() const { return worker_address_; }
  const UcxConfig& config() const { return config_; }
  // The UCP error handling mode for new endpoints (see MC_UCX_ERROR_MODE).
  ucp_err_handling_mode_t error_mode() const { return error_mode_; }
  // MC_UCX_ERROR_MODE=auto and UCX found no transport that reports peer
  // failures: use UCP_ERR_HANDLING_MODE_NONE from now on. False when not allowed.
  bool FallBackToNoErrorHandling();
  void Log(mc_log_level_t level, const std::string& message) const;

  // A new endpoint with a fresh id, owned by the context.
  Endpoint* NewEndpoint();
  Endpoint* FindEndpoint(uint32_t id) const;

  Request* NewRequest(Request::Kind kind, Endpoint* ep);
  // Final status: the request waits for test().
  void Finish(Request* r, mc_result_t status, size_t bytes);
  // UCX finished the running step of `r` with `status`.
  void OnUcxDone(Request* r, ucs_status_t status);

  RemoteKey* NewRemoteKey(uint64_t endpoint_serial, KeyContents contents);

  void Watch(int fd, SocketWatcher* watcher, uint32_t events);
  void Unwatch(int fd);
  void HandshakeStarted() { ++handshakes_; }
  void HandshakeEnded() { --handshakes_; }

  // Recorded from UCX callbacks, handled after ucp_worker_progress returns.
  void QueueUcxError(Endpoint* ep, ucs_status_t status) { ucx_errors_.emplace_back(ep, status); }
  void QueuePutFlushed(Request* r) { flushed_puts_.push_back(r); }
  // Endpoints with a failure to report (peer_failed runs at the end of progress).
  void QueueReport(Endpoint* ep) { reports_.push_back(ep); }
  // A closed endpoint, for the sweep to delete once UCX is done with it.
  void QueueTeardown(Endpoint* ep) { closing_.push_back(ep); }

  // Sends a control message; the context owns its buffer until UCX is done.
  void SendControl(ucp_ep_h ep, uint32_t peer_id, const ControlMessage& message);
  // Progresses UCX until it has nothing more to do right now (bounded), and
  // handles what arrived: used before declaring a peer dead on EOF, so that
  // its BYE and last messages are seen first.
  void DrainUcx();

 private:
  UcxContext(const mc_host_v1_t& host, UcxConfig config, NetInterface interface);
  bool StartUcx(std::string* why);
  void SettleUcx();
  void DrainControlMessages();
  void PostControlReceive();
  void DeliverControl(ucs_status_t status);
  void HandleUcxEvents();
  void PollSockets(bool force);
  void ReportFailures();
  void Sweep();
  void FreeRequest(Request* r);
  void DestroyKey(RemoteKey* key);

  static void ControlRecvDone(void* request, ucs_status_t status, const ucp_tag_recv_info_t* info, void* user_data);
  static void ControlSendDone(void* request, ucs_status_t status, void* user_data);

  uint32_t magic_ = kMagic;
  mc_host_v1_t host_;
  UcxConfig config_;
  NetInterface interface_;
  std::string device_name_;
  bool same_host_only_ = false;
  ucp_err_handling_mode_t error_mode_ = UCP_ERR_HANDLING_MODE_PEER;
  uint64_t memory_types_ = 0;  // UCX's supported memory types (bit per ucs_memory_type_t)

  ucp_context_h ucp_ = nullptr;
  ucp_worker_h worker_ = nullptr;
  std::string worker_address_;
  int epoll_fd_ = -1;

  bool in_progress_ = false;
  int handshakes_ = 0;
  uint32_t calls_since_clock_read_ = 0;
  Clock::time_point next_socket_poll_;
  Clock::time_point next_deadline_check_;

  // Control messages: one wildcard receive for all endpoints, re-posted after each message.
  ControlMessage control_in_;
  ucp_tag_recv_info_t control_info_{};
  void* control_request_ = nullptr;
  bool control_ready_ = false;   // control_in_ holds a message to handle
  bool control_failed_ = false;  // UCX refused the receive: stop re-posting
  ucs_status_t control_status_ = UCS_OK;
  std::unordered_set<OutgoingControl*> control_sends_;

  std::vector<std::pair<Endpoint*, ucs_status_t>> ucx_errors_;
  std::vector<Request*> flushed_puts_;
  std::vector<Endpoint*> reports_;

  uint32_t next_endpoint_id_ = 1;
  uint64_t next_endpoint_serial_ = 1;
  std::unordered_map<uint32_t, std::unique_ptr<Endpoint>> endpoints_;  // by id
  std::vector<Endpoint*> closing_;  // closed, deleted by the sweep once torn down
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::vector<std::unique_ptr<Listener>> dead_listeners_;  // closed, deleted by the sweep
  std::unordered_set<Registration*> registrations_;
  std::unordered_set<RemoteKey*> remote_keys_;

  Request* live_requests_ = nullptr;
  std::vector<Request*> spare_requests_;
};

}  // namespace mc::ucx

#endif  // MOONCOMM_PLUGINS_UCX_CONTEXT_H_
