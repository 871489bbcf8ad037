#include "connection.h"

#include <sys/epoll.h>

#include <chrono>
#include <cstring>

#include "listener.h"

namespace mc::rdma {
namespace {

// How long a BYE'd connection waits for the messages the peer says it sent.
constexpr std::chrono::milliseconds kPeerCloseGrace{200};

}  // namespace

StatusOr<std::unique_ptr<Connection>> Connection::Connect(RdmaContext* ctx, int dev, const ListenAddress& to,
                                                          std::string hello) {
  const SockAddr addr = FromListenAddress(to);
  int error = 0;
  StatusOr<int> fd = StartConnect(addr, &error);
  if (!fd.ok()) return fd.status();
  std::unique_ptr<Connection> c(new Connection(ctx, dev, std::make_unique<SideChannel>(*fd), FormatSockAddr(addr)));
  c->acceptor_ = false;
  c->phase_ = Phase::kTcpConnecting;
  c->listener_id_ = to.listener_id;
  c->hello_ = std::move(hello);
  c->connect_error_ = error;
  if (Status s = c->CreateEndpoint(); !s.ok()) return s;
  if (!ctx->Watch(*fd, c.get(), EPOLLIN | EPOLLOUT | EPOLLRDHUP)) {
    return Internal(std::string("epoll_ctl: ") + std::strerror(errno));
  }
  c->write_interest_ = true;
  ctx->NoteHandshake();
  return c;
}

Connection::Connection(RdmaContext* ctx, int dev, std::unique_ptr<SideChannel> channel, std::string peer)
    : ctx_(ctx),
      dev_(dev),
      port_(ctx->port(dev)),
      channel_(std::move(channel)),
      peer_(std::move(peer)),
      phase_(Phase::kAwaitRequest),
      acceptor_(true) {}

Connection::Connection(RdmaContext* ctx, int dev, std::unique_ptr<SideChannel> channel, Listener* listener,
                       uint64_t listener_id, std::string peer)
    : Connection(ctx, dev, std::move(channel), std::move(peer)) {
  listener_ = listener;
  listener_id_ = listener_id;
  if (!ctx_->Watch(channel_->fd(), this, EPOLLIN | EPOLLRDHUP)) channel_->Close();  // seen as EOF: dropped
}

Connection::~Connection() {
  CloseSocket();
  endpoint_.reset();  // completes what is still pending with MC_ERR_CLOSED
  magic_ = 0;
}

Status Connection::CreateEndpoint() {
  StatusOr<std::unique_ptr<Endpoint>> ep =
      Endpoint::Create(this, &ctx_->requests(), ctx_->CacheFor(port_->domain()), ctx_->endpoint_options());
  if (!ep.ok()) return ep.status();
  endpoint_ = std::move(*ep);
  return Status();
}

Status Connection::CreateQueuePairs(int count) {
  QueuePairShape shape;
  shape.count = count;
  shape.send_depth = ctx_->config().send_depth;
  shape.recv_depth = ctx_->config().recv_depth;
  StatusOr<std::unique_ptr<LinkableQueuePairs>> qps = port_->CreateQueuePairs(shape);
  if (!qps.ok()) return qps.status();
  qps_ = qps->get();
  return endpoint_->Attach(std::move(*qps));
}

void Connection::MarkHandedOut() {
  handed_out_ = true;
  listener_ = nullptr;
}

// ---- socket events and the handshake ----

void Connection::OnEvents(uint32_t events) {
  if (phase_ == Phase::kTcpConnecting) {
    if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) == 0) return;
    OnConnected();
    if (dead() || phase_ == Phase::kTcpConnecting) return;
  }
  if (events & (EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLRDHUP)) {
    ReadFrames();
    if (dead()) return;
  }
  if ((events & EPOLLOUT) && channel_->open()) {
    std::string error;
    if (!channel_->Flush(&error)) {
      Fail(error);
      return;
    }
    UpdateWatch();
  }
}

