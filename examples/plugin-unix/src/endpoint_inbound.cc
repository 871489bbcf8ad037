// Endpoint, reading side: frames in, payloads straight to where they belong,
// tag matching, truncation, puts and their acks.
#include <errno.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <new>

#include "context.h"
#include "endpoint.h"

namespace unixdemo {
namespace {

// A progress() call reads at most this many times per endpoint, so that one
// busy peer cannot starve the others (or our own writes).
constexpr int kMaxReadsPerProgress = 64;

const char* FrameName(uint32_t type) {
  switch (type) {
    case kFrameHello:
      return "HELLO";
    case kFrameMsg:
      return "MSG";
    case kFramePut:
      return "PUT";
    case kFramePutAck:
      return "PUT_ACK";
  }
  return "unknown";
}

}  // namespace

bool Endpoint::ReadFrames() {
  for (int reads = 0; reads < kMaxReadsPerProgress; ++reads) {
    if (broken_) return true;
    // Where the next bytes go: the rest of the header, the payload's
    // destination, or (bytes nobody wants) the scratch buffer.
    char* dst;
    uint64_t want;
    if (!in_payload_) {
      dst = reinterpret_cast<char*>(&in_) + header_read_;
      want = sizeof(FrameHeader) - header_read_;
    } else if (sink_left_ > 0) {
      dst = sink_;
      want = sink_left_;
    } else {
      dst = ctx_->scratch();
      want = std::min<uint64_t>(payload_left_, ctx_->scratch_size());
    }
    const ssize_t n = recv(fd_, dst, std::min<uint64_t>(want, SSIZE_MAX), 0);
    if (n == 0) {
      Fail(MC_ERR_PEER_LOST, "the peer closed the connection (end of file)");
      return true;
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return true;  // nothing more for now
      Fail(MC_ERR_PEER_LOST, std::string("recv: ") + std::strerror(errno));
      return true;
    }
    const uint64_t got = static_cast<uint64_t>(n);
    if (!in_payload_) {
      header_read_ += got;
      if (header_read_ == sizeof(FrameHeader) && !StartFrame()) return true;
      continue;
    }
    if (sink_left_ > 0) {
      sink_ += got;
      sink_left_ -= got;
    }
    payload_left_ -= got;
    if (payload_left_ == 0) FinishFrame();
  }
  return broken_;
}

// A whole header has arrived: check it, then pick the payload's destination.
bool Endpoint::StartFrame() {
  header_read_ = 0;
  if (in_.magic != kFrameMagic) return FailProtocol("a frame header without the frame magic");
  if (awaiting_hello_ != (in_.type == kFrameHello)) {
    return FailProtocol(std::string(FrameName(in_.type)) +
                        (awaiting_hello_ ? " frame before the HELLO" : " frame after the connection was set up"));
  }
  uint64_t limit = ctx_->settings().max_message;
  if (in_.type == kFrameHello) limit = MC_MAX_HELLO_BYTES;
  if (in_.type == kFramePutAck) limit = 0;
  if (in_.length > limit) {
    return FailProtocol(std::string(FrameName(in_.type)) + " frame of " + std::to_string(in_.length) +
                        " bytes (the limit is " + std::to_string(limit) + ")");
  }
  in_payload_ = true;
  payload_left_ = in_.length;
  sink_ = nullptr;
  sink_left_ = 0;
  switch (in_.type) {
    case kFrameHello:
      hello_.assign(in_.length, '\0');
      sink_ = hello_.data();
      sink_left_ = in_.length;
      break;
    case kFrameMsg:
      StartMessage();
      break;
    case kFramePut:
      StartPut();
      break;
    case kFramePutAck:
      break;
    default:
      return FailProtocol("frame type " + std::to_string(in_.type));
  }
  if (!broken_ && payload_left_ == 0) FinishFrame();
  return !broken_;
}

Request* Endpoint::TakePostedRecv(uint64_t tag) {
  auto it = std::find_if(posted_recvs_.begin(), posted_recvs_.end(), [tag](Request* r) { return r->tag == tag; });
  if (it == posted_recvs_.end()) return nullptr;
  Request* recv = *it;
  posted_recvs_.erase(it);
  return recv;
}

void Endpoint::StartMessage() {
  if (Request* recv = TakePostedRecv(in_.tag)) {
    landing_recv_ = recv;
    sink_ = recv->buf;
    sink_left_ = std::min<uint64_t>(in_.length, recv->len);  // the rest is dropped: truncation
    return;
  }
  // No receive yet: keep the message. in_.length is at most max_message, and
  // nothrow new turns "too large for this machine" into a failure, not a crash.
  auto message = std::make_unique<Unexpected>();
  message->tag = in_.tag;
  message->length = in_.length;
  message->data.reset(new (std::nothrow) char[std::max<uint64_t>(in_.length, 1)]);
  if (message->data == nullptr) {
    Fail(MC_ERR_NO_MEMORY, "no memory for an unexpected message of " + std::to_string(in_.length) + " bytes");
    return;
  }
  sink_ = message->data.get();
  sink_left_ = in_.length;
  landing_unexpected_ = message.get();
  unexpected_.push_back(std::move(message));  // queued now, so arrival order is kept
}

void Endpoint::StartPut() {
  const Registration* reg = ctx_->FindRegistration(in_.key);
  if (reg == nullptr || !reg->Covers(in_.addr, in_.length)) {
    put_status_ = MC_ERR_ACCESS;  // read the data and drop it
    ctx_->Log(MC_LOG_DEBUG, "unixdemo: refused a put of %llu bytes at 0x%llx (%s)",
              static_cast<unsigned long long>(in_.length), static_cast<unsigned long long>(in_.addr),
              reg == nullptr ? "unknown key" : "outside the registered range");
    return;
  }
  put_status_ = MC_SUCCESS;
  sink_ = reg->base + (in_.addr - reinterpret_cast<uintptr_t>(reg->base));
  sink_left_ = in_.length;
}

// All of a frame's payload has arrived.
void Endpoint::FinishFrame() {
  in_payload_ = false;
  switch (in_.type) {
    case kFrameHello:
      awaiting_hello_ = false;  // the listener may now hand us out
      break;
    case kFrameMsg:
      if (landing_recv_ != nullptr) {
        Request* recv = landing_recv_;
        landing_recv_ = nullptr;
        const bool truncated = in_.length > recv->len;
        recv->Complete(truncated ? MC_ERR_TRUNCATED : MC_SUCCESS, std::min<uint64_t>(in_.length, recv->len));
      } else if (Unexpected* message = landing_unexpected_) {
        landing_unexpected_ = nullptr;
        message->complete = true;
        if (message->claimed_by != nullptr) {
          Deliver(*message, message->claimed_by);
          EraseUnexpected(message);
        }
      }
      break;
    case kFramePut:
      // The notification goes on the queue only now, after every byte is in
      // place: the "data before notification" rule of the ABI.
      if (put_status_ == MC_SUCCESS) notifications_.push_back({in_.tag, in_.addr, static_cast<size_t>(in_.length)});
      Queue(kFramePutAck, static_cast<uint64_t>(put_status_), 0, 0, nullptr, 0, nullptr);
      break;
    case kFramePutAck:
      FinishPutAck();
      break;
  }
}

void Endpoint::FinishPutAck() {
  const uint64_t status = in_.tag;
  if (puts_awaiting_ack_.empty()) {
    FailProtocol("a PUT_ACK with no put outstanding");
    return;
  }
  if (status != MC_SUCCESS && status != MC_ERR_ACCESS) {
    FailProtocol("a PUT_ACK with status " + std::to_string(status));
    return;
  }
  Request* put = puts_awaiting_ack_.front();
  puts_awaiting_ack_.pop_front();
  put->Complete(static_cast<mc_result_t>(status), status == MC_SUCCESS ? put->len : 0);
}

void Endpoint::Deliver(const Unexpected& message, Request* recv) {
  const uint64_t n = std::min<uint64_t>(message.length, recv->len);
  if (n > 0) std::memcpy(recv->buf, message.data.get(), n);
  recv->Complete(message.length > recv->len ? MC_ERR_TRUNCATED : MC_SUCCESS, n);
}

void Endpoint::EraseUnexpected(const Unexpected* message) {
  auto it = std::find_if(unexpected_.begin(), unexpected_.end(),
                         [message](const std::unique_ptr<Unexpected>& m) { return m.get() == message; });
  if (it != unexpected_.end()) unexpected_.erase(it);
}

}  // namespace unixdemo
