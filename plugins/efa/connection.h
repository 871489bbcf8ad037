// One MoonComm endpoint over libfabric: a connection to one peer endpoint.
//
// Setup (connection_setup.cc): the connector opens its fabric endpoint, then
// a TCP control socket to the listener, and sends REQUEST (its endpoint name
// and the hello); the acceptor opens an endpoint for the connection,
// av_inserts the connector and answers ACCEPT with its own name, which the
// connector av_inserts. Sends posted before that wait in order.
//
// Data (connection.cc): tagged messages are fi_tsend / fi_trecv with the
// core's 64-bit tag as the libfabric tag, so the provider does the matching
// (posting order per tag, as RDM keeps send order between two endpoints). A
// put is fi_writedata (remote CQ data: the put's sequence number) plus an
// untagged PUT_INFO message; the target joins both (notification_join.h).
//
// Failure: the control socket stays open for the connection's life. Its end
// (EOF, reset) means the peer process is gone, since the kernel closes a
// killed process's sockets; a BYE control message means the peer closed the
// endpoint. Either way the endpoint's fabric objects are closed, which makes
// the provider drop every pending operation, and the requests complete with
// MC_ERR_PEER_LOST.
#ifndef MOONCOMM_PLUGINS_EFA_CONNECTION_H_
#define MOONCOMM_PLUGINS_EFA_CONNECTION_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "control_channel.h"
#include "fabric_device.h"
#include "fabric_endpoint.h"
#include "intrusive_list.h"
#include "mooncomm/plugin_abi.h"
#include "notification_join.h"
#include "registration.h"
#include "request.h"
#include "socket_watcher.h"
#include "wire_format.h"

namespace mc::efa {

class Context;

using Clock = std::chrono::steady_clock;

class Connection : public SocketWatcher {
 public:
  static constexpr uint32_t kMagic = 0x43414645;  // "EFAC"
  // Control receive buffers kept posted, and control messages in flight at once.
  static constexpr int kControlRecvSlots = 16;
  static constexpr int kControlSendSlots = 64;
  // After the control socket ends, completions still arriving (a BYE, data
  // the peer sent just before) are taken this long before the peer is lost.
  static constexpr std::chrono::milliseconds kLossGrace{50};
  enum class State { kHandshaking, kOpen, kFailed };

  // Connector side: opens the endpoint and starts the handshake. The
  // connection is returned at once; a failure to connect fails it later.
  static mc_result_t Connect(Context* ctx, Device* device, const ListenAddress& address, std::string_view hello,
                             Connection** out, std::string* error);
  // Acceptor side: `request` arrived on `channel`. Opens an endpoint for it
  // and queues the ACCEPT. Null (and `channel` left alone) on failure.
  static Connection* Accept(Context* ctx, Device* device, std::unique_ptr<ControlChannel>& channel,
                            const HandshakeRequest& request, std::string* error);

  // Releases whatever is still held; reports nothing.
  ~Connection() override;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  bool valid() const { return magic_ == kMagic; }
  State state() const { return state_; }
  bool handshaking() const { return state_ == State::kHandshaking; }
  const std::string& hello() const { return hello_; }
  uint32_t peer_device() const { return peer_device_; }
  const Device& device() const { return *device_; }
  Context* ctx() const { return ctx_; }

  // The core holds the endpoint from now on: failures are reported to it.
  void MarkHandedOut() { handed_out_ = true; }

  mc_result_t Send(uint64_t tag, const void* buf, size_t len, Registration* mr, Request** out);
  mc_result_t Recv(uint64_t tag, void* buf, size_t len, Registration* mr, Request** out);
  mc_result_t Put(const void* buf, size_t len, Registration* mr, uint64_t remote_addr, const RemoteKey& key,
                  uint64_t notify, Request** out);
  mc_result_t PollNotification(mc_notification_v1_t* notification);

  // Reads completions, posts what waits, checks the deadlines.
  void Progress();
  // progress(ctx) right after test() made this connection progress: the
  // usual wait loop (test, then progress) reads each queue once a turn, not
  // twice. Polling a provider's queue is not free: shm's takes a lock the
  // sending process also takes.
  void ProgressFromTest() {
    Progress();
    progressed_by_test_ = true;
  }
  void ProgressFromContext() {
    if (progressed_by_test_) {
      progressed_by_test_ = false;
      return;
    }
    Progress();
  }
  // close(): tells the peer (best effort), closes the fabric objects and the
  // control socket, completes pending requests with MC_ERR_CLOSED.
  void CloseLocally();
  // Requests complete with `request_status`; the core hears of it once.
  void Fail(mc_result_t request_status, const std::string& detail);

  void OnSocketEvents(uint32_t events) override;

  ListHook<Connection> ctx_hook;

 private:
  Connection(Context* ctx, Device* device);

  // connection_setup.cc
  bool OpenFabric(std::string* error);
  void OnConnectorSocket(uint32_t events);
  void OnHandshakeFrame(const Frame& frame);
  void OnOpenSocket(uint32_t events);
  void BeginLoss(const std::string& detail);
  void WatchFor(uint32_t events);
  void LeaveHandshake();
  void SetOpen();
  void CloseChannel();
  void ReleaseFabric(mc_result_t request_status);
  void SendBye();
  std::string PeerName() const;

  // connection.cc
  mc_result_t NewRequest(OpKind kind, void* buf, size_t len, Registration* mr, uint64_t access, Request** out);
  void Complete(Request* r, mc_result_t status, size_t bytes, uint64_t tag);
  void DrainCompletions();
  void OnCompletion(const fi_cq_tagged_entry& entry);
  void OnError(const fi_cq_err_entry& error);
  void OnControlMessage(ControlSlot* slot, size_t len);
  void PostQueued();
  void PostControlRecvs();
  ssize_t PostRecv(Request* r);
  ssize_t PostPut(Request* r);
  ControlSlot* TakeSendSlot();
  void ReturnSendSlot(ControlSlot* slot);
  void* SlotDesc() const;

  uint32_t magic_ = kMagic;
  Context* ctx_;
  Device* device_;
  State state_ = State::kHandshaking;
  bool handed_out_ = false;
  bool progressed_by_test_ = false;
  std::string hello_;
  uint32_t peer_device_ = 0;
  std::string peer_socket_;  // the peer's control socket, for messages

  FabricEndpoint fabric_;
  std::unique_ptr<ControlChannel> channel_;
  uint32_t watched_events_ = 0;  // EPOLL* bits the context watches the control socket for
  bool socket_connected_ = false;
  bool counted_handshake_ = false;  // the context counts this handshake as under way
  Clock::time_point handshake_deadline_{};
  std::optional<std::string> deferred_failure_;     // found inside connect(); reported at the next progress
  std::optional<Clock::time_point> loss_deadline_;  // the control socket ended: failing at this time
  std::string loss_detail_;

  // Control messages: receive slots always posted, send slots taken per message.
  std::unique_ptr<ControlSlot[]> slots_;
  fid_mr* slots_mr_ = nullptr;
  std::vector<int> free_send_slots_;
  int unposted_recv_slots_ = kControlRecvSlots;

  IntrusiveList<Request, &Request::conn_hook> queued_sends_;  // sends and puts, in posting order
  IntrusiveList<Request, &Request::conn_hook> queued_recvs_;
  IntrusiveList<Request, &Request::conn_hook> in_flight_;
  uint64_t next_put_seq_ = 0;
  uint64_t cq_data_mask_;
  NotificationJoin join_;
};

}  // namespace mc::efa

#endif  // MOONCOMM_PLUGINS_EFA_CONNECTION_H_
