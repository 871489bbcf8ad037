// A file descriptor that closes itself.
#ifndef MOONCOMM_SRC_TRANSPORTS_SHM_UNIQUE_FD_H_
#define MOONCOMM_SRC_TRANSPORTS_SHM_UNIQUE_FD_H_

#include <unistd.h>

namespace mc::shm {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { Reset(); }
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.Release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) Reset(other.Release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int Release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void Reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

}  // namespace mc::shm

#endif  // MOONCOMM_SRC_TRANSPORTS_SHM_UNIQUE_FD_H_
