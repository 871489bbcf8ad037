#include "control_channel.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "socket_util.h"

namespace mc::efa {
namespace {
constexpr size_t kMaxBufferedInput = 4096;  // far more than any handshake frame
}  // namespace

ControlChannel::~ControlChannel() {
  if (fd_ >= 0) close(fd_);
}

bool ControlChannel::Flush(std::string* error) {
  while (has_output()) {
    ssize_t n = send(fd_, out_.data() + out_offset_, out_.size() - out_offset_, MSG_NOSIGNAL);
    if (n > 0) {
      out_offset_ += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    if (n < 0 && errno == EINTR) continue;
    *error = "writing the control socket: " + ErrnoText(n < 0 ? errno : EPIPE);
    return false;
  }
  out_.clear();
  out_offset_ = 0;
  return true;
}

ControlChannel::ReadStatus ControlChannel::Read(Frame* frame, std::string* error) {
  size_t consumed = 0;
  bool eof = false;
  // A frame may already be buffered from an earlier read.
  ParseResult parsed = ParseFrame(in_, frame, &consumed, error);
  while (parsed == ParseResult::kIncomplete) {
    char buf[1024];
    ssize_t n = recv(fd_, buf, sizeof(buf), 0);
    if (n > 0) {
      in_.append(buf, static_cast<size_t>(n));
      if (in_.size() > kMaxBufferedInput) {
        *error = "the peer sent more on the control socket than any handshake frame";
        return ReadStatus::kFailed;
      }
      parsed = ParseFrame(in_, frame, &consumed, error);
      continue;
    }
    if (n == 0) {
      eof = true;
      break;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) break;
    *error = "reading the control socket: " + ErrnoText(errno);
    // A reset is how a peer that died with unread data shows up: gone, like EOF.
    return errno == ECONNRESET ? ReadStatus::kClosed : ReadStatus::kFailed;
  }
  if (parsed == ParseResult::kFrame) {
    in_.erase(0, consumed);
    return ReadStatus::kFrame;
  }
  if (parsed == ParseResult::kInvalid) return ReadStatus::kFailed;
  if (!eof) return ReadStatus::kNothing;
  if (in_.empty()) {
    *error = "the control socket was closed";
    return ReadStatus::kClosed;
  }
  *error = "the control socket closed in the middle of a handshake frame";
  return ReadStatus::kFailed;
}

}  // namespace mc::efa
