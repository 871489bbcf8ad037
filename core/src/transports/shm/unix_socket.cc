#include "transports/shm/unix_socket.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"

namespace mc::shm {
namespace {

bool FillAddress(std::string_view name, sockaddr_un* addr, socklen_t* len) {
  std::memset(addr, 0, sizeof(*addr));
  addr->sun_family = AF_UNIX;
  // Abstract namespace: a leading NUL, then the name (not NUL-terminated).
  if (name.empty() || name.size() + 1 > sizeof(addr->sun_path)) return false;
  std::memcpy(addr->sun_path + 1, name.data(), name.size());
  *len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
  return true;
}

int NewSocket() { return ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0); }

}  // namespace

absl::StatusOr<UniqueFd> ListenAbstract(std::string_view name) {
  sockaddr_un addr;
  socklen_t len = 0;
  if (!FillAddress(name, &addr, &len)) {
    return absl::InvalidArgumentError(absl::StrCat("socket name '", std::string(name), "' is empty or too long"));
  }
  UniqueFd sock(NewSocket());
  if (!sock.valid()) {
    int err = errno;
    return absl::InternalError(absl::StrCat("socket(AF_UNIX) failed: ", std::strerror(err)));
  }
  if (::bind(sock.get(), reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(sock.get(), SOMAXCONN) != 0) {
    int err = errno;
    return absl::InternalError(absl::StrCat("cannot listen on @", std::string(name), ": ", std::strerror(err)));
  }
  return sock;
}

int ConnectAbstract(std::string_view name, UniqueFd* sock) {
  sock->Reset(NewSocket());
  if (!sock->valid()) return errno;
  return ConnectAgain(sock->get(), name);
}

int ConnectAgain(int sock, std::string_view name) {
  sockaddr_un addr;
  socklen_t len = 0;
  if (!FillAddress(name, &addr, &len)) return EINVAL;
  if (::connect(sock, reinterpret_cast<sockaddr*>(&addr), len) == 0) return 0;
  int err = errno;
  if (err == EISCONN) return 0;
  return err == EINPROGRESS ? EAGAIN : err;
}

int AcceptConnection(int listen_sock) { return ::accept4(listen_sock, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC); }

int SendMessage(int sock, const void* msg, size_t bytes, int fd_to_pass) {
  iovec iov{const_cast<void*>(msg), bytes};
  msghdr hdr{};
  hdr.msg_iov = &iov;
  hdr.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  if (fd_to_pass >= 0) {
    std::memset(control, 0, sizeof(control));
    hdr.msg_control = control;
    hdr.msg_controllen = sizeof(control);
    cmsghdr* cmsg = CMSG_FIRSTHDR(&hdr);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(cmsg), &fd_to_pass, sizeof(int));
  }
  for (;;) {
    ssize_t sent = ::sendmsg(sock, &hdr, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (sent >= 0) return static_cast<size_t>(sent) == bytes ? 0 : EMSGSIZE;
    if (errno != EINTR) return errno == EWOULDBLOCK ? EAGAIN : errno;
  }
}

int ReceiveMessage(int sock, void* msg, size_t capacity, size_t* bytes, UniqueFd* fd) {
  *bytes = 0;
  iovec iov{msg, capacity};
  msghdr hdr{};
  hdr.msg_iov = &iov;
  hdr.msg_iovlen = 1;
  // Room for a few fds, so a peer that sends more cannot make us leak them.
  alignas(cmsghdr) char control[CMSG_SPACE(4 * sizeof(int))];
  hdr.msg_control = control;
  hdr.msg_controllen = sizeof(control);
  ssize_t got;
  do {
    got = ::recvmsg(sock, &hdr, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  } while (got < 0 && errno == EINTR);
  if (got < 0) return errno == EWOULDBLOCK ? EAGAIN : errno;
  bool have_fd = false;
  for (cmsghdr* cmsg = CMSG_FIRSTHDR(&hdr); cmsg != nullptr; cmsg = CMSG_NXTHDR(&hdr, cmsg)) {
    if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int received;
      std::memcpy(&received, CMSG_DATA(cmsg) + i * sizeof(int), sizeof(int));
      if (!have_fd && fd != nullptr) {
        fd->Reset(received);
        have_fd = true;
      } else {
        ::close(received);
      }
    }
  }
  if ((hdr.msg_flags & MSG_TRUNC) != 0) return EMSGSIZE;
  *bytes = static_cast<size_t>(got);
  return 0;
}

pid_t PeerPid(int sock) {
  ucred cred{};
  socklen_t len = sizeof(cred);
  if (::getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return 0;
  return cred.pid;
}

}  // namespace mc::shm
