// The side TCP socket of one connection, framed (wire.h): the handshake
// travels on it, and afterwards it is the liveness channel -- the kernel
// closes it when the peer process dies, and we see EOF.
#ifndef MOONCOMM_PLUGINS_RDMA_VERBS_SIDE_CHANNEL_H_
#define MOONCOMM_PLUGINS_RDMA_VERBS_SIDE_CHANNEL_H_

#include <string>

#include "wire.h"

namespace mc::rdma {

class SideChannel {
 public:
  enum class ReadResult { kFrame, kAgain, kClosed, kError };

  explicit SideChannel(int fd) : fd_(fd) {}
  ~SideChannel() { Close(); }
  SideChannel(const SideChannel&) = delete;
  SideChannel& operator=(const SideChannel&) = delete;

  int fd() const { return fd_; }
  bool open() const { return fd_ >= 0; }
  // Queues a frame and writes what the socket takes now. False on a socket
  // error (described in *error).
  bool Send(FrameType type, const std::string& body, std::string* error);
  // Writes queued bytes. False on a socket error.
  bool Flush(std::string* error);
  bool want_write() const { return !outbound_.empty(); }
  // One complete frame, or why there is none: kAgain (not all here yet),
  // kClosed (EOF), kError (a socket error or garbage, in *error).
  ReadResult Read(FrameHeader* header, std::string* body, std::string* error);
  void Close();

 private:
  int fd_;
  std::string inbound_;
  std::string outbound_;
  bool eof_ = false;
};

}  // namespace mc::rdma

#endif  // MOONCOMM_PLUGINS_RDMA_VERBS_SIDE_CHANNEL_H_
