// A side channel between the processes of one case (a socketpair end), used
// only to exchange addresses and keys and to line the processes up; the data
// under test always goes through the plugin. Messages are length-prefixed.
#ifndef MOONCOMM_TESTS_CONFORMANCE_CHANNEL_H_
#define MOONCOMM_TESTS_CONFORMANCE_CHANNEL_H_

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "deadline.h"

namespace mc::conformance {

class Channel {
 public:
  Channel() = default;
  explicit Channel(int fd) : fd_(fd) {}
  ~Channel();
  Channel(Channel&& other) noexcept;
  Channel& operator=(Channel&& other) noexcept;
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  bool valid() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  void Close();

  // Sends one message; false when the other end is gone.
  bool Send(std::string_view message);
  // Receives one message; nullopt on end of file, error or deadline. While
  // waiting, `idle` runs about every millisecond (to drive a transport's
  // progress, since the peer may need it to make its own).
  std::optional<std::string> Receive(const Deadline& deadline, const std::function<void()>& idle = {});

 private:
  // The message at the front of buffer_, if it is complete.
  std::optional<std::string> TakeBuffered();

  int fd_ = -1;
  std::string buffer_;
};

}  // namespace mc::conformance

#endif  // MOONCOMM_TESTS_CONFORMANCE_CHANNEL_H_
