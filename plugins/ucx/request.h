// A request handed out by isend / irecv / iput. It lives from the call that
// made it until test() reports it done. While UCX works on it, UCX holds its
// address as the callback's user data, so it is freed only after UCX is done
// with it (a cancelled or failed operation included).
#ifndef MOONCOMM_PLUGINS_UCX_REQUEST_H_
#define MOONCOMM_PLUGINS_UCX_REQUEST_H_

#include <ucp/api/ucp.h>

#include <cstddef>
#include <cstdint>

#include "mooncomm/plugin_abi.h"
#include "tag_layout.h"

namespace mc::ucx {

class Endpoint;
class UcxContext;
struct RemoteKey;

struct Request {
  static constexpr uint32_t kMagic = 0x51524355;  // "UCRQ"
  enum class Kind : uint8_t { kSend, kRecv, kPut };
  enum class Stage : uint8_t {
    kWaiting,    // not with UCX yet: the connection (send, put) or a tag index (recv) is missing
    kRunning,    // a UCX operation runs (put: the flush that follows the put)
    kNotifying,  // put: data in place, the notification is being sent
    kDone,       // completion is final; test() hands it out
  };

  uint32_t magic = kMagic;
  Kind kind = Kind::kSend;
  Stage stage = Stage::kWaiting;
  UcxContext* ctx = nullptr;
  Endpoint* ep = nullptr;  // null once the endpoint was closed
  void* ucx = nullptr;     // the UCX request of the running step, if UCX made one
  bool ucx_called_back = false;  // the running step's callback has run (maybe inside the posting call)

  // The caller's operation.
  void* buf = nullptr;  // send and put: read only
  size_t len = 0;       // send/put: bytes; recv: capacity
  uint64_t tag = 0;     // the user's tag
  // Put only.
  uint64_t remote_addr = 0;
  RemoteKey* rkey = nullptr;
  uint64_t notify = 0;
  ControlMessage notice;  // the notification; UCX may read it until the send completes

  ucp_tag_recv_info_t info{};
  // Set when the endpoint failed or was closed while UCX still ran the
  // operation: the status reported unless UCX finishes it successfully.
  mc_result_t fail_status = MC_SUCCESS;
  mc_completion_v1_t completion{};

  // The endpoint's unfinished requests.
  Request* ep_prev = nullptr;
  Request* ep_next = nullptr;
  // Waiting requests of the endpoint (sends and puts in posting order) or of
  // one large user tag (receives waiting for its index).
  Request* wait_next = nullptr;
  // Every live request of the context, so that finalize frees forgotten ones.
  Request* live_prev = nullptr;
  Request* live_next = nullptr;
};

// A FIFO of requests through wait_next.
class RequestQueue {
 public:
  bool empty() const { return head_ == nullptr; }
  void Push(Request* r) {
    r->wait_next = nullptr;
    if (tail_ == nullptr) {
      head_ = tail_ = r;
    } else {
      tail_->wait_next = r;
      tail_ = r;
    }
  }
  Request* Pop() {
    Request* r = head_;
    if (r != nullptr) {
      head_ = r->wait_next;
      if (head_ == nullptr) tail_ = nullptr;
      r->wait_next = nullptr;
    }
    return r;
  }

 private:
  Request* head_ = nullptr;
  Request* tail_ = nullptr;
};

}  // namespace mc::ucx

#endif  // MOONCOMM_PLUGINS_UCX_REQUEST_H_
