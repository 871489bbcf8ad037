#include "listener.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "connection.h"
#include "side_channel.h"
#include "sockets.h"

namespace mc::rdma {

Listener::Listener(RdmaContext* ctx, int dev, int fd, uint64_t id, std::string name)
    : ctx_(ctx), dev_(dev), fd_(fd), id_(id), name_(std::move(name)) {}

Listener::~Listener() {
  // Queued connections belong to the context, which drops them first.
  if (fd_ >= 0) {
    ctx_->Unwatch(fd_);
    ::close(fd_);
  }
  magic_ = 0;
}

void Listener::OnEvents(uint32_t) {
  for (;;) {
    SockAddr peer;
    const int fd = AcceptOne(fd_, &peer);
    if (fd == -1) return;
    if (fd < 0) {
      ctx_->Log(MC_LOG_WARN, std::string("rdma: accept on ") + name_ + " failed: " + std::strerror(errno));
      return;
    }
    auto connection =
        std::make_unique<Connection>(ctx_, dev_, std::make_unique<SideChannel>(fd), this, id_, FormatSockAddr(peer));
    pending_.push_back(ctx_->AdoptConnection(std::move(connection)));
    ctx_->NoteHandshake();
  }
}

mc_result_t Listener::Accept(Connection** out, void* hello, size_t* hello_len) {
  for (auto it = pending_.begin(); it != pending_.end(); ++it) {
    Connection* c = *it;
    if (c->dead() || !c->acceptable()) continue;
    if (c->hello().size() > *hello_len) return MC_ERR_NO_MEMORY;
    if (!c->hello().empty()) std::memcpy(hello, c->hello().data(), c->hello().size());
    *hello_len = c->hello().size();
    pending_.erase(it);
    c->MarkHandedOut();
    *out = c;
    return MC_SUCCESS;
  }
  return MC_AGAIN;
}

void Listener::Forget(Connection* connection) {
  pending_.erase(std::remove(pending_.begin(), pending_.end(), connection), pending_.end());
}

void Listener::Close() {
  if (fd_ >= 0) {
    ctx_->Unwatch(fd_);
    ::close(fd_);
    fd_ = -1;
  }
  std::deque<Connection*> pending;
  pending.swap(pending_);
  for (Connection* c : pending) {
    c->set_listener(nullptr);
    ctx_->DestroyConnection(c);
  }
}

}  // namespace mc::rdma
