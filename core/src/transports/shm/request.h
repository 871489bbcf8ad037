// One isend / irecv / iput handed to the core, and the pool they come from.
#ifndef MOONCOMM_SRC_TRANSPORTS_SHM_REQUEST_H_
#define MOONCOMM_SRC_TRANSPORTS_SHM_REQUEST_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "mooncomm/plugin_abi.h"

namespace mc::shm {

class Context;
class Endpoint;

// What the sending side still has to put into the ring for a request in the
// endpoint's transmit queue.
enum class TxStep : uint8_t {
  kNone,
  kEager,       // the whole message in one record
  kRts,         // a ready-to-send; the receiver pulls the data
  kStream,      // the receiver asked for the data through the ring (no CMA)
  kPutInline,   // a small put: data and notification in one record
  kPutCma,      // write the data with process_vm_writev, then the notification
  kPutStream,   // the data through the ring in chunks, the notification with the last
};

struct Request {
  enum class Kind : uint8_t { kSend, kRecv, kPut };

  uint64_t magic = 0;  // kLiveMagic while handed out
  Context* ctx = nullptr;
  Endpoint* ep = nullptr;  // null once done
  Kind kind = Kind::kSend;
  TxStep tx_step = TxStep::kNone;
  bool done = false;
  bool truncated = false;
  mc_completion_v1_t completion{};

  // The endpoint's list of outstanding requests (for close and peer loss).
  Request* prev = nullptr;
  Request* next = nullptr;

  uint64_t id = 0;       // names the request in records (rendezvous, streams, puts)
  uint64_t peer_id = 0;  // the peer's name for the other half (send id / recv id)
  uint64_t tag = 0;
  const uint8_t* src = nullptr;  // send and put source
  uint8_t* dst = nullptr;        // recv destination
  size_t len = 0;                // send / put length; recv capacity
  size_t wanted = 0;             // bytes to move: recv min(message, capacity), stream what the receiver asked
  size_t offset = 0;             // bytes moved so far
  uint64_t remote_addr = 0;      // recv: the sender's buffer; put: the target address
  uint64_t key_id = 0;           // put
  uint64_t key_nonce = 0;        // put: the context that issued the remote key
  uint64_t notify = 0;           // put

  static constexpr uint64_t kLiveMagic = 0x5145'5251'4d48'5343ull;
};

// Requests are recycled rather than allocated per message.
class RequestPool {
 public:
  Request* Get(Context* ctx);
  void Put(Request* req);

 private:
  std::vector<std::unique_ptr<Request>> owned_;
  std::vector<Request*> free_;
};

}  // namespace mc::shm

#endif  // MOONCOMM_SRC_TRANSPORTS_SHM_REQUEST_H_
