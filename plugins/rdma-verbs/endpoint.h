// The data protocol of one connection, over its RC queue pairs:
//
//   queue pair 0 carries every message (SEND into the peer's pre-posted
//   receive buffers, in order):
//     EAGER  tag, length and up to the eager limit of payload;
//     RTS    a larger message: tag, length, and the sender's registered
//            buffer; the receiver RDMA READs it once a receive matches,
//            then answers
//     FIN    and the send completes. (READ rather than WRITE-after-CTS: one
//            message less on the critical path, and the receiver decides
//            how much to take when the message is truncated.)
//   Every message carries the count of receive buffers its sender reposted
//   (credits); a receiver that has nothing to send RDMA-WRITEs that count
//   into the peer's credit word instead. A sender posts a message only while
//   it holds a credit, so the peer never runs out of receive buffers.
//
//   iput: RDMA WRITE of the data to the target address, then RDMA WRITE
//   WITH IMMEDIATE of a descriptor {notify, addr, bytes, seq} into slot
//   seq % depth of the target's descriptor ring; the immediate is the slot.
//   The target's receive completion for it delivers the notification: RC
//   executes a queue pair's requests in order, so the data is in place.
//   Data of puts larger than a chunk, and of rendezvous READs, is cut into
//   chunks spread over all queue pairs; such a put's descriptor goes out
//   after every chunk has completed.
//
// A completion with an error, a failed post, or the owner's word (the side
// socket closed, an async event) fails the endpoint: the queue pairs go to
// the error state, every pending request completes with MC_ERR_PEER_LOST,
// and the host hears of it once.
#ifndef MOONCOMM_PLUGINS_RDMA_VERBS_ENDPOINT_H_
#define MOONCOMM_PLUGINS_RDMA_VERBS_ENDPOINT_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "mooncomm/plugin_abi.h"
#include "registration_cache.h"
#include "request.h"
#include "status.h"
#include "tag_matcher.h"
#include "verbs.h"
#include "wire.h"

namespace mc::rdma {

// What an endpoint needs from its owner.
class EndpointHost {
 public:
  virtual ~EndpointHost() = default;
  virtual void Log(mc_log_level_t level, const std::string& message) = 0;
  // The endpoint failed; its requests are already completed. Called at most
  // once, possibly from inside an ABI call: the owner defers the host report.
  virtual void OnEndpointFailed(const std::string& detail) = 0;
};

struct EndpointOptions {
  uint32_t eager_limit = 8192;
  uint32_t recv_depth = 128;
  uint32_t send_depth = 256;
  uint64_t chunk_bytes = 1 << 20;
};

class Endpoint {
 public:
  // Allocates and registers the receive buffers, send slots, credit word and
  // descriptor ring with `regs->domain()`.
  static StatusOr<std::unique_ptr<Endpoint>> Create(EndpointHost* host, RequestPool* requests, RegistrationCache* regs,
                                                    const EndpointOptions& options);
  ~Endpoint();
  Endpoint(const Endpoint&) = delete;
  Endpoint& operator=(const Endpoint&) = delete;

  // Our side of the connection info: receive depth, eager limit, credit word, descriptor ring.
  void DescribeBuffers(ConnInfo* info) const;
  // Takes the queue pairs (not yet linked) and posts the receive buffers on queue pair 0.
  Status Attach(std::unique_ptr<QueuePairSet> qps);
  // The queue pairs are linked to the peer's: messages may flow. Work posted
  // before waits until now. `read_limit`: READs outstanding per queue pair.
  void Start(const ConnInfo& peer, uint32_t read_limit);

  bool started() const { return state_ != State::kConnecting; }
  bool broken() const { return state_ == State::kFailed || state_ == State::kClosed; }
  uint64_t peer_guid() const { return peer_guid_; }
  // Our messages the peer's device has acknowledged: they are in its receive buffers.
  uint64_t messages_acked() const { return acked_msgs_; }

  // The ABI's operations. `mr` is the caller's registration for buf or null.
  mc_result_t Send(uint64_t tag, const void* buf, size_t len, const MemoryRegion* mr, Request** out);
  mc_result_t Recv(uint64_t tag, void* buf, size_t len, const MemoryRegion* mr, Request** out);
  mc_result_t Put(const void* buf, size_t len, const MemoryRegion* mr, uint64_t remote_addr, const PackedKey& key,
                  uint64_t notify, Request** out);
  // MC_AGAIN when none is queued; MC_ERR_PEER_LOST once broken and drained.
  mc_result_t PollNotification(mc_notification_v1_t* notification);

  // Polls the completion queue, takes returned credits, posts waiting work.
  void Progress();
  // The peer is gone: completes everything with MC_ERR_PEER_LOST.
  void Fail(const std::string& detail) { FailWith(MC_ERR_PEER_LOST, detail); }
  // The peer closed after `peer_sent` of its messages had been acknowledged:
  // receive those (for at most `grace`), then fail.
  void PeerClosing(uint64_t peer_sent, std::chrono::milliseconds grace);
  // close(): completes every pending request with MC_ERR_CLOSED, stops the queue pairs.
  void Close();

  // Numbers for tests and logs.
  size_t pending_control() const { return control_queue_.size(); }
  uint64_t messages_sent() const { return sent_msgs_; }
  uint64_t messages_received() const { return recv_count_; }

 private:
  enum class State { kConnecting, kRunning, kDraining, kFailed, kClosed };

