// Thin, deadline-aware wrappers over TCP sockets for the bootstrap store:
// an owning fd, name resolution, listen, one connect attempt, and blocking
// send/receive of whole frames that never wait past a deadline.
#ifndef MOONCOMM_SRC_BOOTSTRAP_SOCKET_IO_H_
#define MOONCOMM_SRC_BOOTSTRAP_SOCKET_IO_H_

#include <sys/socket.h>

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace mc::bootstrap {

// Owns a file descriptor; closes it on destruction.
class ScopedFd {
 public:
  ScopedFd() = default;
  explicit ScopedFd(int fd) : fd_(fd) {}
  ScopedFd(ScopedFd&& other) noexcept : fd_(other.release()) {}
  ScopedFd& operator=(ScopedFd&& other) noexcept;
  ScopedFd(const ScopedFd&) = delete;
  ScopedFd& operator=(const ScopedFd&) = delete;
  ~ScopedFd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release();
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;
};

// strerror text for an errno value, thread-safe.
std::string ErrnoText(int error);

// getaddrinfo for TCP. `passive`: addresses to bind. Unavailable when the
// resolver asks to try again later, InvalidArgument when the name is unknown.
absl::StatusOr<std::vector<SocketAddress>> Resolve(const std::string& host, int port, bool passive);

// Binds the first address of `host` that works (SO_REUSEADDR on) and listens,
// non-blocking. Errors name host:port and the errno text.
absl::StatusOr<ScopedFd> Listen(const std::string& host, int port);

// The local port a bound socket got.
absl::StatusOr<int> LocalPort(int fd);

// The numeric local address of a bound socket ("127.0.1.1", "::1"), and
// whether it is a loopback address. Empty/false when unknown.
std::string LocalAddressText(int fd, bool* loopback);

// One non-blocking connect to `address`, waiting at most until `deadline`.
// The status carries the errno text; `error` (if given) gets the errno.
absl::StatusOr<ScopedFd> ConnectOnce(const SocketAddress& address, absl::Time deadline, int* error);

// Non-blocking, close-on-exec, TCP_NODELAY and keepalive.
void ConfigureStreamSocket(int fd);

// How a blocking transfer on a socket ended, besides success.
enum class IoFailure { kNone, kDeadline, kClosed, kBadFrame };

struct IoResult {
  IoFailure failure = IoFailure::kNone;
  std::string detail;  // errno text or what was malformed
  bool ok() const { return failure == IoFailure::kNone; }
};

// Writes all of `data` to a non-blocking socket by `deadline`.
IoResult SendAll(int fd, std::string_view data, absl::Time deadline);

// Reads exactly one frame (see wire_format.h) by `deadline`; `body` gets the
// frame without its length prefix.
IoResult ReceiveFrame(int fd, absl::Time deadline, std::string* body);

}  // namespace mc::bootstrap

#endif  // MOONCOMM_SRC_BOOTSTRAP_SOCKET_IO_H_
