// A connection's life outside the data path: the handshake on the control
// socket, watching that socket afterwards, failing, closing.
#include <rdma/fi_endpoint.h>
#include <rdma/fi_errno.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <cstring>

#include "connection.h"
#include "context.h"
#include "socket_util.h"

namespace mc::efa {
namespace {

std::string PeerOfSocket(int fd) {
  SocketAddress peer;
  peer.len = sizeof(peer.storage);
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer.storage), &peer.len) != 0) return "(unknown)";
  return peer.ToString();
}

}  // namespace

Connection::Connection(Context* ctx, Device* device)
    : ctx_(ctx),
      device_(device),
      cq_data_mask_(device->cq_data_bytes() >= 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * device->cq_data_bytes())) - 1),
      join_(device->cq_data_bytes()) {}

Connection::~Connection() {
  LeaveHandshake();
  ReleaseFabric(MC_ERR_CLOSED);
  CloseChannel();
  magic_ = 0;
}

bool Connection::OpenFabric(std::string* error) {
  if (!fabric_.Open(*device_, error)) return false;
  constexpr int kSlots = kControlRecvSlots + kControlSendSlots;
  slots_ = std::make_unique<ControlSlot[]>(kSlots);
  for (int i = 0; i < kSlots; ++i) {
    slots_[i].conn = this;
    slots_[i].index = i;
    if (i >= kControlRecvSlots) {
      slots_[i].kind = OpKind::kControlSend;
      free_send_slots_.push_back(i);
    }
  }
  if (device_->needs_local_mr()) {
    slots_mr_ = RegisterForOneOperation(*device_, slots_.get(), sizeof(ControlSlot) * kSlots, FI_SEND | FI_RECV,
                                        ctx_->NextRequestedKey(), error);
    if (slots_mr_ == nullptr) return false;
  }
  PostControlRecvs();
  if (state_ == State::kFailed) {
    *error = "posting the control receives failed";
    return false;
  }
  return true;
}

mc_result_t Connection::Connect(Context* ctx, Device* device, const ListenAddress& address, std::string_view hello,
                                Connection** out, std::string* error) {
  auto conn = std::unique_ptr<Connection>(new Connection(ctx, device));
  if (!conn->OpenFabric(error)) return MC_ERR_NO_MEMORY;
  conn->peer_device_ = address.device_index;
  const SocketAddress listener = SocketAddressOf(address);
  conn->peer_socket_ = listener.ToString();
  ctx->HandshakeBegan();
  conn->counted_handshake_ = true;
  conn->handshake_deadline_ = Clock::now() + std::chrono::milliseconds(ctx->config().connect_timeout_ms);
  const int fd = StartConnect(listener);
  if (fd < 0) {
    // Reported once the core holds the endpoint, like any failed connection.
    conn->deferred_failure_ = "connecting the control socket to " + conn->peer_socket_ + ": " + ErrnoText(errno);
  } else {
    conn->channel_ = std::make_unique<ControlChannel>(fd);
    conn->channel_->Queue(EncodeRequest(HandshakeRequest{address.listener_id, static_cast<uint32_t>(device->index()),
                                                         conn->fabric_.name(), std::string(hello)}));
    conn->WatchFor(EPOLLOUT);
    if (conn->watched_events_ == 0) conn->deferred_failure_ = "the control socket cannot be watched (epoll_ctl)";
  }
  *out = conn.release();
  ctx->AddConnection(*out);
  return MC_SUCCESS;
}

Connection* Connection::Accept(Context* ctx, Device* device, std::unique_ptr<ControlChannel>& channel,
                               const HandshakeRequest& request, std::string* error) {
  auto conn = std::unique_ptr<Connection>(new Connection(ctx, device));
  if (!conn->OpenFabric(error) || !conn->fabric_.InsertPeer(request.fabric_name, error)) return nullptr;
  conn->hello_ = request.hello;
  conn->peer_device_ = request.device_index;
  conn->peer_socket_ = PeerOfSocket(channel->fd());
  channel->Queue(EncodeAccept(HandshakeAccept{static_cast<uint32_t>(device->index()), conn->fabric_.name()}));
  if (!channel->Flush(error)) return nullptr;
  conn->channel_ = std::move(channel);
  conn->state_ = State::kOpen;
  // The socket is in the epoll set already (for the listener): point it here.
  conn->watched_events_ = EPOLLIN | (conn->channel_->has_output() ? EPOLLOUT : 0u);
  ctx->Rewatch(conn->channel_->fd(), conn->watched_events_, conn.get());
  Connection* c = conn.release();
  ctx->AddConnection(c);
  return c;
}

std::string Connection::PeerName() const { return peer_socket_.empty() ? "(unknown peer)" : peer_socket_; }

void Connection::WatchFor(uint32_t events) {
  if (channel_ == nullptr || events == watched_events_) return;
  if (watched_events_ == 0) {
    if (ctx_->Watch(channel_->fd(), events, this)) watched_events_ = events;
  } else if (events == 0) {
    ctx_->Unwatch(channel_->fd());
    watched_events_ = 0;
  } else {
    ctx_->Rewatch(channel_->fd(), events, this);
    watched_events_ = events;
  }
}

void Connection::LeaveHandshake() {
  if (!counted_handshake_) return;
  counted_handshake_ = false;
  ctx_->HandshakeEnded();
}

void Connection::OnSocketEvents(uint32_t events) {
  if (channel_ == nullptr) return;
  if (state_ == State::kHandshaking) {
    OnConnectorSocket(events);
  } else if (state_ == State::kOpen) {
    OnOpenSocket(events);
  }
}

