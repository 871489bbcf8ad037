#include "side_socket.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "listen_address.h"

namespace mc::ucx {
namespace {

constexpr int kBacklog = 1024;

void SetInt(int fd, int level, int name, int value) { setsockopt(fd, level, name, &value, sizeof(value)); }

}  // namespace

int OpenListener(const sockaddr_storage& address, sockaddr_storage* bound, std::string* why) {
  const int fd = socket(address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *why = "socket() failed: " + DescribeErrno(errno);
    return -1;
  }
  if (bind(fd, reinterpret_cast<const sockaddr*>(&address), SockaddrLength(address)) != 0) {
    *why = "bind to " + FormatSockaddr(address) + " failed: " + DescribeErrno(errno);
    close(fd);
    return -1;
  }
  if (listen(fd, kBacklog) != 0) {
    *why = "listen() failed: " + DescribeErrno(errno);
    close(fd);
    return -1;
  }
  socklen_t len = sizeof(*bound);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(bound), &len) != 0) {
    *why = "getsockname() failed: " + DescribeErrno(errno);
    close(fd);
    return -1;
  }
  return fd;
}

int StartConnect(const sockaddr_storage& address, int* err) {
  *err = 0;
  const int fd = socket(address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *err = errno;
    return -1;
  }
  if (connect(fd, reinterpret_cast<const sockaddr*>(&address), SockaddrLength(address)) != 0 &&
      errno != EINPROGRESS) {
    *err = errno;
    close(fd);
    return -1;
  }
  return fd;
}

void ConfigureSideSocket(int fd, int peer_timeout_ms) {
  SetInt(fd, IPPROTO_TCP, TCP_NODELAY, 1);
  SetInt(fd, SOL_SOCKET, SO_KEEPALIVE, 1);
  // Probes start after a third of the timeout and fill the rest of it.
  const int idle_s = std::max(1, peer_timeout_ms / 3000);
  const int interval_s = std::max(1, peer_timeout_ms / 6000);
  SetInt(fd, IPPROTO_TCP, TCP_KEEPIDLE, idle_s);
  SetInt(fd, IPPROTO_TCP, TCP_KEEPINTVL, interval_s);
  SetInt(fd, IPPROTO_TCP, TCP_KEEPCNT, 4);
  SetInt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, peer_timeout_ms);
}

int PendingSocketError(int fd) {
  int err = 0;
  socklen_t len = sizeof(err);
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return errno;
  return err;
}

IoStatus ReadAvailable(int fd, std::string* into, size_t max, int* err) {
  char buf[4096];
  const ssize_t n = read(fd, buf, std::min(sizeof(buf), max));
  if (n > 0) {
    into->append(buf, static_cast<size_t>(n));
    return IoStatus::kProgress;
  }
  if (n == 0) return IoStatus::kEof;
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return IoStatus::kWouldBlock;
  *err = errno;
  return IoStatus::kError;
}

IoStatus WritePending(int fd, std::string* out, int* err) {
  if (out->empty()) return IoStatus::kProgress;
  const ssize_t n = send(fd, out->data(), out->size(), MSG_NOSIGNAL);
  if (n >= 0) {
    out->erase(0, static_cast<size_t>(n));
    return IoStatus::kProgress;
  }
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return IoStatus::kWouldBlock;
  *err = errno;
  return IoStatus::kError;
}

std::string DescribeErrno(int err) {
  char buf[128];
  // GNU strerror_r returns the text (maybe not in buf).
  return strerror_r(err, buf, sizeof(buf));
}

}  // namespace mc::ucx
