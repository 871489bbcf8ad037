#include "unix_socket.h"

#include <errno.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

namespace unixdemo {
namespace {

// The sockaddr for abstract name `name`: sun_path = NUL + name, and the
// length counts exactly those bytes (no terminating NUL in the abstract namespace).
socklen_t AbstractAddress(const std::string& name, sockaddr_un* addr) {
  std::memset(addr, 0, sizeof(*addr));
  addr->sun_family = AF_UNIX;
  std::memcpy(addr->sun_path + 1, name.data(), name.size());  // callers keep name <= 107 bytes
  return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
}

int NewSocket() { return socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0); }

}  // namespace

int ListenUnix(const std::string& name) {
  if (name.size() + 1 > sizeof(sockaddr_un::sun_path)) {
    errno = ENAMETOOLONG;
    return -1;
  }
  int fd = NewSocket();
  if (fd < 0) return -1;
  sockaddr_un addr;
  socklen_t len = AbstractAddress(name, &addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 || listen(fd, SOMAXCONN) != 0) {
    int err = errno;
    close(fd);
    errno = err;
    return -1;
  }
  return fd;
}

int ConnectAgain(int fd, const std::string& name) {
  sockaddr_un addr;
  socklen_t len = AbstractAddress(name, &addr);
  for (;;) {
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), len) == 0) return 0;
    if (errno == EINTR) continue;
    // A Unix stream connect never answers EINPROGRESS: it is made at once,
    // refused at once, or EAGAIN while the listener's backlog is full.
    return errno == EWOULDBLOCK ? EAGAIN : errno;
  }
}

int ConnectUnix(const std::string& name, int* fd) {
  *fd = -1;
  if (name.size() + 1 > sizeof(sockaddr_un::sun_path)) return ENAMETOOLONG;
  *fd = NewSocket();
  if (*fd < 0) return errno;
  return ConnectAgain(*fd, name);
}

int AcceptUnix(int listen_fd) {
  for (;;) {
    int fd = accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0 || errno != EINTR) return fd;
  }
}

pid_t PeerPid(int fd) {
  ucred cred{};
  socklen_t len = sizeof(cred);
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return 0;
  return cred.pid;
}

bool UnixSocketsWork() {
  int fd = NewSocket();
  if (fd < 0) return false;
  close(fd);
  return true;
}

}  // namespace unixdemo