void Connection::OnConnectorSocket(uint32_t events) {
  std::string error;
  if (!socket_connected_) {
    if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) == 0) return;
    const int err = PendingSocketError(channel_->fd());
    if (err != 0) {
      Fail(MC_ERR_PEER_LOST, "connecting the control socket to " + peer_socket_ + ": " + ErrnoText(err));
      return;
    }
    socket_connected_ = true;
  }
  if (channel_->has_output() && !channel_->Flush(&error)) {
    Fail(MC_ERR_PEER_LOST, error + " (listener at " + peer_socket_ + ")");
    return;
  }
  WatchFor(channel_->has_output() ? EPOLLIN | EPOLLOUT : EPOLLIN);
  if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) == 0) return;
  Frame frame;
  switch (channel_->Read(&frame, &error)) {
    case ControlChannel::ReadStatus::kNothing:
      return;
    case ControlChannel::ReadStatus::kFrame:
      OnHandshakeFrame(frame);
      return;
    case ControlChannel::ReadStatus::kClosed:
      Fail(MC_ERR_PEER_LOST, "the listener at " + peer_socket_ + " closed the control connection during the handshake");
      return;
    case ControlChannel::ReadStatus::kFailed:
      Fail(MC_ERR_PEER_LOST, error + " (listener at " + peer_socket_ + ")");
      return;
  }
}

void Connection::OnHandshakeFrame(const Frame& frame) {
  std::string why;
  if (frame.kind == FrameKind::kReject) {
    std::string reason;
    if (!DecodeReject(frame, &reason, &why)) reason = why;
    Fail(MC_ERR_PEER_LOST, "the listener at " + peer_socket_ + " refused the connection: " + reason);
    return;
  }
  HandshakeAccept accept;
  if (!DecodeAccept(frame, &accept, &why)) {
    Fail(MC_ERR_PROTOCOL, why + " (listener at " + peer_socket_ + ")");
    return;
  }
  if (!fabric_.InsertPeer(accept.fabric_name, &why)) {
    Fail(MC_ERR_PEER_LOST, why);
    return;
  }
  peer_device_ = accept.device_index;
  SetOpen();
}

void Connection::SetOpen() {
  LeaveHandshake();
  state_ = State::kOpen;
  PostQueued();
}

void Connection::OnOpenSocket(uint32_t events) {
  std::string error;
  if ((events & EPOLLOUT) != 0 && channel_->has_output()) {
    if (!channel_->Flush(&error)) {
      BeginLoss(error);
      return;
    }
    WatchFor(channel_->has_output() ? EPOLLIN | EPOLLOUT : EPOLLIN);
  }
  if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) == 0) return;
  Frame frame;
  switch (channel_->Read(&frame, &error)) {
    case ControlChannel::ReadStatus::kNothing:
      return;
    case ControlChannel::ReadStatus::kFrame:
      Fail(MC_ERR_PROTOCOL, "the peer sent a handshake frame on an open connection");
      return;
    case ControlChannel::ReadStatus::kClosed:
      BeginLoss("the peer's control connection closed (its process exited or was killed)");
      return;
    case ControlChannel::ReadStatus::kFailed:
      BeginLoss(error);
      return;
  }
}

void Connection::BeginLoss(const std::string& detail) {
  if (loss_deadline_.has_value()) return;
  loss_deadline_ = Clock::now() + kLossGrace;
  loss_detail_ = detail;
  WatchFor(0);  // an ended socket stays readable: stop hearing about it
}

void Connection::SendBye() {
  alignas(8) uint8_t bye[kControlMessageBytes];
  EncodeControl(ControlMessage{ControlKind::kBye, 0, 0, 0, 0}, bye);
  // Best effort: the peer also sees the control socket close.
  if (device_->inject_size() >= kControlMessageBytes) {
    fi_inject(fabric_.ep(), bye, sizeof(bye), fabric_.peer());
  } else if (ControlSlot* slot = TakeSendSlot()) {
    std::memcpy(slot->buf, bye, sizeof(bye));
    if (fi_send(fabric_.ep(), slot->buf, sizeof(bye), SlotDesc(), fabric_.peer(), static_cast<FabricOp*>(slot)) != 0) {
      ReturnSendSlot(slot);
    }
  }
}

void Connection::CloseLocally() {
  if (state_ == State::kOpen && fabric_.is_open() && fabric_.has_peer()) SendBye();
  LeaveHandshake();
  state_ = State::kFailed;
  ReleaseFabric(MC_ERR_CLOSED);
  CloseChannel();
}

void Connection::Fail(mc_result_t request_status, const std::string& detail) {
  if (state_ == State::kFailed) return;
  LeaveHandshake();
  state_ = State::kFailed;
  ctx_->log()(handed_out_ ? MC_LOG_INFO : MC_LOG_DEBUG, "efa: connection with %s failed: %s", PeerName().c_str(),
              detail.c_str());
  ReleaseFabric(request_status);
  CloseChannel();
  loss_deadline_.reset();
  deferred_failure_.reset();
  // One still waiting in its listener's queue is dropped there, unreported.
  if (handed_out_) ctx_->ReportPeerFailure(this, detail);
}

void Connection::CloseChannel() {
  if (channel_ == nullptr) return;
  WatchFor(0);
  channel_.reset();
}

void Connection::ReleaseFabric(mc_result_t request_status) {
  // Closing the endpoint first: afterwards the provider holds no reference
  // to any buffer or context of ours.
  fabric_.Close();
  if (slots_mr_ != nullptr) {
    fi_close(&slots_mr_->fid);
    slots_mr_ = nullptr;
  }
  for (auto* list : {&queued_sends_, &queued_recvs_, &in_flight_}) {
    while (Request* r = list->front()) Complete(r, request_status, 0, r->tag);
  }
}

}  // namespace mc::efa
