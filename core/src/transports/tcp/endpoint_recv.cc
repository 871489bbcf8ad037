// Endpoint: the read side. Frames are parsed out of the staging buffer; a
// payload goes to its destination (a posted receive, a registered region, an
// unexpected-message buffer, or nowhere), large ones straight from the socket.
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <new>

#include "absl/strings/str_cat.h"
#include "transports/tcp/context.h"
#include "transports/tcp/endpoint.h"
#include "transports/tcp/listener.h"

namespace mc::tcp {
namespace {

// Payload reads at least this large bypass the staging buffer.
constexpr uint64_t kDirectReadBytes = 16 * 1024;
// Socket reads per readiness event, so that one busy connection does not
// starve the others; level-triggered epoll brings us back for the rest.
constexpr int kReadsPerEvent = 16;

}  // namespace

void Endpoint::HandleReadable() {
  int reads = 0;
  // Set when a read came back short: the socket is empty, and asking again
  // would only cost a system call that says EAGAIN.
  bool drained = false;
  for (;;) {
    if (!in_frame_) {
      if (inbound_.size() >= kFrameHeaderBytes) {
        if (!StartFrame()) return;
        continue;
      }
    } else if (payload_left_ == 0) {
      if (!FinishFrame()) return;
      continue;
    } else if (inbound_.size() > 0) {
      TakeStagedPayload();
      continue;
    } else if (sink_ != nullptr && sink_left_ >= kDirectReadBytes) {
      if (drained || reads++ >= kReadsPerEvent) return;
      if (!ReadPayloadDirect(&drained)) return;
      continue;
    }
    if (drained || reads++ >= kReadsPerEvent) return;
    size_t room = inbound_.capacity() - inbound_.size();
    ssize_t n = inbound_.Fill(fd_);
    if (n > 0) {
      drained = static_cast<size_t>(n) < room;
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    FailFromSocket(n == 0 ? 0 : errno);
    return;
  }
}

bool Endpoint::ReadPayloadDirect(bool* drained) {
  for (;;) {
    ssize_t n = recv(fd_, sink_, sink_left_, MSG_DONTWAIT);
    if (n > 0) {
      *drained = static_cast<uint64_t>(n) < sink_left_;
      sink_ += n;
      sink_left_ -= static_cast<uint64_t>(n);
      payload_left_ -= static_cast<uint64_t>(n);
      return true;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return false;
    FailFromSocket(n == 0 ? 0 : errno);
    return false;
  }
}

void Endpoint::TakeStagedPayload() {
  uint64_t n = std::min<uint64_t>(inbound_.size(), payload_left_);
  uint64_t to_sink = sink_ != nullptr ? std::min(n, sink_left_) : 0;
  if (to_sink > 0) {
    std::memcpy(sink_, inbound_.data(), to_sink);
    sink_ += to_sink;
    sink_left_ -= to_sink;
  }
  inbound_.Consume(n);
  payload_left_ -= n;
}

void Endpoint::SinkInto(char* dst, uint64_t n) {
  sink_ = dst;
  sink_left_ = dst != nullptr ? n : 0;
}

bool Endpoint::StartFrame() {
  absl::StatusOr<FrameHeader> h =
      DecodeFrameHeader(absl::MakeConstSpan(inbound_.data(), kFrameHeaderBytes), ctx_->config().max_message);
  if (!h.ok()) return FailProtocol(std::string(h.status().message()));
  inbound_.Consume(kFrameHeaderBytes);
  frame_ = *h;
  in_frame_ = true;
  payload_left_ = FrameHasPayload(frame_.type) ? frame_.length : 0;
  SinkInto(nullptr, 0);
  if (frame_.status != 0 && frame_.type != FrameType::kPutAck) {
    return FailProtocol(absl::StrCat(FrameTypeName(frame_.type), " frame carries status ", frame_.status));
  }
  if ((state_ == State::kAwaitHello) != (frame_.type == FrameType::kHello)) {
    return FailProtocol(state_ == State::kAwaitHello
                            ? absl::StrCat("first frame is ", FrameTypeName(frame_.type), ", not HELLO")
                            : std::string("HELLO frame after the connection was set up"));
  }
  return OnHeader(frame_);
}

bool Endpoint::OnHeader(const FrameHeader& h) {
  switch (h.type) {
    case FrameType::kHello:
      hello_.resize(h.length);
      SinkInto(hello_.data(), h.length);
      return true;
    case FrameType::kEager:
      return OnEagerHeader(h);
    case FrameType::kRndvData: {
      auto it = rndv_recvs_.find(h.id);
      if (it == rndv_recvs_.end()) return FailProtocol(absl::StrCat("RNDV_DATA for unknown receive ", h.id));
      Request* r = it->second;
      uint64_t expected = std::min<uint64_t>(r->len, r->wire_len);
      if (h.length != expected) {
        return FailProtocol(absl::StrCat("RNDV_DATA of ", h.length, " bytes, but ", expected, " were asked for"));
      }
      rndv_recvs_.erase(it);
      sink_recv_ = r;
      SinkInto(r->buf, h.length);
      return true;
    }
    case FrameType::kPut:
      return OnPutHeader(h);
    case FrameType::kRts:
    case FrameType::kCts:
    case FrameType::kPutAck:
      return true;  // no payload: handled in FinishFrame
  }
  return FailProtocol("unhandled frame type");
}

bool Endpoint::OnEagerHeader(const FrameHeader& h) {
  if (Request* r = matcher_.TakePosted(h.tag); r != nullptr) {
    r->wire_len = h.length;
    sink_recv_ = r;
    SinkInto(r->buf, std::min<uint64_t>(r->len, h.length));
    return true;
  }
  auto message = std::make_unique<Unexpected>();
  message->tag = h.tag;
  message->length = h.length;
  if (h.length > 0) {
    // The length was checked against MAX_MESSAGE; the allocation may still fail.
    message->data.reset(new (std::nothrow) char[h.length]);
    if (message->data == nullptr) {
      Fail(MC_ERR_NO_MEMORY, absl::StrCat("out of memory buffering an unexpected ", h.length,
                                          "-byte message from ", peer_));
      return false;
    }
  }
  SinkInto(message->data.get(), h.length);
  sink_unexpected_ = std::move(message);
  return true;
}

bool Endpoint::OnPutHeader(const FrameHeader& h) {
  const Registration* reg = ctx_->memory().Find(h.key);
  if (reg != nullptr && RangeInside(reg->base, reg->length, h.addr, h.length)) {
    put_status_ = MC_SUCCESS;
    SinkInto(reinterpret_cast<char*>(static_cast<uintptr_t>(h.addr)), h.length);
  } else {
    // Read and drop the data so the stream stays in step; the initiator hears MC_ERR_ACCESS.
    put_status_ = MC_ERR_ACCESS;
    ctx_->Log(MC_LOG_DEBUG, absl::StrCat("tcp: refused put of ", h.length, " bytes at 0x", absl::Hex(h.addr),
                                         " with key ", h.key, " from ", peer_));
  }
  return true;
}

bool Endpoint::FinishFrame() {
  in_frame_ = false;
  sink_ = nullptr;
  switch (frame_.type) {
    case FrameType::kHello:
      state_ = State::kOpen;
      if (listener_ != nullptr) listener_->OnHelloReceived(this);
      return true;
    case FrameType::kEager:
      if (sink_unexpected_ != nullptr) {
        FinishEagerUnexpected();
      } else {
        Request* r = sink_recv_;
        sink_recv_ = nullptr;
        r->Complete(r->wire_len > r->len ? MC_ERR_TRUNCATED : MC_SUCCESS, std::min<uint64_t>(r->len, r->wire_len));
      }
      return true;
    case FrameType::kRndvData: {
      Request* r = sink_recv_;
      sink_recv_ = nullptr;
      r->Complete(r->wire_len > r->len ? MC_ERR_TRUNCATED : MC_SUCCESS, std::min<uint64_t>(r->len, r->wire_len));
      return true;
    }
    case FrameType::kRts:
      if (Request* r = matcher_.TakePosted(frame_.tag); r != nullptr) {
        StartRendezvousRecv(r, frame_.id, frame_.length);
      } else {
        auto message = std::make_unique<Unexpected>();
        message->tag = frame_.tag;
        message->length = frame_.length;
        message->rendezvous = true;
        message->sender_id = frame_.id;
        matcher_.AddUnexpected(std::move(message));
      }
      return true;
    case FrameType::kCts:
      return OnCts(frame_);
    case FrameType::kPut:
      FinishPut();
      return true;
    case FrameType::kPutAck:
      return OnPutAck(frame_);
  }
  return FailProtocol("unhandled frame type");
}

void Endpoint::FinishEagerUnexpected() {
  std::unique_ptr<Unexpected> message = std::move(sink_unexpected_);
  // A receive posted while the payload was still arriving was queued behind
  // it; this message is the oldest one of its tag, so it is that receive's.
  if (Request* r = matcher_.TakePosted(message->tag); r != nullptr) {
    uint64_t n = std::min<uint64_t>(r->len, message->length);
    if (n > 0) std::memcpy(r->buf, message->data.get(), n);
    r->Complete(message->length > r->len ? MC_ERR_TRUNCATED : MC_SUCCESS, n);
    return;
  }
  matcher_.AddUnexpected(std::move(message));
}

void Endpoint::FinishPut() {
  // The data is in place: only now may the notification appear.
  if (put_status_ == MC_SUCCESS) {
    notifications_.push_back(mc_notification_v1_t{frame_.tag, frame_.addr, frame_.length});
  }
  FrameHeader ack;
  ack.type = FrameType::kPutAck;
  ack.id = frame_.id;
  ack.status = static_cast<uint16_t>(put_status_);
  Queue(ack, nullptr, 0, nullptr);
}

bool Endpoint::OnCts(const FrameHeader& h) {
  auto it = rndv_sends_.find(h.id);
  if (it == rndv_sends_.end()) return FailProtocol(absl::StrCat("CTS for unknown send ", h.id));
  Request* r = it->second;
  if (h.length > r->len) {
    return FailProtocol(absl::StrCat("CTS asks for ", h.length, " bytes of a ", r->len, "-byte message"));
  }
  rndv_sends_.erase(it);
  FrameHeader data;
  data.type = FrameType::kRndvData;
  data.id = h.addr;
  data.length = h.length;
  Queue(data, r->buf, h.length, r);
  return true;
}

bool Endpoint::OnPutAck(const FrameHeader& h) {
  auto it = puts_.find(h.id);
  if (it == puts_.end()) return FailProtocol(absl::StrCat("PUT_ACK for unknown put ", h.id));
  if (h.status != MC_SUCCESS && h.status != MC_ERR_ACCESS) {
    return FailProtocol(absl::StrCat("PUT_ACK with status ", h.status));
  }
  Request* r = it->second;
  puts_.erase(it);
  r->Complete(static_cast<mc_result_t>(h.status), h.status == MC_SUCCESS ? r->len : 0);
  return true;
}

}  // namespace mc::tcp
