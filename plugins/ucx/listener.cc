#include "listener.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "context.h"
#include "endpoint.h"
#include "side_socket.h"

namespace mc::ucx {

Listener::Listener(UcxContext* ctx, int fd, const ListenAddress& address) : ctx_(ctx), fd_(fd), address_(address) {
  ctx_->Watch(fd_, this, EPOLLIN);
}

Listener::~Listener() {
  if (fd_ >= 0) Close();
  magic_ = 0;
}

void Listener::OnSocketEvents(uint32_t) {
  for (;;) {
    sockaddr_storage from{};
    socklen_t from_len = sizeof(from);
    const int fd = accept4(fd_, reinterpret_cast<sockaddr*>(&from), &from_len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED) {
        ctx_->Log(MC_LOG_WARN, "ucx: accept on " + FormatSockaddr(address_.sockaddr) + " failed: " +
                                   DescribeErrno(errno));
      }
      return;
    }
    Endpoint* ep = ctx_->NewEndpoint();
    if (ep == nullptr) {
      ctx_->Log(MC_LOG_ERROR, "ucx: no endpoint id left; refusing a connection");
      close(fd);
      continue;
    }
    handshaking_.push_back(ep);
    ep->StartAccepted(fd, this, address_.nonce, FormatSockaddr(from));
  }
}

mc_result_t Listener::Accept(Endpoint** ep, void* hello, size_t* hello_len) {
  OnSocketEvents(EPOLLIN);
  if (ready_.empty()) {
    ctx_->Progress();
    if (ready_.empty()) return MC_AGAIN;
  }
  Endpoint* next = ready_.front();
  if (next->hello().size() > *hello_len) {
    ctx_->Log(MC_LOG_ERROR, "ucx: accept: the hello is " + std::to_string(next->hello().size()) +
                                " bytes, the buffer holds " + std::to_string(*hello_len));
    return MC_ERR_NO_MEMORY;
  }
  ready_.pop_front();
  if (!next->hello().empty()) std::memcpy(hello, next->hello().data(), next->hello().size());
  *hello_len = next->hello().size();
  next->set_listener(nullptr);
  next->MarkHandedOut();
  *ep = next;
  return MC_SUCCESS;
}

void Listener::OnHandshakeDone(Endpoint* ep) {
  std::erase(handshaking_, ep);
  ready_.push_back(ep);
}

void Listener::Forget(Endpoint* ep) {
  std::erase(handshaking_, ep);
  std::erase(ready_, ep);
  ep->set_listener(nullptr);
  ep->Close();
}

void Listener::Close() {
  if (fd_ < 0) return;
  ctx_->Unwatch(fd_);
  close(fd_);
  fd_ = -1;
  std::vector<Endpoint*> unaccepted = handshaking_;
  unaccepted.insert(unaccepted.end(), ready_.begin(), ready_.end());
  handshaking_.clear();
  ready_.clear();
  for (Endpoint* ep : unaccepted) {
    ep->set_listener(nullptr);
    ep->Close();
  }
}

}  // namespace mc::ucx
