// Unix domain sockets (SOCK_SEQPACKET, abstract namespace) for the shm
// handshake and for noticing that a peer has gone. All non-blocking.
#ifndef MOONCOMM_SRC_TRANSPORTS_SHM_UNIX_SOCKET_H_
#define MOONCOMM_SRC_TRANSPORTS_SHM_UNIX_SOCKET_H_

#include <sys/types.h>

#include <cstddef>
#include <string_view>

#include "absl/status/statusor.h"
#include "transports/shm/unique_fd.h"

namespace mc::shm {

// A socket bound to `name` in the abstract namespace and listening.
absl::StatusOr<UniqueFd> ListenAbstract(std::string_view name);

// A new socket whose connect to `name` has been started. 0 on success, else
// errno: EAGAIN means the listener's backlog is full (call ConnectAgain).
int ConnectAbstract(std::string_view name, UniqueFd* sock);
int ConnectAgain(int sock, std::string_view name);

// Accepts one pending connection; -1 with errno EAGAIN when there is none.
int AcceptConnection(int listen_sock);

// Sends one message, with `fd_to_pass` attached unless it is -1.
// 0 or errno (EAGAIN when the socket buffer is full).
int SendMessage(int sock, const void* msg, size_t bytes, int fd_to_pass);

// Receives one message and at most one attached fd. 0 with *bytes == 0 is
// end of file; otherwise 0 or errno (EAGAIN when nothing is there). A message
// longer than `capacity` fails with EMSGSIZE; extra fds are closed.
int ReceiveMessage(int sock, void* msg, size_t capacity, size_t* bytes, UniqueFd* fd);

// The peer's pid as seen from this process (SO_PEERCRED), 0 when unknown
// (for example when it lives in another pid namespace).
pid_t PeerPid(int sock);

}  // namespace mc::shm

#endif  // MOONCOMM_SRC_TRANSPORTS_SHM_UNIX_SOCKET_H_
