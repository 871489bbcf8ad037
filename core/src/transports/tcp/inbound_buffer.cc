#include "transports/tcp/inbound_buffer.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace mc::tcp {

InboundBuffer::InboundBuffer(size_t capacity)
    : bytes_(std::make_unique_for_overwrite<uint8_t[]>(capacity)), capacity_(capacity) {}

ssize_t InboundBuffer::Fill(int fd) {
  if (begin_ > 0) {
    std::memmove(bytes_.get(), bytes_.get() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (end_ == capacity_) {
    errno = ENOBUFS;
    return -1;
  }
  for (;;) {
    ssize_t n = recv(fd, bytes_.get() + end_, capacity_ - end_, MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n > 0) end_ += static_cast<size_t>(n);
    return n;
  }
}

}  // namespace mc::tcp
