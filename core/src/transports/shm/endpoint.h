// One shm connection: a Unix socket (handshake, then liveness only) and two
// shared rings, one per direction. Tagged messages up to EAGER_LIMIT are
// copied through the ring; larger ones are announced with an RTS and pulled
// by the receiver with one CMA copy (or, without CMA, streamed through the
// ring after a CTS). Puts are written by the initiator (CMA, or records in
// the ring) and followed by a notification record; the target checks the
// range against its registrations and acknowledges.
#ifndef MOONCOMM_SRC_TRANSPORTS_SHM_ENDPOINT_H_
#define MOONCOMM_SRC_TRANSPORTS_SHM_ENDPOINT_H_

#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "mooncomm/plugin_abi.h"
#include "transports/shm/registration.h"
#include "transports/shm/request.h"
#include "transports/shm/shared_region.h"
#include "transports/shm/spsc_ring.h"
#include "transports/shm/unique_fd.h"
#include "transports/shm/wire.h"

namespace mc::shm {

class Context;

class Endpoint {
 public:
  ~Endpoint();
  Endpoint(const Endpoint&) = delete;
  Endpoint& operator=(const Endpoint&) = delete;

  // Connector side: creates our ring and starts the handshake (connect and
  // hello are attempted at once, so an acceptor can finish without waiting
  // for our next progress call). A connect that fails is reported by the
  // first Progress, after the core holds the endpoint.
  static absl::StatusOr<std::unique_ptr<Endpoint>> StartConnect(Context* ctx, const AddressWire& addr,
                                                                const void* hello, size_t hello_len);
  // Acceptor side: `sock` delivered a valid hello and the peer's ring.
  static absl::StatusOr<std::unique_ptr<Endpoint>> FromHello(Context* ctx, UniqueFd sock, const HelloMsg& hello,
                                                             UniqueFd peer_ring);
  // Acceptor side: sends the reply with our ring. MC_AGAIN when the socket
  // is full; any other error drops the connection.
  mc_result_t SendReply();

  mc_result_t PostSend(uint64_t tag, const void* buf, size_t len, Request** out);
  mc_result_t PostRecv(uint64_t tag, void* buf, size_t len, Request** out);
  mc_result_t PostPut(const void* buf, size_t len, uint64_t remote_addr, const RemoteKey& key, uint64_t notify,
                      Request** out);
  mc_result_t PollNotification(mc_notification_v1_t* notification);
  // The peer's context nonce once the handshake is done, else 0.
  uint64_t peer_nonce() const { return peer_nonce_; }

  void Progress();
  // Completes everything outstanding with MC_ERR_CLOSED and tells the peer.
  void Close();
  bool closed() const { return closed_; }
  Context* context() const { return ctx_; }

  // Liveness: the socket to poll while connected, and what poll saw on it.
  bool WantsLivenessPoll() const { return state_ == State::kConnected && !closed_; }
  int socket_fd() const { return sock_.get(); }
  void OnSocketEvents(short revents);

 private:
  enum class State { kConnecting, kConnected, kLost };
  enum class Handshake { kConnect, kSendHello, kAwaitReply, kDone };

  struct Unexpected {
    uint64_t tag;
    bool is_rts;
    std::vector<uint8_t> data;  // eager payload
    RtsHeader rts;              // rendezvous
  };
  struct Control {  // a small record waiting for ring space
    uint32_t type;
    uint32_t bytes;
    uint8_t body[48];
  };

  Endpoint(Context* ctx, UniqueFd sock);
  absl::Status CreateTxRing();
  absl::Status MapRxRing(UniqueFd fd);

  // Handshake (connector).
  void AdvanceHandshake();
  void FailHandshake(const std::string& detail);

  // Receive side.
  // Handles up to `max_records` records; false when the ring is corrupt.
  bool DrainRx(int max_records);
  bool HandleRecord(const RingRecord& record);
  bool HandleEager(const RingRecord& record);
  bool HandleRts(const RingRecord& record);
  bool HandleCts(const RingRecord& record);
  bool HandleData(const RingRecord& record);
  bool HandleFin(const RingRecord& record);
  bool HandlePut(const RingRecord& record);
  bool HandlePutAck(const RingRecord& record);
  Request* TakePostedRecv(uint64_t tag);
  void DeliverEager(Request* req, const uint8_t* payload, size_t bytes, uint64_t tag);
  void StartRendezvousRecv(Request* req, const RtsHeader& rts);
  void StartStreamRecv(Request* req);
  void AdvancePulls();
  // check_peer: data was read from the peer, so make sure it was still there.
  void FinishPull(Request* req, bool check_peer);

  // Send side.
  bool TryWriteRecord(uint32_t type, const void* header, size_t header_bytes, const void* payload, size_t bytes);
  void QueueControl(uint32_t type, const void* body, size_t bytes);
  void FlushControl();
  void AdvanceBacklog();
  // True when `req` is finished with the transmit queue.
  bool StepTx(Request* req);
  bool StepStream(Request* req);
  bool StepPutCma(Request* req);
  bool StepPutStream(Request* req);
  bool WritePutRecord(Request* req, size_t offset, size_t bytes, bool last);
  size_t StreamChunkBytes() const;

  // Requests.
  Request* NewRequest(Request::Kind kind);
  void Complete(Request* req, mc_result_t status, uint64_t tag, size_t bytes);
  // Empties every queue and completes every outstanding request with `status`.
  void FailAll(mc_result_t status);
  // The peer is gone: deliver what it left in the ring, fail the rest,
  // report once.
  void Lose(const std::string& detail, bool drain);
  // Polls the socket now; false if the peer has gone.
  bool PeerStillThere();

  Context* ctx_;
  State state_ = State::kConnecting;
  Handshake handshake_ = Handshake::kDone;
  bool closed_ = false;
  bool peer_said_bye_ = false;
  std::string deferred_failure_;  // a connect failure seen before the core held the endpoint

  UniqueFd sock_;
  std::string peer_name_;  // connector: the listener's socket name
  pid_t peer_pid_ = 0;
  uint64_t peer_nonce_ = 0;
  HelloMsg hello_{};  // connector: what we send

  SharedRegion tx_region_;
  SharedRegion rx_region_;
  RingProducer tx_;
  RingConsumer rx_;

  uint64_t next_id_ = 1;
  Request* outstanding_ = nullptr;  // intrusive list of requests not yet done

  std::deque<Request*> posted_;      // receives waiting for a message, in posting order
  std::deque<Unexpected> unexpected_;  // messages waiting for a receive, in arrival order
  std::deque<Request*> backlog_;     // what waits to go into the ring, in posting order
  std::deque<Control> control_;      // FIN / CTS / PUT_ACK waiting for ring space
  std::deque<Request*> pulls_;       // receives being copied with CMA
  absl::flat_hash_map<uint64_t, Request*> awaiting_;  // sends and puts waiting for the peer, by id
  absl::flat_hash_map<uint64_t, Request*> streams_;   // receives fed through the ring, by id
  absl::flat_hash_set<uint64_t> refused_puts_;        // incoming puts with a chunk outside any registration
  std::deque<mc_notification_v1_t> notifications_;
};

}  // namespace mc::shm

#endif  // MOONCOMM_SRC_TRANSPORTS_SHM_ENDPOINT_H_
