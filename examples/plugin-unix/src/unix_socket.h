// Non-blocking Unix domain stream sockets in Linux's abstract namespace: a
// name that starts with a NUL byte lives in the kernel, not in the file
// system. It needs no directory, leaves no file behind, and vanishes when
// the listening socket is closed, so a connect to a closed listener is
// refused at once.
#ifndef UNIXDEMO_UNIX_SOCKET_H_
#define UNIXDEMO_UNIX_SOCKET_H_

#include <sys/types.h>

#include <string>

namespace unixdemo {

// A listening socket bound to `name`; -1 with errno set on failure.
int ListenUnix(const std::string& name);

// Starts connecting a new socket to `name`. Returns 0 when connected, else an
// errno: EAGAIN means the listener's backlog is full (call ConnectAgain later);
// anything else (ECONNREFUSED: no such listener) is final. *fd is the new
// socket, or -1 when none could be made.
int ConnectUnix(const std::string& name, int* fd);
int ConnectAgain(int fd, const std::string& name);

// Accepts one pending connection: its fd, or -1 with errno EAGAIN when none waits.
int AcceptUnix(int listen_fd);

// The pid of the process at the other end of a connected socket (as the
// kernel recorded it at connect time), or 0 when unknown.
pid_t PeerPid(int fd);

// True when a Unix stream socket can be made here (init's device check).
bool UnixSocketsWork();

}  // namespace unixdemo

#endif  // UNIXDEMO_UNIX_SOCKET_H_
