#include "transports/tcp/outbox.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>

namespace mc::tcp {
namespace {

// Frames gathered into one sendmsg call (two iovecs each).
constexpr size_t kFramesPerWrite = 64;

}  // namespace

void Outbox::Push(const FrameHeader& header, const char* payload, size_t payload_len, Request* done_when_written) {
  Frame& f = frames_.emplace_back();
  EncodeFrameHeader(header, f.header);
  f.payload = payload;
  f.payload_len = payload_len;
  f.written = 0;
  f.done_when_written = done_when_written;
}

int Outbox::Flush(int fd) {
  while (!frames_.empty()) {
    iovec iov[2 * kFramesPerWrite];
    size_t iov_count = 0;
    size_t requested = 0;
    size_t frames = std::min(frames_.size(), kFramesPerWrite);
    for (size_t i = 0; i < frames; ++i) {
      Frame& f = frames_[i];
      if (f.written < kFrameHeaderBytes) {
        iov[iov_count++] = {f.header + f.written, kFrameHeaderBytes - f.written};
        requested += kFrameHeaderBytes - f.written;
      }
      size_t payload_done = f.written > kFrameHeaderBytes ? f.written - kFrameHeaderBytes : 0;
      if (f.payload_len > payload_done) {
        iov[iov_count++] = {const_cast<char*>(f.payload) + payload_done, f.payload_len - payload_done};
        requested += f.payload_len - payload_done;
      }
    }
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = iov_count;
    ssize_t n = sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno == EWOULDBLOCK ? EAGAIN : errno;
    }
    size_t left = static_cast<size_t>(n);
    while (!frames_.empty()) {
      Frame& f = frames_.front();
      size_t frame_left = kFrameHeaderBytes + f.payload_len - f.written;
      if (left < frame_left) {
        f.written += left;
        break;
      }
      left -= frame_left;
      if (f.done_when_written != nullptr) f.done_when_written->Complete(MC_SUCCESS, f.done_when_written->len);
      frames_.pop_front();
    }
    // A short write means the socket buffer is full: asking again would only
    // return EAGAIN.
    if (static_cast<size_t>(n) < requested) return EAGAIN;
  }
  return 0;
}

}  // namespace mc::tcp
