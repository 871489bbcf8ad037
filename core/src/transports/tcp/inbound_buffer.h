// The bytes read from a socket that no frame has taken yet. One recv into it
// usually brings several small frames at once; large payloads bypass it and
// are read straight into their destination.
#ifndef MOONCOMM_SRC_TRANSPORTS_TCP_INBOUND_BUFFER_H_
#define MOONCOMM_SRC_TRANSPORTS_TCP_INBOUND_BUFFER_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>

namespace mc::tcp {

class InboundBuffer {
 public:
  explicit InboundBuffer(size_t capacity);

  const uint8_t* data() const { return bytes_.get() + begin_; }
  size_t size() const { return end_ - begin_; }
  size_t capacity() const { return capacity_; }
  void Consume(size_t n) {
    begin_ += n;
    if (begin_ == end_) begin_ = end_ = 0;
  }

  // Reads what the socket has into the free space: > 0 bytes read, 0 at end
  // of stream, -1 with errno set (EAGAIN when nothing is there).
  ssize_t Fill(int fd);

 private:
  std::unique_ptr<uint8_t[]> bytes_;
  size_t capacity_;
  size_t begin_ = 0;
  size_t end_ = 0;
};

}  // namespace mc::tcp

#endif  // MOONCOMM_SRC_TRANSPORTS_TCP_INBOUND_BUFFER_H_
