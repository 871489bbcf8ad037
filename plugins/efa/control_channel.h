// One control socket between two processes: the handshake frames go over
// it, then nothing until one side goes away. Its end is how a peer's death
// is seen: the kernel closes the sockets of a killed process at once, which
// RDM endpoints (connectionless) never tell anyone in time.
#ifndef MOONCOMM_PLUGINS_EFA_CONTROL_CHANNEL_H_
#define MOONCOMM_PLUGINS_EFA_CONTROL_CHANNEL_H_

#include <string>
#include <string_view>

#include "wire_format.h"

namespace mc::efa {

class ControlChannel {
 public:
  explicit ControlChannel(int fd) : fd_(fd) {}
  ~ControlChannel();
  ControlChannel(const ControlChannel&) = delete;
  ControlChannel& operator=(const ControlChannel&) = delete;

  int fd() const { return fd_; }

  void Queue(std::string_view bytes) { out_.append(bytes); }
  bool has_output() const { return out_offset_ < out_.size(); }
  // Writes what is queued, as far as the socket takes it. False, with the
  // reason in *error, when the socket has failed.
  bool Flush(std::string* error);

  enum class ReadStatus {
    kNothing,  // no complete frame yet
    kFrame,    // *frame holds the next frame
    kClosed,   // the peer closed its end
    kFailed,   // socket error or bytes that are no frame: *error says which
  };
  ReadStatus Read(Frame* frame, std::string* error);

 private:
  int fd_;
  std::string out_;
  size_t out_offset_ = 0;
  std::string in_;
};

}  // namespace mc::efa

#endif  // MOONCOMM_PLUGINS_EFA_CONTROL_CHANNEL_H_
