#include "bootstrap/socket_io.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "bootstrap/host_port.h"
#include "bootstrap/wire_format.h"

namespace mc::bootstrap {
namespace {

// Milliseconds for poll() until `deadline`, rounded up so a wait never spins
// on a zero timeout while time is left; -1 for no deadline.
int PollTimeoutMs(absl::Time deadline) {
  if (deadline == absl::InfiniteFuture()) return -1;
  absl::Duration left = deadline - absl::Now();
  if (left <= absl::ZeroDuration()) return 0;
  int64_t ms = absl::ToInt64Milliseconds(absl::Ceil(left, absl::Milliseconds(1)));
  return ms > INT_MAX ? INT_MAX : static_cast<int>(ms);
}

// Waits for `events` on `fd`; false once the deadline has passed. Errors and
// hang-ups count as ready: the caller's next send/recv reports them.
bool WaitFor(int fd, short events, absl::Time deadline) {
  while (true) {
    int timeout = PollTimeoutMs(deadline);
    pollfd p{fd, events, 0};
    int n = poll(&p, 1, timeout);
    if (n > 0 || (n < 0 && errno != EINTR)) return true;
    if (timeout == 0) return false;
    // Interrupted, or woke before the deadline because of rounding: wait again.
  }
}

IoResult Fail(IoFailure failure, std::string detail) { return IoResult{failure, std::move(detail)}; }

IoResult ReceiveExactly(int fd, char* out, size_t size, absl::Time deadline) {
  size_t done = 0;
  while (done < size) {
    ssize_t n = recv(fd, out + done, size - done, 0);
    if (n > 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    if (n == 0) return Fail(IoFailure::kClosed, "connection closed by the other side");
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return Fail(IoFailure::kClosed, ErrnoText(errno));
    if (!WaitFor(fd, POLLIN, deadline)) return Fail(IoFailure::kDeadline, "timed out");
  }
  return IoResult{};
}

}  // namespace

ScopedFd& ScopedFd::operator=(ScopedFd&& other) noexcept {
  if (this != &other) reset(other.release());
  return *this;
}

int ScopedFd::release() {
  int fd = fd_;
  fd_ = -1;
  return fd;
}

void ScopedFd::reset(int fd) {
  if (fd_ >= 0) close(fd_);
  fd_ = fd;
}

std::string ErrnoText(int error) {
  char buffer[256];
  // GNU strerror_r returns the message, which may or may not live in `buffer`.
  return strerror_r(error, buffer, sizeof(buffer));
}

absl::StatusOr<std::vector<SocketAddress>> Resolve(const std::string& host, int port, bool passive) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_protocol = IPPROTO_TCP;
  hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
  addrinfo* list = nullptr;
  std::string service = absl::StrCat(port);
  int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &list);
  if (rc != 0) {
    std::string text = rc == EAI_SYSTEM ? ErrnoText(errno) : gai_strerror(rc);
    std::string message = absl::StrCat("cannot resolve host '", host, "': ", text);
    if (rc == EAI_AGAIN) return absl::UnavailableError(message);
    return absl::InvalidArgumentError(message);
  }
  std::vector<SocketAddress> addresses;
  for (addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
    if (ai->ai_addrlen > sizeof(sockaddr_storage)) continue;
    SocketAddress address;
    std::memcpy(&address.storage, ai->ai_addr, ai->ai_addrlen);
    address.length = ai->ai_addrlen;
    addresses.push_back(address);
  }
  freeaddrinfo(list);
  if (addresses.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("host '", host, "' has no TCP address"));
  }
  return addresses;
}

absl::StatusOr<ScopedFd> Listen(const std::string& host, int port) {
  absl::StatusOr<std::vector<SocketAddress>> addresses = Resolve(host, port, /*passive=*/true);
  if (!addresses.ok()) return addresses.status();
  std::vector<std::string> failures;
  for (const SocketAddress& address : *addresses) {
    ScopedFd fd(socket(address.storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd.valid()) {
      failures.push_back(absl::StrCat("socket: ", ErrnoText(errno)));
      continue;
    }
    int one = 1;
    setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd.get(), reinterpret_cast<const sockaddr*>(&address.storage), address.length) != 0) {
      failures.push_back(absl::StrCat("bind: ", ErrnoText(errno)));
      continue;
    }
    if (listen(fd.get(), SOMAXCONN) != 0) {
      failures.push_back(absl::StrCat("listen: ", ErrnoText(errno)));
      continue;
    }
    return fd;
  }
  return absl::UnavailableError(absl::StrCat("cannot listen on ", FormatHostPort(host, port),
                                             " for the bootstrap store: ", absl::StrJoin(failures, "; ")));
}

