// A request handed out by isend/irecv/iput. It lives from the call that made
// it until test() reports it done; the context keeps every live request on an
// intrusive list so that finalize frees the ones never tested.
#ifndef MOONCOMM_SRC_TRANSPORTS_TCP_REQUEST_H_
#define MOONCOMM_SRC_TRANSPORTS_TCP_REQUEST_H_

#include <cstddef>
#include <cstdint>

#include "mooncomm/plugin_abi.h"

namespace mc::tcp {

class TcpContext;

struct Request {
  enum class Kind : uint8_t { kSend, kRecv, kPut };
  static constexpr uint32_t kMagic = 0x52514354;  // "TCQR"

  uint32_t magic = kMagic;
  Kind kind = Kind::kSend;
  bool done = false;
  TcpContext* ctx = nullptr;
  mc_completion_v1_t completion{};

  char* buf = nullptr;   // the user's buffer (send and put: read only)
  size_t len = 0;        // send/put: message length; recv: capacity
  uint64_t tag = 0;
  uint64_t wire_len = 0; // recv: bytes of the matched message (may exceed len)

  Request* next_in_queue = nullptr;  // posted-receive FIFO of its tag
  Request* prev_live = nullptr;      // the context's list of live requests
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

}  // namespace mc::tcp

#endif  // MOONCOMM_SRC_TRANSPORTS_TCP_REQUEST_H_
