#include "listener.h"

#include <errno.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "context.h"
#include "endpoint.h"
#include "unix_socket.h"

namespace unixdemo {

Listener::Listener(Context* ctx, int fd, std::string name) : ctx_(ctx), fd_(fd), name_(std::move(name)) {}

Listener::~Listener() {
  if (fd_ >= 0) close(fd_);
  magic_ = 0;
}

void Listener::Progress() {
  if (closed_) return;
  for (;;) {
    const int fd = AcceptUnix(fd_);
    if (fd >= 0) {
      pending_.push_back(ctx_->AdoptAccepted(fd));
      continue;
    }
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      // EMFILE and the like: leave the connection queued and try again later.
      ctx_->Log(MC_LOG_WARN, "unixdemo: accept on %s failed: %s", name_.c_str(), std::strerror(errno));
    }
    return;
  }
}

Endpoint* Listener::NextReady() {
  for (auto it = pending_.begin(); it != pending_.end();) {
    Endpoint* ep = *it;
    if (ep->awaiting_hello() && ep->broken()) {
      ctx_->Retire(ep);  // the connector gave up before saying hello
      it = pending_.erase(it);
      continue;
    }
    if (!ep->awaiting_hello()) return ep;
    ++it;
  }
  return nullptr;
}

void Listener::Remove(Endpoint* ep) { pending_.erase(std::find(pending_.begin(), pending_.end(), ep)); }

void Listener::Close() {
  for (Endpoint* ep : pending_) ctx_->Retire(ep);
  pending_.clear();
  if (fd_ >= 0) close(fd_);  // the abstract name disappears with the socket
  fd_ = -1;
  closed_ = true;
}

}  // namespace unixdemo
