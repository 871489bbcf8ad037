#include "channel.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <utility>

namespace mc::conformance {
namespace {
constexpr size_t kHeaderBytes = sizeof(uint32_t);
}  // namespace

Channel::~Channel() { Close(); }

Channel::Channel(Channel&& other) noexcept : fd_(std::exchange(other.fd_, -1)), buffer_(std::move(other.buffer_)) {}

Channel& Channel::operator=(Channel&& other) noexcept {
  if (this != &other) {
    Close();
    fd_ = std::exchange(other.fd_, -1);
    buffer_ = std::move(other.buffer_);
  }
  return *this;
}

void Channel::Close() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  buffer_.clear();
}

bool Channel::Send(std::string_view message) {
  if (fd_ < 0) return false;
  uint32_t length = static_cast<uint32_t>(message.size());
  std::string frame(kHeaderBytes, '\0');
  std::memcpy(frame.data(), &length, kHeaderBytes);
  frame.append(message);
  size_t done = 0;
  while (done < frame.size()) {
    // MSG_NOSIGNAL: a dead peer is an error here, not a SIGPIPE.
    ssize_t n = send(fd_, frame.data() + done, frame.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

std::optional<std::string> Channel::TakeBuffered() {
  if (buffer_.size() < kHeaderBytes) return std::nullopt;
  uint32_t length = 0;
  std::memcpy(&length, buffer_.data(), kHeaderBytes);
  if (buffer_.size() < kHeaderBytes + length) return std::nullopt;
  std::string message = buffer_.substr(kHeaderBytes, length);
  buffer_.erase(0, kHeaderBytes + length);
  return message;
}

std::optional<std::string> Channel::Receive(const Deadline& deadline, const std::function<void()>& idle) {
  if (fd_ < 0) return std::nullopt;
  for (;;) {
    if (std::optional<std::string> message = TakeBuffered()) return message;
    pollfd pfd{fd_, POLLIN, 0};
    int wait_ms = idle ? 1 : deadline.RemainingMs();
    if (idle && deadline.Expired()) wait_ms = 0;
    int ready = poll(&pfd, 1, wait_ms);
    if (ready < 0 && errno != EINTR) return std::nullopt;
    if (ready > 0) {
      char chunk[4096];
      ssize_t n = read(fd_, chunk, sizeof(chunk));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return std::nullopt;  // end of file or error
      buffer_.append(chunk, static_cast<size_t>(n));
      continue;
    }
    if (deadline.Expired()) return std::nullopt;
    if (idle) idle();
  }
}

}  // namespace mc::conformance
