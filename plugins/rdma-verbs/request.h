// A request handed out by isend / irecv / iput. It lives from the call that
// made it until test() reports it done; the pool keeps every live request on
// an intrusive list so that finalize frees the ones never tested.
#ifndef MOONCOMM_PLUGINS_RDMA_VERBS_REQUEST_H_
#define MOONCOMM_PLUGINS_RDMA_VERBS_REQUEST_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "mooncomm/plugin_abi.h"
#include "registration_cache.h"
#include "wire.h"

namespace mc::rdma {

class RequestPool;

struct Request {
  enum class Kind : uint8_t { kSend, kRecv, kPut };
  static constexpr uint32_t kMagic = 0x51524452;  // "RDRQ"

  uint32_t magic = kMagic;
  Kind kind = Kind::kSend;
  bool done = false;
  RequestPool* pool = nullptr;
  mc_completion_v1_t completion{};

  char* buf = nullptr;  // the caller's buffer (send and put: read only)
  size_t len = 0;       // send / put: length; receive: capacity
  uint64_t tag = 0;
  RegRef reg;  // the registration the operation uses (the caller's, or one it holds)
  bool has_reg = false;

  // Rendezvous send: our id in the RTS. Rendezvous receive: the sender's id,
  // the message's length and where to read it.
  uint64_t id = 0;
  uint64_t wire_len = 0;
  uint64_t peer_addr = 0;
  uint32_t peer_rkey = 0;

  // Put: where it goes and what the target is told.
  uint64_t remote_addr = 0;
  uint32_t remote_rkey = 0;
  uint64_t notify = 0;
  std::vector<RkeyEntry> key_entries;  // a put posted before the connection was up: its key, unresolved

  // A transfer of chunks (rendezvous READ or put WRITE).
  uint64_t transfer_len = 0;
  uint64_t next_offset = 0;  // first byte not yet posted
  uint32_t chunks_in_flight = 0;
  bool striped = false;  // chunks went to more than QP 0: the notify waits for them all

  Request* next = nullptr;  // the queue the request waits in (posted receives, send queues)
  Request* prev_live = nullptr;
  Request* next_live = nullptr;

  // Marks the request finished; test() hands the completion out.
  void Complete(mc_result_t status, size_t bytes) {
    if (done) return;
    done = true;
    completion.status = status;
    completion.tag = tag;
    completion.bytes = bytes;
  }
};

// A FIFO of requests linked through Request::next.
class RequestQueue {
 public:
  bool empty() const { return head_ == nullptr; }
  Request* front() const { return head_; }
  void push_back(Request* r) {
    r->next = nullptr;
    if (tail_ == nullptr) {
      head_ = r;
    } else {
      tail_->next = r;
    }
    tail_ = r;
  }
  Request* pop_front() {
    Request* r = head_;
    if (r == nullptr) return nullptr;
    head_ = r->next;
    if (head_ == nullptr) tail_ = nullptr;
    r->next = nullptr;
    return r;
  }

 private:
  Request* head_ = nullptr;
  Request* tail_ = nullptr;
};

class RequestPool {
 public:
  // `progress` drives the owning context; test() calls it for unfinished requests.
  explicit RequestPool(std::function<void()> progress) : progress_(std::move(progress)) {}
  ~RequestPool();
  RequestPool(const RequestPool&) = delete;
  RequestPool& operator=(const RequestPool&) = delete;

  Request* New(Request::Kind kind);
  void Free(Request* r);
  void Progress() { progress_(); }
  size_t live() const { return live_count_; }

 private:
  std::function<void()> progress_;
  Request* live_ = nullptr;
  size_t live_count_ = 0;
  std::vector<Request*> spare_;
};

}  // namespace mc::rdma

#endif  // MOONCOMM_PLUGINS_RDMA_VERBS_REQUEST_H_
