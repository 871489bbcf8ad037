// The frames an endpoint has queued for its socket, written in order with
// gathered sendmsg calls. A frame's payload is the user's own buffer (sends,
// puts, rendezvous data): nothing is copied on the way out.
#ifndef MOONCOMM_SRC_TRANSPORTS_TCP_OUTBOX_H_
#define MOONCOMM_SRC_TRANSPORTS_TCP_OUTBOX_H_

#include <cstddef>
#include <cstdint>
#include <deque>

#include "transports/tcp/frame.h"
#include "transports/tcp/request.h"

namespace mc::tcp {

class Outbox {
 public:
  // Queues a frame. `done_when_written`, if set, is a send that completes
  // with MC_SUCCESS once the frame has been handed to the kernel.
  void Push(const FrameHeader& header, const char* payload, size_t payload_len, Request* done_when_written);

  bool empty() const { return frames_.empty(); }
  size_t size() const { return frames_.size(); }

  // Writes as much as the socket takes. Returns 0 when everything was
  // written, EAGAIN when the socket is full, or the errno of a failed write.
  int Flush(int fd);

  // Drops every queued frame and hands each attached request to `fn`.
  template <typename Fn>
  void Clear(Fn fn) {
    std::deque<Frame> frames;
    frames.swap(frames_);
    for (Frame& f : frames) {
      if (f.done_when_written != nullptr) fn(f.done_when_written);
    }
  }

 private:
  struct Frame {
    uint8_t header[kFrameHeaderBytes];
    const char* payload;
    size_t payload_len;
    size_t written;  // bytes of header + payload already written
    Request* done_when_written;
  };
  std::deque<Frame> frames_;
};

}  // namespace mc::tcp

#endif  // MOONCOMM_SRC_TRANSPORTS_TCP_OUTBOX_H_