void Connection::OnConnected() {
  const int err = connect_error_ != 0 ? connect_error_ : PendingSocketError(channel_->fd());
  connect_error_ = 0;
  if (err != 0) {
    Fail("connect to " + peer_ + " failed: " + std::strerror(err));
    return;
  }
  if (Status s = CreateQueuePairs(ctx_->config().qps_per_peer); !s.ok()) {
    ctx_->Log(MC_LOG_ERROR, "rdma: connecting to " + peer_ + ": " + s.message());  // ours, not the peer's
    Fail("setting up queue pairs: " + s.message());
    return;
  }
  ConnInfo mine;
  qps_->Describe(&mine);
  endpoint_->DescribeBuffers(&mine);
  mine.listener_id = listener_id_;
  mine.hello = hello_;
  phase_ = Phase::kAwaitReply;
  std::string error;
  if (!channel_->Send(FrameType::kRequest, EncodeConnInfo(mine), &error)) {
    Fail(error);
    return;
  }
  UpdateWatch();
}

void Connection::ReadFrames() {
  while (channel_->open()) {
    FrameHeader header;
    std::string body, error;
    switch (channel_->Read(&header, &body, &error)) {
      case SideChannel::ReadResult::kFrame:
        OnFrame(header, body);
        if (dead()) return;
        continue;
      case SideChannel::ReadResult::kAgain: return;
      case SideChannel::ReadResult::kClosed:
        CloseSocket();
        if (phase_ == Phase::kEnded) return;  // after a BYE the endpoint drains on its own
        // Take what already arrived before calling the peer lost.
        if (endpoint_ != nullptr && endpoint_->started()) endpoint_->Progress();
        Fail(handshaking() ? "the peer closed the side socket during the connection handshake"
                           : "the peer closed its side socket (the process exited?)");
        return;
      case SideChannel::ReadResult::kError: Fail(error + " (" + peer_ + ")"); return;
    }
  }
}

void Connection::OnFrame(const FrameHeader& header, const std::string& body) {
  Status s;
  switch (header.type) {
    case FrameType::kRequest:
      s = acceptor_ && phase_ == Phase::kAwaitRequest ? OnRequest(body) : ProtocolError("an unexpected REQUEST");
      break;
    case FrameType::kReply:
      s = !acceptor_ && phase_ == Phase::kAwaitReply ? OnReply(body) : ProtocolError("an unexpected REPLY");
      break;
    case FrameType::kReady:
      if (acceptor_ && phase_ == Phase::kAwaitReady) {
        OnReady();
      } else {
        s = ProtocolError("an unexpected READY");
      }
      break;
    case FrameType::kBye: {
      StatusOr<uint64_t> sent = DecodeBye(reinterpret_cast<const uint8_t*>(body.data()), body.size());
      if (!sent.ok()) {
        s = sent.status();
      } else if (endpoint_ == nullptr || !endpoint_->started()) {
        s = Status(MC_ERR_PEER_LOST, "the peer closed the connection during the handshake");
      } else {
        phase_ = Phase::kEnded;
        endpoint_->PeerClosing(*sent, kPeerCloseGrace);
      }
      break;
    }
  }
  if (!s.ok()) {
    // A connection refused before anyone accepted it is dropped quietly; say why here.
    if (acceptor_ && !handed_out_)
      ctx_->Log(MC_LOG_WARN, "rdma: refusing a connection from " + peer_ + ": " + s.message());
    Fail(s.message());
  }
}

Status Connection::OnRequest(const std::string& body) {
  StatusOr<ConnInfo> info = DecodeConnInfo(reinterpret_cast<const uint8_t*>(body.data()), body.size());
  if (!info.ok()) return info.status();
  if (info->listener_id != listener_id_) {
    return ProtocolError("the connector meant another listener (an address from an earlier run?)");
  }
  hello_ = info->hello;
  if (Status s = CreateEndpoint(); !s.ok()) return s;
  if (Status s = CreateQueuePairs(static_cast<int>(info->qpn.size())); !s.ok()) return s;
  if (Status s = qps_->Link(*info); !s.ok()) return s;
  peer_info_ = *info;
  ConnInfo mine;
  qps_->Describe(&mine);
  endpoint_->DescribeBuffers(&mine);
  phase_ = Phase::kAwaitReady;
  std::string error;
  if (!channel_->Send(FrameType::kReply, EncodeConnInfo(mine), &error)) return Status(MC_ERR_PEER_LOST, error);
  UpdateWatch();
  return Status();
}

