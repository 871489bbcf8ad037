// The side connection of an endpoint: the handshake on both ends, the UCP
// endpoint it leads to, and the liveness watch afterwards.
#include <sys/epoll.h>
#include <unistd.h>

#include <cstring>

#include "context.h"
#include "endpoint.h"
#include "handshake.h"
#include "listener.h"
#include "side_socket.h"

namespace mc::ucx {
namespace {

constexpr uint32_t kReadEvents = EPOLLIN | EPOLLRDHUP;
// A peer's handshake frame is small; more than this in one go is garbage.
constexpr size_t kMaxHandshakeRead = 2 * kMaxWorkerAddressBytes;

void UcxErrorHandler(void* arg, ucp_ep_h, ucs_status_t status) {
  // Only recorded here: the context acts on it after ucp_worker_progress returns.
  auto* ep = static_cast<Endpoint*>(arg);
  ep->OnUcxError(status);
}

}  // namespace

void Endpoint::SetHandshaking(bool on) {
  if (on == handshaking_counted_) return;
  handshaking_counted_ = on;
  if (on) {
    ctx_->HandshakeStarted();
  } else {
    ctx_->HandshakeEnded();
  }
}

void Endpoint::StartConnect(const ListenAddress& address, const void* hello, size_t hello_len) {
  state_ = State::kConnecting;
  peer_name_ = FormatSockaddr(address.sockaddr);
  deadline_ = Clock::now() + std::chrono::milliseconds(ctx_->config().connect_timeout_ms);
  SetHandshaking(true);
  HelloFrame frame;
  frame.listener_nonce = address.nonce;
  frame.endpoint_id = id_;
  frame.hello.assign(static_cast<const char*>(hello), hello_len);
  frame.worker_address = ctx_->worker_address();
  out_ = EncodeHello(frame);
  int err = 0;
  fd_ = mc::ucx::StartConnect(address.sockaddr, &err);
  if (fd_ < 0) {
    Fail("connect to " + peer_name_ + " failed: " + DescribeErrno(err));
    return;
  }
  ConfigureSideSocket(fd_, ctx_->config().peer_timeout_ms);
  watched_events_ = kReadEvents | EPOLLOUT;
  ctx_->Watch(fd_, this, watched_events_);
}

void Endpoint::StartAccepted(int fd, Listener* listener, uint64_t listener_nonce, const std::string& peer_name) {
  state_ = State::kAwaitHello;
  fd_ = fd;
  connected_ = true;
  listener_ = listener;
  listener_nonce_ = listener_nonce;
  peer_name_ = peer_name;
  deadline_ = Clock::now() + std::chrono::milliseconds(ctx_->config().connect_timeout_ms);
  SetHandshaking(true);
  ConfigureSideSocket(fd_, ctx_->config().peer_timeout_ms);
  watched_events_ = kReadEvents;
  ctx_->Watch(fd_, this, watched_events_);
}

void Endpoint::MarkHandedOut() {
  handed_out_ = true;
  if (state_ == State::kFailed && !reported_) {
    report_due_ = true;
    ctx_->QueueReport(this);
  }
}

void Endpoint::CheckHandshakeDeadline(Clock::time_point now) {
  if (!handshaking() || now < deadline_) return;
  Fail("the handshake with " + peer_name_ + " did not finish within MC_UCX_CONNECT_TIMEOUT_MS (" +
       std::to_string(ctx_->config().connect_timeout_ms) + " ms)");
}

void Endpoint::OnSocketEvents(uint32_t events) {
  if (fd_ < 0) return;
  switch (state_) {
    case State::kConnecting:
      OnConnectorEvents(events);
      break;
    case State::kAwaitHello:
      OnAcceptorEvents(events);
      break;
    case State::kOpen:
      OnOpenEvents(events);
      break;
    case State::kFailed:
      break;
  }
}

bool Endpoint::FlushSocket() {
  int err = 0;
  if (WritePending(fd_, &out_, &err) == IoStatus::kError) {
    Fail("writing the handshake to " + peer_name_ + " failed: " + DescribeErrno(err));
    return false;
  }
  const uint32_t wanted = out_.empty() ? kReadEvents : (kReadEvents | EPOLLOUT);
  if (wanted != watched_events_) {
    watched_events_ = wanted;
    ctx_->Watch(fd_, this, watched_events_);
  }
  return true;
}

void Endpoint::OnConnectorEvents(uint32_t events) {
  if (!connected_) {
    if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) == 0) return;
    if (const int err = PendingSocketError(fd_); err != 0) {
      Fail("connect to " + peer_name_ + " failed: " + DescribeErrno(err));
      return;
    }
    connected_ = true;
  }
  if (!FlushSocket()) return;
  if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP)) == 0) return;
  int err = 0;
  const IoStatus io = ReadAvailable(fd_, &in_, kMaxHandshakeRead, &err);
  if (io == IoStatus::kEof || io == IoStatus::kError) {
    Fail("the listener at " + peer_name_ + " closed the connection during the handshake" +
         (io == IoStatus::kError ? " (" + DescribeErrno(err) + ")" : std::string()));
    return;
  }
  ReplyFrame reply;
  size_t consumed = 0;
  std::string why;
  switch (ParseReply(in_, &reply, &consumed, &why)) {
    case ParseResult::kIncomplete:
      return;
    case ParseResult::kInvalid:
      Fail("bad handshake reply from " + peer_name_ + ": " + why);
      return;
    case ParseResult::kComplete:
      break;
  }
  if (consumed != in_.size()) {
    Fail("bad handshake reply from " + peer_name_ + ": bytes after the reply");
    return;
  }
  in_.clear();
  peer_id_ = reply.endpoint_id;
  if (!CreateUcpEndpoint(reply.worker_address)) return;
  BecomeOpen();
}

