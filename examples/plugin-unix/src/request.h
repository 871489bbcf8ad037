// A request handed out by isend / irecv / iput. The context owns it from the
// call that made it until test() reports it done (test() then frees it), so a
// request outlives a close() of its endpoint: close completes it with
// MC_ERR_CLOSED and the core still tests it once more to learn that.
#ifndef UNIXDEMO_REQUEST_H_
#define UNIXDEMO_REQUEST_H_

#include <cstddef>
#include <cstdint>

#include "mooncomm/plugin_abi.h"

namespace unixdemo {

class Context;

struct Request {
  enum class Kind { kSend, kRecv, kPut };
  // Every handle we give out starts with a magic number, so that a wrong
  // pointer (a listener passed as a request, say) is refused as
  // MC_ERR_INVALID_ARG instead of being used.
  static constexpr uint32_t kMagic = 0x52445855;  // "UXDR"

  Request(Context* owner, Kind what, uint64_t message_tag, void* buffer, size_t length)
      : ctx(owner), kind(what), tag(message_tag), buf(static_cast<char*>(buffer)), len(length) {}
  ~Request() { magic = 0; }

  // Records the outcome once; test() hands it out.
  void Complete(mc_result_t status, size_t bytes) {
    if (done) return;
    done = true;
    completion.status = status;
    completion.tag = tag;
    completion.bytes = bytes;
  }

  uint32_t magic = kMagic;
  Context* ctx;
  Kind kind;
  uint64_t tag;  // send / recv: the tag; put: unused
  char* buf;     // recv: where the message goes (send and put data go out from the frame)
  size_t len;    // send / put: bytes to move; recv: capacity of buf
  bool done = false;
  mc_completion_v1_t completion{};
};

}  // namespace unixdemo

#endif  // UNIXDEMO_REQUEST_H_