Status Connection::OnReply(const std::string& body) {
  StatusOr<ConnInfo> info = DecodeConnInfo(reinterpret_cast<const uint8_t*>(body.data()), body.size());
  if (!info.ok()) return info.status();
  if (Status s = qps_->Link(*info); !s.ok()) return s;
  peer_info_ = *info;
  endpoint_->Start(peer_info_, qps_->read_limit());
  phase_ = Phase::kOpen;
  std::string error;
  if (!channel_->Send(FrameType::kReady, "", &error)) return Status(MC_ERR_PEER_LOST, error);
  UpdateWatch();
  return Status();
}

void Connection::OnReady() {
  endpoint_->Start(peer_info_, qps_->read_limit());
  phase_ = Phase::kOpen;
}

void Connection::UpdateWatch() {
  if (!channel_->open()) return;
  const bool want = phase_ == Phase::kTcpConnecting || channel_->want_write();
  if (want == write_interest_) return;
  write_interest_ = want;
  ctx_->Rewatch(channel_->fd(), this, EPOLLIN | EPOLLRDHUP | (want ? EPOLLOUT : 0u));
}

void Connection::CloseSocket() {
  if (channel_ == nullptr || !channel_->open()) return;
  ctx_->Unwatch(channel_->fd());
  channel_->Close();
}

// ---- failures, progress, close ----

void Connection::Fail(const std::string& detail) {
  if (acceptor_ && !handed_out_) {
    // Nobody holds it yet: nobody to tell.
    ctx_->Log(MC_LOG_DEBUG, "rdma: dropping an incoming connection from " + peer_ + ": " + detail);
    CloseSocket();
    if (listener_ != nullptr) listener_->Forget(this);
    listener_ = nullptr;
    ctx_->DestroyConnection(this);
    return;
  }
  if (endpoint_ != nullptr) endpoint_->Fail(detail);  // calls OnEndpointFailed
}

void Connection::OnEndpointFailed(const std::string& detail) {
  // Close our side too, so the peer hears of it at once.
  CloseSocket();
  phase_ = Phase::kEnded;
  if (acceptor_ && !handed_out_) {
    Fail(detail);
    return;
  }
  failure_detail_ = detail + " (" + peer_ + ")";
  report_pending_ = true;
}

void Connection::FailFromDevice(const std::string& what) { Fail(what); }

void Connection::Progress() {
  if (connect_error_ != 0 && phase_ == Phase::kTcpConnecting) {
    OnConnected();  // reports the error
    if (dead()) return;
  }
  if (endpoint_ != nullptr && (handed_out_ || !acceptor_)) endpoint_->Progress();
  if (dead()) return;
  if (report_pending_ && handed_out_ && !reported_) {
    report_pending_ = false;
    reported_ = true;
    // Last: the core may close this connection from inside the callback.
    ctx_->ReportPeerFailure(this, failure_detail_);
  }
}

void Connection::Close() {
  const bool say_bye = channel_->open() && endpoint_ != nullptr && endpoint_->started() && !endpoint_->broken();
  const uint64_t acked = endpoint_ != nullptr ? endpoint_->messages_acked() : 0;
  if (endpoint_ != nullptr) endpoint_->Close();
  if (say_bye) {
    std::string ignored;  // best effort: the peer sees EOF either way
    channel_->Send(FrameType::kBye, EncodeBye(acked), &ignored);
  }
  CloseSocket();
  phase_ = Phase::kEnded;
  mark_dead();
}

}  // namespace mc::rdma
