// Endpoint: the operations the core posts, the write side and failures.
// The read side is in endpoint_recv.cc.
#include "transports/tcp/endpoint.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "transports/tcp/context.h"
#include "transports/tcp/listener.h"
#include "transports/tcp/socket_util.h"

namespace mc::tcp {
namespace {

// Big enough that one recv brings many small frames; larger payloads are read
// directly into their destination.
constexpr size_t kInboundBufferBytes = 32 * 1024;

}  // namespace

Endpoint::Endpoint(TcpContext* ctx, int fd, State state, std::string peer)
    : ctx_(ctx), fd_(fd), state_(state), peer_(std::move(peer)), inbound_(kInboundBufferBytes) {
  uint32_t events = EPOLLIN | EPOLLRDHUP;
  if (state_ == State::kConnecting) {
    events |= EPOLLOUT;
    write_interest_ = true;
  }
  if (!ctx_->Watch(fd_, this, events)) {
    deferred_error_ = errno;
    ctx_->ScheduleDeferred(this);
  }
}

Endpoint::~Endpoint() {
  if (fd_ >= 0) {
    ctx_->Unwatch(fd_);
    ::close(fd_);
  }
  magic_ = 0;
}

void Endpoint::SendHello(const void* hello, size_t len) {
  hello_.assign(static_cast<const char*>(hello), len);
  FrameHeader h;
  h.type = FrameType::kHello;
  h.length = len;
  Queue(h, hello_.data(), hello_.size(), nullptr);
}

void Endpoint::FailLater(int err) {
  deferred_error_ = err;
  ctx_->ScheduleDeferred(this);
}

void Endpoint::MarkHandedOut() {
  handed_out_ = true;
  listener_ = nullptr;
  if (report_pending_) ctx_->ScheduleDeferred(this);
}

mc_result_t Endpoint::Send(uint64_t tag, const void* buf, size_t len, Request** out) {
  if (buf == nullptr && len > 0) return MC_ERR_INVALID_ARG;
  if (len > ctx_->config().max_message) return MC_ERR_INVALID_ARG;
  if (broken_) return MC_ERR_PEER_LOST;
  Request* r = ctx_->NewRequest(Request::Kind::kSend);
  r->buf = const_cast<char*>(static_cast<const char*>(buf));
  r->len = len;
  r->tag = tag;
  FrameHeader h;
  h.tag = tag;
  h.length = len;
  if (len <= ctx_->config().eager_limit) {
    h.type = FrameType::kEager;
    Queue(h, r->buf, len, r);
  } else {
    h.type = FrameType::kRts;
    h.id = next_id_++;
    rndv_sends_[h.id] = r;
    Queue(h, nullptr, 0, nullptr);
  }
  *out = r;
  return MC_SUCCESS;
}

mc_result_t Endpoint::Recv(uint64_t tag, void* buf, size_t len, Request** out) {
  if (buf == nullptr && len > 0) return MC_ERR_INVALID_ARG;
  std::unique_ptr<Unexpected> message = matcher_.TakeUnexpected(tag);
  if (message == nullptr && broken_) return MC_ERR_PEER_LOST;
  Request* r = ctx_->NewRequest(Request::Kind::kRecv);
  r->buf = static_cast<char*>(buf);
  r->len = len;
  r->tag = tag;
  *out = r;
  if (message == nullptr) {
    matcher_.AddPosted(r);
  } else if (message->rendezvous) {
    StartRendezvousRecv(r, message->sender_id, message->length);
  } else {
    size_t n = std::min<uint64_t>(len, message->length);
    if (n > 0) std::memcpy(r->buf, message->data.get(), n);
    r->Complete(message->length > len ? MC_ERR_TRUNCATED : MC_SUCCESS, n);
  }
  return MC_SUCCESS;
}

void Endpoint::StartRendezvousRecv(Request* recv, uint64_t sender_id, uint64_t length) {
  recv->wire_len = length;
  FrameHeader h;
  h.type = FrameType::kCts;
  h.id = sender_id;
  h.addr = next_id_++;
  h.length = std::min<uint64_t>(recv->len, length);
  rndv_recvs_[h.addr] = recv;
  Queue(h, nullptr, 0, nullptr);
}

mc_result_t Endpoint::Put(const void* buf, size_t len, uint64_t remote_addr, const RemoteKey& rkey,
                          uint64_t notify, Request** out) {
  if (buf == nullptr && len > 0) return MC_ERR_INVALID_ARG;
  if (len > ctx_->config().max_message) return MC_ERR_INVALID_ARG;
  if (broken_) return MC_ERR_PEER_LOST;
  Request* r = ctx_->NewRequest(Request::Kind::kPut);
  r->buf = const_cast<char*>(static_cast<const char*>(buf));
  r->len = len;
  *out = r;
  // The target checks again (the key may be gone); this saves a round trip.
  if (!RangeInside(rkey.base, rkey.length, remote_addr, len)) {
    r->Complete(MC_ERR_ACCESS, 0);
    return MC_SUCCESS;
  }
  FrameHeader h;
  h.type = FrameType::kPut;
  h.tag = notify;
  h.addr = remote_addr;
  h.key = rkey.key;
  h.length = len;
  h.id = next_id_++;
  puts_[h.id] = r;
  Queue(h, r->buf, len, nullptr);
  return MC_SUCCESS;
}

mc_result_t Endpoint::PollNotification(mc_notification_v1_t* notification) {
  if (notifications_.empty()) return broken_ ? MC_ERR_PEER_LOST : MC_AGAIN;
  *notification = notifications_.front();
  notifications_.pop_front();
  return MC_SUCCESS;
}

void Endpoint::Close() {
  CompletePending(MC_ERR_CLOSED);
  if (fd_ >= 0) {
    ctx_->Unwatch(fd_);
    ::close(fd_);
    fd_ = -1;
  }
  broken_ = true;
}

void Endpoint::Queue(const FrameHeader& header, const char* payload, size_t payload_len,
                     Request* done_when_written) {
  outbox_.Push(header, payload, payload_len, done_when_written);
  // Write at once when nothing was waiting: a lone small message then leaves
  // inside isend. Otherwise EPOLLOUT is already armed.
  if (state_ == State::kOpen && outbox_.size() == 1) Flush();
}

void Endpoint::Flush() {
  if (broken_ || deferred_error_ != 0 || state_ == State::kConnecting) return;
  int err = outbox_.Flush(fd_);
  if (err == 0) {
    SetWriteInterest(false);
  } else if (err == EAGAIN) {
    SetWriteInterest(true);
  } else {
    // Reported from progress, never from inside isend and friends.
    SetWriteInterest(false);
    deferred_error_ = err;
    ctx_->ScheduleDeferred(this);
  }
}

void Endpoint::SetWriteInterest(bool want) {
  if (want == write_interest_ || fd_ < 0) return;
  write_interest_ = want;
  uint32_t events = EPOLLIN | EPOLLRDHUP;
  if (want) events |= EPOLLOUT;
  ctx_->Rewatch(fd_, this, events);
}

void Endpoint::OnConnectDone() {
  int err = PendingSocketError(fd_);
  if (err != 0) {
    Fail(MC_ERR_PEER_LOST, absl::StrCat("connect to ", peer_, " failed: ", DescribeSocketError(err)));
    return;
  }
  state_ = State::kOpen;
  Flush();
}

void Endpoint::OnEvents(uint32_t events) {
  if (broken_) return;
  if (state_ == State::kConnecting) {
    if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) == 0) return;
    OnConnectDone();
    if (broken_ || dead()) return;
  }
  if (events & (EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLRDHUP)) {
    HandleReadable();
    if (broken_ || dead()) return;
  }
  if (events & EPOLLOUT) Flush();
}

