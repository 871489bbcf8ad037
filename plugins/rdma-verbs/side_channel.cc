#include "side_channel.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace mc::rdma {

bool SideChannel::Send(FrameType type, const std::string& body, std::string* error) {
  outbound_ += EncodeFrame(type, body);
  return Flush(error);
}

bool SideChannel::Flush(std::string* error) {
  while (!outbound_.empty() && fd_ >= 0) {
    ssize_t n = ::send(fd_, outbound_.data(), outbound_.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      outbound_.erase(0, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    *error = std::string("side socket: ") + std::strerror(errno);
    return false;
  }
  return true;
}

SideChannel::ReadResult SideChannel::Read(FrameHeader* header, std::string* body, std::string* error) {
  for (;;) {
    if (inbound_.size() >= kFrameHeaderBytes) {
      StatusOr<FrameHeader> h = DecodeFrameHeader(reinterpret_cast<const uint8_t*>(inbound_.data()));
      if (!h.ok()) {
        *error = h.status().message();
        return ReadResult::kError;
      }
      if (inbound_.size() >= kFrameHeaderBytes + h->body_len) {
        *header = *h;
        body->assign(inbound_, kFrameHeaderBytes, h->body_len);
        inbound_.erase(0, kFrameHeaderBytes + h->body_len);
        return ReadResult::kFrame;
      }
    }
    if (eof_) return inbound_.empty() ? ReadResult::kClosed : ReadResult::kError;
    if (fd_ < 0) return ReadResult::kClosed;
    char buf[2048];
    ssize_t n = ::recv(fd_, buf, sizeof(buf), MSG_DONTWAIT);
    if (n > 0) {
      inbound_.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n == 0) {
      eof_ = true;
      if (!inbound_.empty()) *error = "the side socket closed in the middle of a frame";
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return ReadResult::kAgain;
    *error = std::string("side socket: ") + std::strerror(errno);
    return ReadResult::kError;
  }
}

void SideChannel::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

}  // namespace mc::rdma
