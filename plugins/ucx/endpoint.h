// One connection to a peer: a UCP endpoint for the data, and a side TCP
// connection that carries the handshake and then stays open as the liveness
// signal (a SIGKILLed peer's kernel closes it at once, whatever transport UCX
// uses; shared-memory transports give no timely signal of their own).
//
//   connector: kConnecting -> (side connection up, HELLO out, REPLY in) -> kOpen
//   acceptor:  kAwaitHello -> (HELLO in, REPLY out) -> kOpen  (then accept() hands it out)
//   any:       -> kFailed   the peer is gone: EOF on the side connection, a BYE
//                           control message (the peer closed), or UCX's error callback
//
// close() cancels what is pending (MC_ERR_CLOSED), sends BYE after the data
// when nothing is stuck, closes the UCP endpoint, and closes the side
// connection only once UCX has finished closing, so that the peer sees the
// BYE before the EOF. The object is deleted by the context's sweep after that.
#ifndef MOONCOMM_PLUGINS_UCX_ENDPOINT_H_
#define MOONCOMM_PLUGINS_UCX_ENDPOINT_H_

#include <ucp/api/ucp.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>

#include "listen_address.h"
#include "memory.h"
#include "mooncomm/plugin_abi.h"
#include "request.h"
#include "socket_watcher.h"
#include "tag_layout.h"

namespace mc::ucx {

class Listener;
class UcxContext;

class Endpoint : public SocketWatcher {
 public:
  static constexpr uint32_t kMagic = 0x50454355;  // "UCEP"
  enum class State { kConnecting, kAwaitHello, kOpen, kFailed };

  Endpoint(UcxContext* ctx, uint32_t id, uint64_t serial);
  ~Endpoint() override;
  Endpoint(const Endpoint&) = delete;
  Endpoint& operator=(const Endpoint&) = delete;

  bool valid() const { return magic_ == kMagic && !closed_; }
  uint32_t id() const { return id_; }
  uint64_t serial() const { return serial_; }
  State state() const { return state_; }
  bool closed() const { return closed_; }
  bool handshaking() const { return state_ == State::kConnecting || state_ == State::kAwaitHello; }
  const std::string& hello() const { return hello_; }
  const std::string& peer_name() const { return peer_name_; }

  // ---- connection (endpoint_connect.cc) ----
  // Connector: starts the side connection to `address`; returns at once.
  void StartConnect(const ListenAddress& address, const void* hello, size_t hello_len);
  // Acceptor: `fd` came from `listener`'s accept(); waits for the HELLO.
  void StartAccepted(int fd, Listener* listener, uint64_t listener_nonce, const std::string& peer_name);
  void OnSocketEvents(uint32_t events) override;
  bool watching() const override { return fd_ >= 0; }
  // Fails a handshake that has run past its deadline.
  void CheckHandshakeDeadline(Clock::time_point now);
  // The core holds the endpoint now: failures are reported from now on.
  void MarkHandedOut();
  void set_listener(Listener* listener) { listener_ = listener; }

  // ---- messaging (endpoint.cc) ----
  mc_result_t Send(uint64_t tag, const void* buf, size_t len, Request** out);
  mc_result_t Recv(uint64_t tag, void* buf, size_t len, Request** out);
  mc_result_t Put(const void* buf, size_t len, uint64_t remote_addr, RemoteKey* key, uint64_t notify, Request** out);
  mc_result_t PollNotification(mc_notification_v1_t* notification);
  // Validates and keeps a peer's packed key for puts on this endpoint.
  mc_result_t UnpackKey(const void* bytes, size_t len, RemoteKey** out);

  // Events the context routes here.
  void OnControl(const ControlMessage& message);
  void OnUcxError(ucs_status_t status);
  void OnPutFlushed(Request* r);
  // A request of this endpoint reached kDone: unlink it.
  void Unlink(Request* r);

