// Non-blocking TCP helpers for the side connections (handshake, liveness).
#ifndef MOONCOMM_PLUGINS_UCX_SIDE_SOCKET_H_
#define MOONCOMM_PLUGINS_UCX_SIDE_SOCKET_H_

#include <sys/socket.h>

#include <string>

namespace mc::ucx {

// A listening socket on `address` (port 0: any); *bound gets the real port.
// -1 with `why` on failure.
int OpenListener(const sockaddr_storage& address, sockaddr_storage* bound, std::string* why);

// Starts a non-blocking connect. Returns the socket, or -1 with *err set when
// it failed at once. *err is 0 while the connect is under way.
int StartConnect(const sockaddr_storage& address, int* err);

// TCP_NODELAY, and keepalive so that a peer host that vanishes without
// closing its sockets is noticed after about `peer_timeout_ms`.
void ConfigureSideSocket(int fd, int peer_timeout_ms);

// The socket's pending error (SO_ERROR), 0 when none.
int PendingSocketError(int fd);

enum class IoStatus { kProgress, kWouldBlock, kEof, kError };

// Appends what can be read now to *into (at most `max` bytes per call).
IoStatus ReadAvailable(int fd, std::string* into, size_t max, int* err);
// Writes from the front of *out and removes what went; kProgress when some or all went.
IoStatus WritePending(int fd, std::string* out, int* err);

// "connection refused" and the like, for failure details.
std::string DescribeErrno(int err);

}  // namespace mc::ucx

#endif  // MOONCOMM_PLUGINS_UCX_SIDE_SOCKET_H_