  // Queued work on queue pair 0, in posting order.
  enum class ControlKind : uint8_t {
    kMessage,    // a send: EAGER or RTS, decided when posted
    kFin,        // id: we finished reading the peer's message
    kPutNotify,  // a put's descriptor (its data is out)
    kSmallPut,   // a put small enough to copy: data and descriptor from one send slot
  };
  struct ControlItem {
    ControlKind kind;
    Request* req;
    uint64_t id;
  };
  // A posted work request on queue pair 0 whose completion has not come yet.
  enum class RecordKind : uint8_t { kEager, kRts, kFin, kNotify, kPutData, kCredit };
  struct SendRecord {
    uint64_t seq;
    RecordKind kind;
    Request* req;
    int slot;  // send slot to free, -1 for none
  };

  Endpoint(EndpointHost* host, RequestPool* requests, RegistrationCache* regs, const EndpointOptions& options);
  Status AllocateBuffers();
  void CheckDrained();

  // Posting.
  uint64_t credits() const;
  uint32_t SendRoom(int qp) const;
  int TakeSlot();
  char* SlotAddress(int slot) const;
  char* RecvSlotAddress(int slot) const;
  void PostControl();
  // Each: true when the item went out (or was settled), false when it must wait.
  bool PostMessage(Request* r);
  bool PostFin(uint64_t id);
  bool PostPutNotify(Request* r, int slot_with_descriptor);
  bool PostSmallPut(Request* r);
  bool PostWithHeader(MsgHeader& header, const char* payload, size_t payload_len, RecordKind kind, Request* r);
  bool PostControlWork(SendWork& work, RecordKind kind, Request* r, int slot);
  void PostTransfers();
  void MaybeReturnCredits();
  bool ResolvePutKey(Request* r);

  // Completions.
  void HandleCompletion(const WorkCompletion& wc);
  void OnControlDone(const WorkCompletion& wc);
  void OnChunkDone(const WorkCompletion& wc);
  void SettleRefusedPuts(const WorkCompletion* wc, int n);
  void OnReceive(const WorkCompletion& wc);
  bool OnMessage(const MsgHeader& h, const char* payload, size_t payload_len);
  bool OnPutDescriptor(uint32_t imm, uint64_t seq);
  bool Repost(int slot);
  void StartRendezvousRecv(Request* r, uint64_t sender_id, uint64_t length, uint64_t addr, uint32_t rkey);
  void FinishTransfer(Request* r);
  void QueueNotify(Request* r);
  void TakeReturnedCredits(uint64_t reposted);

  // Settling requests.
  void Finish(Request* r, mc_result_t status, size_t bytes);
  void FailWith(mc_result_t status, const std::string& detail);
  void CompleteEverything(mc_result_t status);
  bool FailProtocol(const std::string& what);

  EndpointHost* host_;
  RequestPool* requests_;
  RegistrationCache* regs_;
  EndpointOptions options_;
  State state_ = State::kConnecting;
  std::unique_ptr<QueuePairSet> qps_;

  // One block: receive buffers, send slots, then the remote-writable words
  // (credit word, credit source, descriptor ring); one registration.
  char* block_ = nullptr;
  size_t block_bytes_ = 0;
  MemoryRegion block_mr_;
  size_t slot_bytes_ = 0;
  uint32_t send_slots_ = 0;
  std::vector<int> free_slots_;
  uint64_t* credit_word_ = nullptr;    // the peer writes its reposted count here
  uint64_t* credit_source_ = nullptr;  // what we write into the peer's word when not inline
  PutDescriptor* ring_ = nullptr;      // recv_depth descriptors the peer writes

  // The peer, from Start.
  uint64_t peer_guid_ = 0;
  uint32_t peer_depth_ = 0;
  uint32_t eager_send_limit_ = 0;
  uint64_t peer_credit_addr_ = 0;
  uint32_t peer_credit_rkey_ = 0;
  uint64_t peer_ring_addr_ = 0;
  uint32_t peer_ring_rkey_ = 0;
  uint32_t read_limit_ = 1;
  uint32_t max_inline_ = 0;
  std::vector<char> inline_scratch_;  // an inline send's bytes, copied by the post

  // Counters of messages on queue pair 0 (each consumes one receive buffer).
  uint64_t sent_msgs_ = 0;      // we posted
  uint64_t acked_msgs_ = 0;     // of those, completed successfully
  uint64_t peer_reposted_ = 0;  // the peer reposted this many of its buffers: our credits
  uint64_t recv_count_ = 0;     // we received (and reposted)
  uint64_t credits_reported_ = 0;
  uint64_t next_control_seq_ = 0;
  uint64_t next_id_ = 1;

  std::vector<uint32_t> sq_used_;
  std::vector<uint32_t> reads_in_flight_;
  int next_qp_ = 0;

  std::deque<ControlItem> control_queue_;
  std::deque<SendRecord> control_in_flight_;
  RequestQueue transfer_queue_;                        // transfers with chunks still to post
  std::unordered_set<Request*> transfers_;             // every transfer not yet finished
  std::unordered_map<uint64_t, Request*> rndv_sends_;  // by id: waiting for the FIN
  TagMatcher matcher_;
  std::deque<mc_notification_v1_t> notifications_;

  uint64_t drain_target_ = 0;
  std::chrono::steady_clock::time_point drain_deadline_;
};

}  // namespace mc::rdma

#endif  // MOONCOMM_PLUGINS_RDMA_VERBS_ENDPOINT_H_