void Endpoint::OnAcceptorEvents(uint32_t events) {
  if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP)) == 0) return;
  int err = 0;
  const IoStatus io = ReadAvailable(fd_, &in_, kMaxHandshakeRead, &err);
  if (io == IoStatus::kEof || io == IoStatus::kError) {
    Fail("the connector " + peer_name_ + " went away during the handshake");
    return;
  }
  HelloFrame hello;
  size_t consumed = 0;
  std::string why;
  switch (ParseHello(in_, &hello, &consumed, &why)) {
    case ParseResult::kIncomplete:
      return;
    case ParseResult::kInvalid:
      Fail("bad handshake from " + peer_name_ + ": " + why);
      return;
    case ParseResult::kComplete:
      break;
  }
  if (consumed != in_.size()) {
    Fail("bad handshake from " + peer_name_ + ": bytes after the hello");
    return;
  }
  in_.clear();
  if (hello.listener_nonce != listener_nonce_) {
    Fail("a connection from " + peer_name_ + " was meant for another listener (stale address)");
    return;
  }
  peer_id_ = hello.endpoint_id;
  hello_ = std::move(hello.hello);
  if (!CreateUcpEndpoint(hello.worker_address)) return;
  ReplyFrame reply;
  reply.endpoint_id = id_;
  reply.worker_address = ctx_->worker_address();
  out_ = EncodeReply(reply);
  if (!FlushSocket()) return;
  BecomeOpen();
  if (listener_ != nullptr) listener_->OnHandshakeDone(this);
}

void Endpoint::OnOpenEvents(uint32_t events) {
  if ((events & EPOLLOUT) && !FlushSocket()) return;
  if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP)) == 0) return;
  std::string junk;
  int err = 0;
  const IoStatus io = ReadAvailable(fd_, &junk, 4096, &err);
  if (io == IoStatus::kWouldBlock) return;
  if (io == IoStatus::kProgress) {
    Fail("protocol error: unexpected bytes from " + peer_name_ + " on the side connection");
    return;
  }
  // The peer's side connection closed. If it closed the endpoint, its BYE may
  // still be inside UCX: let UCX deliver what it has first.
  ctx_->DrainUcx();
  if (state_ != State::kOpen) return;
  Fail(io == IoStatus::kEof ? "the side connection to " + peer_name_ + " closed (the peer process exited)"
                            : "the side connection to " + peer_name_ + " failed: " + DescribeErrno(err));
}

ucs_status_t Endpoint::TryCreateUcpEndpoint(const std::string& worker_address, ucp_err_handling_mode_t mode) {
  ucp_ep_params_t params{};
  params.field_mask =
      UCP_EP_PARAM_FIELD_REMOTE_ADDRESS | UCP_EP_PARAM_FIELD_ERR_HANDLING_MODE | UCP_EP_PARAM_FIELD_ERR_HANDLER;
  params.address = reinterpret_cast<const ucp_address_t*>(worker_address.data());
  params.err_mode = mode;
  params.err_handler.cb = &UcxErrorHandler;
  params.err_handler.arg = this;
  err_mode_ = mode;
  return ucp_ep_create(ctx_->worker(), &params, &ucp_ep_);
}

bool Endpoint::CreateUcpEndpoint(const std::string& worker_address) {
  ucs_status_t status = TryCreateUcpEndpoint(worker_address, ctx_->error_mode());
  if (status == UCS_ERR_UNREACHABLE && err_mode_ == UCP_ERR_HANDLING_MODE_PEER &&
      ctx_->FallBackToNoErrorHandling()) {
    status = TryCreateUcpEndpoint(worker_address, UCP_ERR_HANDLING_MODE_NONE);
  }
  if (status != UCS_OK) {
    ucp_ep_ = nullptr;
    Fail("ucp_ep_create to " + peer_name_ + " failed: " + ucs_status_string(status) +
         " (no UCX transport in common? check UCX_TLS on both sides)");
    return false;
  }
  return true;
}

void Endpoint::BecomeOpen() {
  state_ = State::kOpen;
  SetHandshaking(false);
  PostWaiting();
}

void Endpoint::CloseSocket() {
  if (fd_ < 0) return;
  ctx_->Unwatch(fd_);
  close(fd_);
  fd_ = -1;
}

}  // namespace mc::ucx