  // ---- endings (endpoint_close.cc) ----
  // The core's close(), or a listener dropping a connection never accepted.
  void Close();
  // The peer is gone: pending requests fail with MC_ERR_PEER_LOST and the
  // loss is reported once (from the context's progress, never from here).
  void Fail(const std::string& detail);
  // For the sweep: true once the endpoint is closed and UCX and the socket
  // are done with it, so that it can be deleted.
  bool TeardownDone();
  // Finalize: cancels everything and force-closes the UCP endpoint.
  void ForceTeardown();
  // Finalize, after giving UCX its time: frees a close request still running.
  void AbandonUcx();
  // The context's report step: true (with the detail) once per failure of a
  // handed-out endpoint.
  bool TakeFailureReport(std::string* detail);

 private:
  // endpoint_connect.cc
  void SetHandshaking(bool on);
  void OnConnectorEvents(uint32_t events);
  void OnAcceptorEvents(uint32_t events);
  void OnOpenEvents(uint32_t events);
  bool FlushSocket();  // false once the endpoint failed
  bool CreateUcpEndpoint(const std::string& worker_address);
  ucs_status_t TryCreateUcpEndpoint(const std::string& worker_address, ucp_err_handling_mode_t mode);
  void BecomeOpen();
  void CloseSocket();

  // endpoint.cc
  Request* NewRequest(Request::Kind kind);
  void PostSend(Request* r);
  void PostRecv(Request* r, uint64_t ucp_tag);
  void PostPut(Request* r);
  void PostWaiting();  // sends and puts queued while connecting, in order
  // Keeps the UCX request a posting call returned, or finishes the step it completed at once.
  void Track(Request* r, ucs_status_ptr_t sp);
  uint64_t OutgoingTag(uint64_t user_tag);
  void SendControl(const ControlMessage& message);
  bool EnsureKeyUnpacked(RemoteKey* key, mc_result_t* error);

  // endpoint_close.cc
  void DetachRequests(mc_result_t status, bool detach);
  void CloseUcpEndpoint(bool force);

  uint32_t magic_ = kMagic;
  UcxContext* ctx_;
  const uint32_t id_;       // ours: the peer tags messages to us with it
  const uint64_t serial_;   // never reused, unlike ids and addresses
  uint32_t peer_id_ = 0;    // the peer's: we tag messages to it with it
  State state_ = State::kConnecting;
  bool closed_ = false;
  bool handed_out_ = false;
  bool handshaking_counted_ = false;
  bool report_due_ = false;
  bool reported_ = false;
  std::string failure_detail_;
  std::string peer_name_;

  // Side connection.
  int fd_ = -1;
  uint32_t watched_events_ = 0;
  bool connected_ = false;  // connector: the TCP connect finished
  std::string out_;         // handshake bytes still to write
  std::string in_;          // handshake bytes read so far
  Clock::time_point deadline_;        // of the handshake
  Clock::time_point close_deadline_;  // after close(): the socket closes by then
  Listener* listener_ = nullptr;  // acceptor, until accept() hands us out
  uint64_t listener_nonce_ = 0;
  std::string hello_;

  // UCX.
  ucp_ep_h ucp_ep_ = nullptr;
  // PEER: UCX reports failures and can close by force, purging sends. NONE:
  // neither; sends still with UCX at close or failure are abandoned.
  ucp_err_handling_mode_t err_mode_ = UCP_ERR_HANDLING_MODE_PEER;
  void* close_request_ = nullptr;  // ucp_ep_close_nbx still running
  ControlMessage bye_;             // UCX may read it until the endpoint is closed

  // Requests.
  Request* unfinished_ = nullptr;  // head of the list through ep_prev / ep_next
  RequestQueue waiting_;           // sends and puts posted while connecting
  std::unordered_map<uint64_t, uint64_t> out_index_;     // large user tag -> our index
  uint64_t next_out_index_ = 0;
  std::unordered_map<uint64_t, uint64_t> in_index_;      // large user tag -> the peer's index
  std::unordered_map<uint64_t, RequestQueue> held_recvs_;  // large user tag -> receives waiting for its index
  std::deque<mc_notification_v1_t> notifications_;
};

}  // namespace mc::ucx

#endif  // MOONCOMM_PLUGINS_UCX_ENDPOINT_H_
