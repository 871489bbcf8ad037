// One tcp connection and the protocol spoken on it (frame.h has the header):
//   HELLO      the connector's first frame; accept() waits for all of it.
//   EAGER      a message up to MC_TCP_EAGER_LIMIT, data inline. With no
//              receive posted it is buffered as an unexpected message.
//   RTS/CTS/RNDV_DATA   a larger message: the sender announces it (RTS); when
//              a matching receive is posted the receiver answers CTS with the
//              bytes it takes, and the data then goes straight from the send
//              buffer to the receive buffer (no staging copy on either side).
//   PUT/PUT_ACK  a one-sided write: the target checks key and range, reads
//              the data into place (or drops it: MC_ERR_ACCESS), queues the
//              notification only after that, and acknowledges; the put
//              completes on the acknowledgement.
// Frames are read through a staging buffer, except large payloads, which are
// read from the socket straight into their destination. A broken connection
// completes every pending request and is reported to the host once.
#ifndef MOONCOMM_SRC_TRANSPORTS_TCP_ENDPOINT_H_
#define MOONCOMM_SRC_TRANSPORTS_TCP_ENDPOINT_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "mooncomm/plugin_abi.h"
#include "transports/tcp/frame.h"
#include "transports/tcp/inbound_buffer.h"
#include "transports/tcp/memory_registry.h"
#include "transports/tcp/outbox.h"
#include "transports/tcp/pollable.h"
#include "transports/tcp/request.h"
#include "transports/tcp/tag_matcher.h"

namespace mc::tcp {

class Listener;
class TcpContext;

class Endpoint : public Pollable {
 public:
  static constexpr uint32_t kMagic = 0x50454354;  // "TCEP"
  enum class State {
    kConnecting,  // connect() in flight; frames wait in the outbox
    kAwaitHello,  // accepted; the connector's HELLO has not fully arrived
    kOpen,
  };

  // Takes ownership of `fd`, a connected (or connecting) non-blocking socket.
  // `peer` names the other side in log lines and failure details.
  Endpoint(TcpContext* ctx, int fd, State state, std::string peer);
  ~Endpoint() override;
  Endpoint(const Endpoint&) = delete;
  Endpoint& operator=(const Endpoint&) = delete;

  bool valid() const { return magic_ == kMagic; }
  TcpContext* ctx() const { return ctx_; }
  bool broken() const { return broken_; }
  const std::string& hello() const { return hello_; }
  const std::string& peer() const { return peer_; }

  // Connector side: queue the HELLO frame (first thing on the wire).
  void SendHello(const void* hello, size_t len);
  // Connector side: connect() failed at once; the failure is reported at the
  // next progress, once the core holds the endpoint.
  void FailLater(int err);
  // Acceptor side: the listener waiting for our HELLO, null once accepted.
  void set_listener(Listener* listener) { listener_ = listener; }
  Listener* listener() const { return listener_; }
  // The core now holds this endpoint: failures are reported from now on.
  void MarkHandedOut();

  mc_result_t Send(uint64_t tag, const void* buf, size_t len, Request** out);
  mc_result_t Recv(uint64_t tag, void* buf, size_t len, Request** out);
  mc_result_t Put(const void* buf, size_t len, uint64_t remote_addr, const RemoteKey& rkey, uint64_t notify,
                  Request** out);
  // MC_AGAIN when no notification is queued (MC_ERR_PEER_LOST once broken).
  mc_result_t PollNotification(mc_notification_v1_t* notification);
  // close(): completes every pending request with MC_ERR_CLOSED, closes the socket.
  void Close();

  void OnEvents(uint32_t events) override;
  // Work left for progress: a failed write or connect, a failure to report.
  void RunDeferred();
  // A registration went away: a put landing in it is cut off (MC_ERR_ACCESS).
  void OnDeregistered(uint32_t key);

 private:
  void Queue(const FrameHeader& header, const char* payload, size_t payload_len, Request* done_when_written);
  void Flush();
  void SetWriteInterest(bool want);
  void OnConnectDone();

  // Reading: each returns false once the endpoint has failed.
  void HandleReadable();
  bool StartFrame();
  bool FinishFrame();
  void TakeStagedPayload();
  bool ReadPayloadDirect(bool* drained);
  bool OnHeader(const FrameHeader& h);
  bool OnEagerHeader(const FrameHeader& h);
  bool OnPutHeader(const FrameHeader& h);
  bool OnCts(const FrameHeader& h);
  bool OnPutAck(const FrameHeader& h);
  void FinishEagerUnexpected();
  void FinishPut();
  void StartRendezvousRecv(Request* recv, uint64_t sender_id, uint64_t length);
  // Sends the payload that is read next into [dst, dst + n), the rest nowhere.
  void SinkInto(char* dst, uint64_t n);

  // A broken connection: completes the pending requests with
  // `request_status`, then reports the peer as lost (once).
  void Fail(mc_result_t request_status, const std::string& detail);
  bool FailProtocol(const std::string& what);
  void FailFromSocket(int err);
  void CompletePending(mc_result_t status);

  uint32_t magic_ = kMagic;
  TcpContext* ctx_;
  int fd_;
  State state_;
  std::string peer_;
  Listener* listener_ = nullptr;
  std::string hello_;
  bool handed_out_ = false;
  bool broken_ = false;
  bool report_pending_ = false;  // broken before the core held us: report at handout
  bool reported_ = false;
  std::string failure_detail_;
  int deferred_error_ = 0;        // a connect or write error for the next progress
  bool write_interest_ = false;
  uint64_t next_id_ = 1;

  Outbox outbox_;
  TagMatcher matcher_;
  absl::flat_hash_map<uint64_t, Request*> rndv_sends_;  // by our id: waiting for the CTS
  absl::flat_hash_map<uint64_t, Request*> rndv_recvs_;  // by our id: CTS sent, waiting for data
  absl::flat_hash_map<uint64_t, Request*> puts_;        // by put id: waiting for the PUT_ACK
  std::deque<mc_notification_v1_t> notifications_;

  // The frame being read.
  InboundBuffer inbound_;
  bool in_frame_ = false;
  FrameHeader frame_;
  uint64_t payload_left_ = 0;  // payload bytes of frame_ still to read
  char* sink_ = nullptr;       // where they go; null: dropped
  uint64_t sink_left_ = 0;     // how many still go to sink_ (the rest is dropped)
  Request* sink_recv_ = nullptr;                    // eager or rendezvous receive being filled
  std::unique_ptr<Unexpected> sink_unexpected_;     // unexpected eager message being filled
  mc_result_t put_status_ = MC_SUCCESS;             // the put being landed: its verdict
};

}  // namespace mc::tcp

#endif  // MOONCOMM_SRC_TRANSPORTS_TCP_ENDPOINT_H_