absl::StatusOr<int> LocalPort(int fd) {
  sockaddr_storage storage{};
  socklen_t length = sizeof(storage);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&storage), &length) != 0) {
    return absl::InternalError(absl::StrCat("getsockname: ", ErrnoText(errno)));
  }
  if (storage.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_port);
  return ntohs(reinterpret_cast<const sockaddr_in*>(&storage)->sin_port);
}

std::string LocalAddressText(int fd, bool* loopback) {
  *loopback = false;
  sockaddr_storage storage{};
  socklen_t length = sizeof(storage);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&storage), &length) != 0) return "";
  char text[INET6_ADDRSTRLEN] = {};
  if (storage.ss_family == AF_INET6) {
    const in6_addr& a = reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_addr;
    *loopback = IN6_IS_ADDR_LOOPBACK(&a) ||
                (IN6_IS_ADDR_V4MAPPED(&a) && a.s6_addr[12] == 127);
    inet_ntop(AF_INET6, &a, text, sizeof(text));
  } else if (storage.ss_family == AF_INET) {
    const in_addr& a = reinterpret_cast<const sockaddr_in*>(&storage)->sin_addr;
    *loopback = (ntohl(a.s_addr) >> 24) == 127;
    inet_ntop(AF_INET, &a, text, sizeof(text));
  }
  return text;
}

void ConfigureStreamSocket(int fd) {
  int flags = fcntl(fd, F_GETFL, 0);
  if (flags >= 0) fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  fcntl(fd, F_SETFD, FD_CLOEXEC);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  // A peer host that vanishes without a FIN is noticed in about 25 s even
  // while a request waits without a deadline.
  setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
  int idle_s = 10, interval_s = 5, probes = 3;
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle_s, sizeof(idle_s));
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval_s, sizeof(interval_s));
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &probes, sizeof(probes));
}

absl::StatusOr<ScopedFd> ConnectOnce(const SocketAddress& address, absl::Time deadline, int* error) {
  int dummy = 0;
  int& err = error != nullptr ? *error : dummy;
  ScopedFd fd(socket(address.storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    err = errno;
    return absl::UnavailableError(absl::StrCat("socket: ", ErrnoText(err)));
  }
  ConfigureStreamSocket(fd.get());
  int rc;
  do {
    rc = connect(fd.get(), reinterpret_cast<const sockaddr*>(&address.storage), address.length);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0 && errno != EINPROGRESS) {
    err = errno;
    return absl::UnavailableError(ErrnoText(err));
  }
  if (rc != 0) {
    if (!WaitFor(fd.get(), POLLOUT, deadline)) {
      err = ETIMEDOUT;
      return absl::DeadlineExceededError("connect timed out");
    }
    int so_error = 0;
    socklen_t length = sizeof(so_error);
    getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &so_error, &length);
    if (so_error != 0) {
      err = so_error;
      return absl::UnavailableError(ErrnoText(so_error));
    }
  }
  err = 0;
  return fd;
}

IoResult SendAll(int fd, std::string_view data, absl::Time deadline) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n >= 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return Fail(IoFailure::kClosed, ErrnoText(errno));
    if (!WaitFor(fd, POLLOUT, deadline)) return Fail(IoFailure::kDeadline, "timed out");
  }
  return IoResult{};
}

IoResult ReceiveFrame(int fd, absl::Time deadline, std::string* body) {
  char header[kFrameHeaderBytes];
  IoResult result = ReceiveExactly(fd, header, sizeof(header), deadline);
  if (!result.ok()) return result;
  absl::StatusOr<size_t> length = ParseFrameHeader(std::string_view(header, sizeof(header)));
  if (!length.ok()) return Fail(IoFailure::kBadFrame, std::string(length.status().message()));
  body->resize(*length);
  return ReceiveExactly(fd, body->data(), *length, deadline);
}

}  // namespace mc::bootstrap
