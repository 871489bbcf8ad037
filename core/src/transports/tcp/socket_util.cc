#include "transports/tcp/socket_util.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace mc::tcp {
namespace {

absl::Status SetIntOption(int fd, int level, int name, int value, const char* what) {
  if (setsockopt(fd, level, name, &value, sizeof(value)) != 0) {
    return absl::InternalError(absl::StrCat("setsockopt(", what, "=", value, ") failed: ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<int> OpenStreamSocket(int family) {
  int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError(absl::StrCat("socket() failed: ", std::strerror(errno)));
  return fd;
}

absl::Status SetConnectionOptions(int fd, uint32_t user_timeout_ms) {
  // Probes start after a third of the timeout and repeat every ninth; the
  // user timeout then declares the connection dead.
  int timeout_s = static_cast<int>(std::max<uint32_t>(1, user_timeout_ms / 1000));
  int idle_s = std::max(1, timeout_s / 3);
  int interval_s = std::max(1, timeout_s / 9);
  absl::Status s = SetIntOption(fd, IPPROTO_TCP, TCP_NODELAY, 1, "TCP_NODELAY");
  if (s.ok()) s = SetIntOption(fd, SOL_SOCKET, SO_KEEPALIVE, 1, "SO_KEEPALIVE");
  if (s.ok()) s = SetIntOption(fd, IPPROTO_TCP, TCP_KEEPIDLE, idle_s, "TCP_KEEPIDLE");
  if (s.ok()) s = SetIntOption(fd, IPPROTO_TCP, TCP_KEEPINTVL, interval_s, "TCP_KEEPINTVL");
  if (s.ok()) s = SetIntOption(fd, IPPROTO_TCP, TCP_KEEPCNT, 9, "TCP_KEEPCNT");
  if (s.ok()) {
    s = SetIntOption(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, static_cast<int>(user_timeout_ms), "TCP_USER_TIMEOUT");
  }
  return s;
}

int PendingSocketError(int fd) {
  int err = 0;
  socklen_t len = sizeof(err);
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return errno;
  return err;
}

std::string DescribeSocketError(int err) {
  switch (err) {
    case 0: return "connection closed by peer";
    case ECONNRESET: return "connection reset by peer";
    case EPIPE: return "broken pipe: peer closed the connection";
    case ETIMEDOUT: return "connection timed out: peer host unreachable or not answering";
    case ECONNREFUSED: return "connection refused: nothing listens at the peer's address";
    case EHOSTUNREACH: return "no route to the peer's host";
    case ENETUNREACH: return "peer's network is unreachable";
    default: return absl::StrCat("socket error: ", std::strerror(err));
  }
}

}  // namespace mc::tcp
