#include "listener.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "context.h"
#include "socket_util.h"
#include "wire_format.h"

namespace mc::efa {

// A socket accepted from a connector, until its REQUEST is in.
class Listener::Incoming : public SocketWatcher {
 public:
  Incoming(Listener* owner, int fd, Clock::time_point deadline)
      : owner_(owner), channel(std::make_unique<ControlChannel>(fd)), deadline(deadline) {
    owner_->ctx_->HandshakeBegan();
  }
  ~Incoming() override {
    // A channel handed to a connection is no longer ours to unwatch.
    if (channel != nullptr) owner_->ctx_->Unwatch(channel->fd());
    owner_->ctx_->HandshakeEnded();
  }
  void OnSocketEvents(uint32_t events) override { owner_->OnIncoming(this, events); }

  Listener* owner_;
  std::unique_ptr<ControlChannel> channel;
  Clock::time_point deadline;
  bool finished = false;
};

Listener::Listener(Context* ctx, Device* device, int fd, uint64_t id) : ctx_(ctx), device_(device), fd_(fd), id_(id) {}

mc_result_t Listener::Open(Context* ctx, Device* device, uint64_t id, std::string* address, Listener** out,
                           std::string* error) {
  SocketAddress bound;
  const int fd = OpenListenSocket(device->control_ip(), &bound, error);
  if (fd < 0) return MC_ERR_INTERNAL;
  auto listener = std::unique_ptr<Listener>(new Listener(ctx, device, fd, id));
  if (!ctx->Watch(fd, EPOLLIN, listener.get())) {
    *error = "epoll_ctl: " + ErrnoText(errno);
    close(fd);
    listener->fd_ = -1;
    return MC_ERR_INTERNAL;
  }
  ListenAddress a;
  FillListenAddress(bound, &a);
  a.device_index = static_cast<uint32_t>(device->index());
  a.provider_id = device->provider_id();
  a.listener_id = id;
  *address = EncodeListenAddress(a);
  ctx->log()(MC_LOG_DEBUG, "efa: listening on %s for device %s", bound.ToString().c_str(), device->name().c_str());
  *out = listener.release();
  return MC_SUCCESS;
}

Listener::~Listener() {
  magic_ = 0;
  if (fd_ >= 0) {
    ctx_->Unwatch(fd_);
    close(fd_);
  }
  incoming_.clear();
  for (Connection* conn : ready_) ctx_->DestroyConnection(conn);
}

mc_result_t Listener::Accept(Connection** ep, void* hello, size_t* hello_len) {
  ctx_->PollSockets(/*force=*/true);
  while (!ready_.empty()) {
    Connection* conn = ready_.front();
    if (conn->state() == Connection::State::kFailed) {  // its connector went away meanwhile
      ready_.pop_front();
      ctx_->DestroyConnection(conn);
      continue;
    }
    if (conn->hello().size() > *hello_len) return MC_ERR_NO_MEMORY;
    ready_.pop_front();
    if (!conn->hello().empty()) std::memcpy(hello, conn->hello().data(), conn->hello().size());
    *hello_len = conn->hello().size();
    conn->MarkHandedOut();
    *ep = conn;
    return MC_SUCCESS;
  }
  return MC_AGAIN;
}

void Listener::OnSocketEvents(uint32_t /*events*/) {
  const Clock::time_point deadline = Clock::now() + std::chrono::milliseconds(ctx_->config().connect_timeout_ms);
  for (;;) {
    const int fd = accept4(fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        ctx_->log()(MC_LOG_WARN, "efa: accept on a listener: %s", ErrnoText(errno).c_str());
      }
      return;
    }
    EnableKeepalive(fd);
    auto incoming = std::make_unique<Incoming>(this, fd, deadline);
    if (!ctx_->Watch(fd, EPOLLIN, incoming.get())) {
      ctx_->log()(MC_LOG_WARN, "efa: epoll_ctl for an accepted control socket: %s", ErrnoText(errno).c_str());
      incoming->channel.reset();
      continue;
    }
    incoming_.push_back(std::move(incoming));
  }
}

void Listener::OnIncoming(Incoming* incoming, uint32_t events) {
  if (incoming->finished || incoming->channel == nullptr) return;
  std::string error;
  if ((events & EPOLLOUT) != 0 && incoming->channel->has_output()) {
    // The rest of a REJECT.
    if (!incoming->channel->Flush(&error) || !incoming->channel->has_output()) incoming->finished = true;
    return;
  }
  Frame frame;
  switch (incoming->channel->Read(&frame, &error)) {
    case ControlChannel::ReadStatus::kNothing:
      return;
    case ControlChannel::ReadStatus::kClosed:
    case ControlChannel::ReadStatus::kFailed:
      ctx_->log()(MC_LOG_DEBUG, "efa: a connector left before its handshake was done: %s", error.c_str());
      incoming->finished = true;
      return;
    case ControlChannel::ReadStatus::kFrame:
      break;
  }
  HandshakeRequest request;
  if (!DecodeRequest(frame, &request, &error)) {
    Refuse(incoming, error);
    return;
  }
  if (request.listener_id != id_) {
    Refuse(incoming, "no such listener here (it was closed)");
    return;
  }
  Connection* conn = Connection::Accept(ctx_, device_, incoming->channel, request, &error);
  if (conn == nullptr) {
    Refuse(incoming, "the acceptor could not open an endpoint: " + error);
    return;
  }
  ready_.push_back(conn);
  incoming->finished = true;
}

void Listener::Refuse(Incoming* incoming, const std::string& reason) {
  ctx_->log()(MC_LOG_DEBUG, "efa: refusing a connection: %s", reason.c_str());
  incoming->channel->Queue(EncodeReject(reason));
  std::string error;
  if (!incoming->channel->Flush(&error) || !incoming->channel->has_output()) {
    incoming->finished = true;
    return;
  }
  ctx_->Rewatch(incoming->channel->fd(), EPOLLOUT, incoming);
}

void Listener::Tidy(Clock::time_point now) {
  std::erase_if(incoming_, [now](const std::unique_ptr<Incoming>& in) { return in->finished || now >= in->deadline; });
}

}  // namespace mc::efa
