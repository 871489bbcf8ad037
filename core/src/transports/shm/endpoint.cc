#include "transports/shm/endpoint.h"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "transports/shm/context.h"
#include "transports/shm/unix_socket.h"

namespace mc::shm {
namespace {

constexpr int kMaxRecordsPerProgress = 64;

}  // namespace

Endpoint::Endpoint(Context* ctx, UniqueFd sock) : ctx_(ctx), sock_(std::move(sock)) {}

Endpoint::~Endpoint() {
  if (outstanding_ != nullptr) FailAll(MC_ERR_CLOSED);
}

absl::Status Endpoint::CreateTxRing() {
  uint64_t capacity = ctx_->params().ring_bytes;
  absl::StatusOr<SharedRegion> region = SharedRegion::Create(RingRegionBytes(capacity), "mooncomm-shm-ring");
  if (!region.ok()) return region.status();
  tx_region_ = std::move(*region);
  InitRing(tx_region_.data(), capacity);
  tx_.Attach(tx_region_.data(), capacity);
  return absl::OkStatus();
}

absl::Status Endpoint::MapRxRing(UniqueFd fd) {
  absl::StatusOr<SharedRegion> region =
      SharedRegion::Map(std::move(fd), RingRegionBytes(4096), RingRegionBytes(uint64_t{1} << 30));
  if (!region.ok()) return region.status();
  rx_region_ = std::move(*region);
  rx_region_.CloseFd();
  return rx_.Attach(rx_region_.data(), rx_region_.size());
}

// ---------------------------------------------------------------------------
// Handshake

absl::StatusOr<std::unique_ptr<Endpoint>> Endpoint::StartConnect(Context* ctx, const AddressWire& addr,
                                                                 const void* hello, size_t hello_len) {
  std::unique_ptr<Endpoint> ep(new Endpoint(ctx, UniqueFd()));
  ep->peer_name_.assign(addr.name, strnlen(addr.name, sizeof(addr.name)));
  absl::Status status = ep->CreateTxRing();
  if (!status.ok()) return status;
  ep->hello_.magic = kHelloMagic;
  ep->hello_.version = kProtocolVersion;
  ep->hello_.hello_bytes = static_cast<uint32_t>(hello_len);
  ep->hello_.nonce = ctx->nonce();
  if (hello_len > 0) std::memcpy(ep->hello_.hello, hello, hello_len);
  ep->handshake_ = Handshake::kConnect;
  int err = ConnectAbstract(ep->peer_name_, &ep->sock_);
  if (err == 0) {
    ep->handshake_ = Handshake::kSendHello;
    err = SendMessage(ep->sock_.get(), &ep->hello_, sizeof(ep->hello_), ep->tx_region_.fd());
    if (err == 0) {
      ep->handshake_ = Handshake::kAwaitReply;
      ep->tx_region_.CloseFd();
    } else if (err != EAGAIN) {
      ep->deferred_failure_ = absl::StrCat("cannot send the shm hello to @", ep->peer_name_, ": ", std::strerror(err));
    }
  } else if (err != EAGAIN) {
    ep->deferred_failure_ = absl::StrCat("cannot connect to shm peer @", ep->peer_name_, ": ", std::strerror(err));
  }
  return ep;
}

absl::StatusOr<std::unique_ptr<Endpoint>> Endpoint::FromHello(Context* ctx, UniqueFd sock, const HelloMsg& hello,
                                                              UniqueFd peer_ring) {
  std::unique_ptr<Endpoint> ep(new Endpoint(ctx, std::move(sock)));
  absl::Status status = ep->MapRxRing(std::move(peer_ring));
  if (!status.ok()) return status;
  status = ep->CreateTxRing();
  if (!status.ok()) return status;
  ep->peer_nonce_ = hello.nonce;
  ep->peer_pid_ = PeerPid(ep->sock_.get());
  ep->handshake_ = Handshake::kDone;
  ep->state_ = State::kConnected;
  return ep;
}

mc_result_t Endpoint::SendReply() {
  ReplyMsg reply{kReplyMagic, kProtocolVersion, kReplyAccepted, ctx_->nonce()};
  int err = SendMessage(sock_.get(), &reply, sizeof(reply), tx_region_.fd());
  if (err == EAGAIN) return MC_AGAIN;
  if (err != 0) return MC_ERR_PEER_LOST;
  tx_region_.CloseFd();
  return MC_SUCCESS;
}

void Endpoint::FailHandshake(const std::string& detail) { Lose(detail, /*drain=*/false); }

void Endpoint::AdvanceHandshake() {
  if (!deferred_failure_.empty()) {
    FailHandshake(deferred_failure_);
    return;
  }
  if (handshake_ == Handshake::kConnect) {
    int err = sock_.valid() ? ConnectAgain(sock_.get(), peer_name_) : ConnectAbstract(peer_name_, &sock_);
    if (err == EAGAIN) return;
    if (err != 0) {
      FailHandshake(absl::StrCat("cannot connect to shm peer @", peer_name_, ": ", std::strerror(err)));
      return;
    }
    handshake_ = Handshake::kSendHello;
  }
  if (handshake_ == Handshake::kSendHello) {
    int err = SendMessage(sock_.get(), &hello_, sizeof(hello_), tx_region_.fd());
    if (err == EAGAIN) return;
    if (err != 0) {
      FailHandshake(absl::StrCat("cannot send the shm hello to @", peer_name_, ": ", std::strerror(err)));
      return;
    }
    tx_region_.CloseFd();
    handshake_ = Handshake::kAwaitReply;
  }
  ReplyMsg reply{};
  size_t bytes = 0;
  UniqueFd ring_fd;
  int err = ReceiveMessage(sock_.get(), &reply, sizeof(reply), &bytes, &ring_fd);
  if (err == EAGAIN) return;
  if (err != 0) {
    FailHandshake(absl::StrCat("shm handshake with @", peer_name_, " failed: ", std::strerror(err)));
    return;
  }
  if (bytes == 0) {
    FailHandshake(absl::StrCat("shm peer @", peer_name_, " closed the connection during the handshake"));
    return;
  }
  if (bytes != sizeof(reply) || reply.magic != kReplyMagic) {
    FailHandshake(absl::StrCat("shm peer @", peer_name_, " sent a malformed handshake reply"));
    return;
  }
  if (reply.status == kReplyBadVersion || reply.version != kProtocolVersion) {
    FailHandshake(absl::StrCat("shm protocol version mismatch: this process speaks ", kProtocolVersion,
                               ", the peer ", reply.version));
    return;
  }
  if (reply.status != kReplyAccepted || !ring_fd.valid()) {
    FailHandshake(absl::StrCat("shm peer @", peer_name_, " sent a handshake reply without its ring"));
    return;
  }
  absl::Status status = MapRxRing(std::move(ring_fd));
  if (!status.ok()) {
    FailHandshake(absl::StrCat("cannot map the ring of shm peer @", peer_name_, ": ", status.message()));
    return;
  }
  peer_nonce_ = reply.nonce;
  peer_pid_ = PeerPid(sock_.get());
  handshake_ = Handshake::kDone;
  state_ = State::kConnected;
}

// ---------------------------------------------------------------------------
// Posting

Request* Endpoint::NewRequest(Request::Kind kind) {
  Request* req = ctx_->NewRequest();
  req->ep = this;
  req->kind = kind;
  req->next = outstanding_;
  if (outstanding_ != nullptr) outstanding_->prev = req;
  outstanding_ = req;
  return req;
}

void Endpoint::Complete(Request* req, mc_result_t status, uint64_t tag, size_t bytes) {
  if (req->prev != nullptr) {
    req->prev->next = req->next;
  } else {
    outstanding_ = req->next;
  }
  if (req->next != nullptr) req->next->prev = req->prev;
  req->prev = req->next = nullptr;
  req->ep = nullptr;
  req->tx_step = TxStep::kNone;
  req->done = true;
  req->completion = mc_completion_v1_t{status, tag, bytes};
}

mc_result_t Endpoint::PostSend(uint64_t tag, const void* buf, size_t len, Request** out) {
  if (state_ == State::kLost) return MC_ERR_PEER_LOST;
  Request* req = NewRequest(Request::Kind::kSend);
  req->tag = tag;
  req->src = static_cast<const uint8_t*>(buf);
  req->len = len;
  if (len <= ctx_->params().eager_limit) {
    req->tx_step = TxStep::kEager;
  } else {
    req->tx_step = TxStep::kRts;
    req->id = next_id_++;
  }
  *out = req;
  // Straight into the ring when nothing is queued ahead of it.
  if (backlog_.empty() && state_ == State::kConnected && StepTx(req)) return MC_SUCCESS;
  backlog_.push_back(req);
  return MC_SUCCESS;
}

mc_result_t Endpoint::PostRecv(uint64_t tag, void* buf, size_t len, Request** out) {
  for (auto it = unexpected_.begin(); it != unexpected_.end(); ++it) {
    if (it->tag != tag) continue;
    Unexpected message = std::move(*it);
    unexpected_.erase(it);
    if (message.is_rts && state_ == State::kLost) return MC_ERR_PEER_LOST;  // its buffer went with the peer
    Request* req = NewRequest(Request::Kind::kRecv);
    req->tag = tag;
    req->dst = static_cast<uint8_t*>(buf);
    req->len = len;
    *out = req;
    if (message.is_rts) {
      StartRendezvousRecv(req, message.rts);
    } else {
      DeliverEager(req, message.data.data(), message.data.size(), tag);
    }
    return MC_SUCCESS;
  }
  if (state_ == State::kLost) return MC_ERR_PEER_LOST;
  Request* req = NewRequest(Request::Kind::kRecv);
  req->tag = tag;
  req->dst = static_cast<uint8_t*>(buf);
  req->len = len;
  posted_.push_back(req);
  *out = req;
  return MC_SUCCESS;
}

mc_result_t Endpoint::PostPut(const void* buf, size_t len, uint64_t remote_addr, const RemoteKey& key,
                              uint64_t notify, Request** out) {
  if (state_ == State::kLost) return MC_ERR_PEER_LOST;
  // The initiator's check: the range must lie inside what the key covers,
  // and the key must come from this endpoint's peer. The target checks
  // again against its live registrations.
  if (!key.Covers(remote_addr, len)) {
    ctx_->Log(MC_LOG_WARN, absl::StrCat("shm: put of ", len, " bytes at 0x", absl::Hex(remote_addr),
                                        " is outside the remote key's range [0x", absl::Hex(key.base), ", +",
                                        key.length, ")"));
    return MC_ERR_ACCESS;
  }
  if (peer_nonce_ != 0 && key.nonce != peer_nonce_) return MC_ERR_ACCESS;
  Request* req = NewRequest(Request::Kind::kPut);
  req->id = next_id_++;
  req->src = static_cast<const uint8_t*>(buf);
  req->len = len;
  req->remote_addr = remote_addr;
  req->key_id = key.key_id;
  req->key_nonce = key.nonce;
  req->notify = notify;
  req->tx_step = len <= ctx_->params().eager_limit ? TxStep::kPutInline : TxStep::kPutCma;
  *out = req;
  // A CMA put may have written its first chunk; it goes to the (empty) queue's front.
  if (backlog_.empty() && state_ == State::kConnected && StepTx(req)) return MC_SUCCESS;
  if (state_ == State::kLost) return MC_SUCCESS;  // req has completed with MC_ERR_PEER_LOST
  backlog_.push_back(req);
  return MC_SUCCESS;
}

mc_result_t Endpoint::PollNotification(mc_notification_v1_t* notification) {
  if (notifications_.empty() && state_ != State::kLost) Progress();
  if (!notifications_.empty()) {
    *notification = notifications_.front();
    notifications_.pop_front();
    return MC_SUCCESS;
  }
  return state_ == State::kLost ? MC_ERR_PEER_LOST : MC_AGAIN;
}

// ---------------------------------------------------------------------------
// Progress

void Endpoint::Progress() {
  if (closed_) return;
  if (state_ == State::kConnecting) {
    AdvanceHandshake();
    if (state_ != State::kConnected) return;
  }
  if (state_ != State::kConnected) return;
  if (!DrainRx(kMaxRecordsPerProgress)) {
    Lose("the shm peer wrote a malformed record into the shared ring", /*drain=*/false);
    return;
  }
  FlushControl();
  AdvanceBacklog();
  AdvancePulls();
  FlushControl();
}

// ---------------------------------------------------------------------------
// Failure and close

void Endpoint::FailAll(mc_result_t status) {
  posted_.clear();
  backlog_.clear();
  control_.clear();
  pulls_.clear();
  awaiting_.clear();
  streams_.clear();
  refused_puts_.clear();
  while (outstanding_ != nullptr) Complete(outstanding_, status, outstanding_->tag, 0);
}

void Endpoint::Lose(const std::string& detail, bool drain) {
  if (state_ == State::kLost || closed_) return;
  // Messages the peer finished writing before it went are still good.
  if (drain && state_ == State::kConnected) DrainRx(std::numeric_limits<int>::max());
  state_ = State::kLost;
  FailAll(MC_ERR_PEER_LOST);
  ctx_->QueuePeerFailure(this, detail);
}

bool Endpoint::PeerStillThere() {
  pollfd pfd{sock_.get(), POLLIN | POLLRDHUP, 0};
  if (::poll(&pfd, 1, 0) > 0) OnSocketEvents(pfd.revents);
  return state_ == State::kConnected;
}

void Endpoint::OnSocketEvents(short revents) {
  if (state_ != State::kConnected || closed_) return;
  bool gone = (revents & (POLLHUP | POLLRDHUP | POLLERR | POLLNVAL)) != 0;
  if ((revents & POLLIN) != 0) {
    for (;;) {
      uint8_t buf[16];
      ssize_t got = ::recv(sock_.get(), buf, sizeof(buf), MSG_DONTWAIT);
      if (got > 0) {
        if (buf[0] == kByeByte) peer_said_bye_ = true;
        continue;
      }
      if (got < 0 && errno == EINTR) continue;
      if (got == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) gone = true;
      break;
    }
  }
  if (gone) Lose(peer_said_bye_ ? "peer closed the endpoint" : "peer process exited", /*drain=*/true);
}

void Endpoint::Close() {
  if (closed_) return;
  if (sock_.valid()) {
    uint8_t bye = kByeByte;
    (void)::send(sock_.get(), &bye, 1, MSG_DONTWAIT | MSG_NOSIGNAL);  // fails harmlessly if not connected
    // Before completing our sends: see FinishPull.
    ::shutdown(sock_.get(), SHUT_RDWR);
  }
  FailAll(MC_ERR_CLOSED);
  closed_ = true;
}

}  // namespace mc::shm
