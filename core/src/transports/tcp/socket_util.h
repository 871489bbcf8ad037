// Small helpers around the socket calls of the tcp transport.
#ifndef MOONCOMM_SRC_TRANSPORTS_TCP_SOCKET_UTIL_H_
#define MOONCOMM_SRC_TRANSPORTS_TCP_SOCKET_UTIL_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace mc::tcp {

// A non-blocking, close-on-exec stream socket of `family`.
absl::StatusOr<int> OpenStreamSocket(int family);

// What every connection gets: TCP_NODELAY, keepalive probes and
// TCP_USER_TIMEOUT, so that a peer host that disappears is noticed within
// about `user_timeout_ms` even when no data is in flight.
absl::Status SetConnectionOptions(int fd, uint32_t user_timeout_ms);

// The pending error of a socket (SO_ERROR), 0 when none.
int PendingSocketError(int fd);

// Words for the peer_failed detail: "connection reset by peer" and so on.
std::string DescribeSocketError(int err);

}  // namespace mc::tcp

#endif  // MOONCOMM_SRC_TRANSPORTS_TCP_SOCKET_UTIL_H_
