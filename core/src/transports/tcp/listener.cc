#include "transports/tcp/listener.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "absl/strings/str_cat.h"
#include "transports/tcp/context.h"
#include "transports/tcp/endpoint.h"
#include "transports/tcp/sock_addr.h"
#include "transports/tcp/socket_util.h"

namespace mc::tcp {
namespace {

constexpr int kAcceptsPerEvent = 64;

}  // namespace

Listener::Listener(TcpContext* ctx, int fd, std::string address)
    : ctx_(ctx), fd_(fd), address_(std::move(address)) {}

Listener::~Listener() {
  if (fd_ >= 0) {
    ctx_->Unwatch(fd_);
    ::close(fd_);
  }
  magic_ = 0;
}

void Listener::OnEvents(uint32_t /*events*/) {
  for (int i = 0; i < kAcceptsPerEvent && fd_ >= 0; ++i) {
    SockAddr peer;
    peer.len = sizeof(peer.storage);
    int fd = accept4(fd_, peer.get(), &peer.len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      if (errno == EINTR || errno == ECONNABORTED) continue;
      // EMFILE and friends: leave the connection in the backlog for later.
      ctx_->Log(MC_LOG_WARN, absl::StrCat("tcp: accept on ", address_, " failed: ", std::strerror(errno)));
      return;
    }
    if (absl::Status s = SetConnectionOptions(fd, ctx_->config().user_timeout_ms); !s.ok()) {
      ctx_->Log(MC_LOG_WARN, absl::StrCat("tcp: dropping connection from ", FormatSockAddr(peer), ": ",
                                          s.message()));
      ::close(fd);
      continue;
    }
    Endpoint* ep = ctx_->AdoptEndpoint(
        std::make_unique<Endpoint>(ctx_, fd, Endpoint::State::kAwaitHello, FormatSockAddr(peer)));
    ep->set_listener(this);
    awaiting_hello_.push_back(ep);
    // The HELLO often arrives with the connection: read it now, not a progress later.
    ep->OnEvents(EPOLLIN);
  }
}

void Listener::OnHelloReceived(Endpoint* ep) {
  auto it = std::find(awaiting_hello_.begin(), awaiting_hello_.end(), ep);
  if (it != awaiting_hello_.end()) awaiting_hello_.erase(it);
  ready_.push_back(ep);
}

void Listener::Forget(Endpoint* ep) {
  auto it = std::find(awaiting_hello_.begin(), awaiting_hello_.end(), ep);
  if (it != awaiting_hello_.end()) awaiting_hello_.erase(it);
  auto ready = std::find(ready_.begin(), ready_.end(), ep);
  if (ready != ready_.end()) ready_.erase(ready);
}

mc_result_t Listener::Accept(Endpoint** ep, void* hello, size_t* hello_len) {
  if (ready_.empty()) return MC_AGAIN;
  Endpoint* next = ready_.front();
  if (next->hello().size() > *hello_len) return MC_ERR_NO_MEMORY;
  ready_.pop_front();
  if (!next->hello().empty()) std::memcpy(hello, next->hello().data(), next->hello().size());
  *hello_len = next->hello().size();
  next->MarkHandedOut();
  *ep = next;
  return MC_SUCCESS;
}

void Listener::Close() {
  if (fd_ >= 0) {
    ctx_->Unwatch(fd_);
    ::close(fd_);
    fd_ = -1;
  }
  std::vector<Endpoint*> unclaimed(awaiting_hello_.begin(), awaiting_hello_.end());
  unclaimed.insert(unclaimed.end(), ready_.begin(), ready_.end());
  awaiting_hello_.clear();
  ready_.clear();
  for (Endpoint* ep : unclaimed) {
    ep->set_listener(nullptr);
    ctx_->DestroyEndpoint(ep);
  }
}

}  // namespace mc::tcp