void Endpoint::RunDeferred() {
  if (deferred_error_ != 0 && !broken_) {
    int err = deferred_error_;
    if (state_ == State::kConnecting) {
      Fail(MC_ERR_PEER_LOST, absl::StrCat("connect to ", peer_, " failed: ", DescribeSocketError(err)));
    } else {
      FailFromSocket(err);
    }
    return;
  }
  if (report_pending_ && handed_out_ && !reported_) {
    report_pending_ = false;
    reported_ = true;
    ctx_->ReportPeerFailure(this, failure_detail_);
  }
}

void Endpoint::FailFromSocket(int err) {
  Fail(MC_ERR_PEER_LOST, absl::StrCat(DescribeSocketError(err), " (", peer_, ")"));
}

bool Endpoint::FailProtocol(const std::string& what) {
  Fail(MC_ERR_PROTOCOL, absl::StrCat("protocol error from ", peer_, ": ", what));
  return false;
}

void Endpoint::Fail(mc_result_t request_status, const std::string& detail) {
  if (broken_) return;
  broken_ = true;
  failure_detail_ = detail;
  if (fd_ >= 0) {
    ctx_->Unwatch(fd_);
    ::close(fd_);
    fd_ = -1;
  }
  CompletePending(request_status);
  matcher_.DropUnexpectedRendezvous();
  if (state_ == State::kAwaitHello) {
    // Never handed out: nobody to tell.
    ctx_->Log(MC_LOG_DEBUG, absl::StrCat("tcp: dropping incoming connection: ", detail));
    if (listener_ != nullptr) listener_->Forget(this);
    ctx_->DestroyEndpoint(this);
    return;
  }
  // The core decides what a lost peer means; garbage on the wire is worth a warning.
  ctx_->Log(request_status == MC_ERR_PROTOCOL ? MC_LOG_WARN : MC_LOG_INFO,
            absl::StrCat("tcp: lost connection: ", detail));
  if (!handed_out_) {
    report_pending_ = true;
    return;
  }
  reported_ = true;
  // Last: the core may close this endpoint from inside the callback.
  ctx_->ReportPeerFailure(this, detail);
}

void Endpoint::CompletePending(mc_result_t status) {
  outbox_.Clear([&](Request* r) { r->Complete(status, 0); });
  for (auto* map : {&rndv_sends_, &rndv_recvs_, &puts_}) {
    for (auto& [id, r] : *map) r->Complete(status, 0);
    map->clear();
  }
  matcher_.DrainPosted([&](Request* r) { r->Complete(status, 0); });
  if (sink_recv_ != nullptr) sink_recv_->Complete(status, 0);
  sink_recv_ = nullptr;
  sink_unexpected_.reset();
  in_frame_ = false;
  sink_ = nullptr;
}

void Endpoint::OnDeregistered(uint32_t key) {
  if (in_frame_ && frame_.type == FrameType::kPut && frame_.key == key && put_status_ == MC_SUCCESS) {
    put_status_ = MC_ERR_ACCESS;
    sink_ = nullptr;
    sink_left_ = 0;
  }
}

}  // namespace mc::tcp
