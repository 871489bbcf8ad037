// Endpoint: posting operations, writing frames, connect, close and failure.
// Reading frames is in endpoint_inbound.cc.
#include "endpoint.h"

#include <errno.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "context.h"
#include "unix_socket.h"

namespace unixdemo {
namespace {

// One write call moves at most this much, so one huge message cannot keep a
// progress() call busy for long.
constexpr uint64_t kMaxWriteBytes = 4u << 20;

std::string ErrnoText(const char* what, int err) { return std::string(what) + ": " + std::strerror(err); }

}  // namespace

Endpoint::Endpoint(Context* ctx, int fd, bool connected, bool awaiting_hello, std::string peer)
    : ctx_(ctx),
      id_(ctx->NextEndpointId()),
      fd_(fd),
      peer_(std::move(peer)),
      connected_(connected),
      awaiting_hello_(awaiting_hello) {}

Endpoint::~Endpoint() {
  if (fd_ >= 0) close(fd_);
  magic_ = 0;
}

void Endpoint::SendHello(const void* hello, size_t len) {
  hello_.assign(static_cast<const char*>(hello), len);
  Queue(kFrameHello, 0, 0, 0, hello_.data(), hello_.size(), nullptr);
}

void Endpoint::Queue(uint32_t type, uint64_t tag, uint64_t addr, uint64_t key, const void* payload, uint64_t length,
                     Request* request) {
  Outgoing frame;
  frame.header = FrameHeader{kFrameMagic, type, length, tag, addr, key};
  frame.payload = static_cast<const char*>(payload);
  frame.sent = 0;
  frame.request = request;
  outbox_.push_back(frame);
}

// ---- posting ----

mc_result_t Endpoint::Send(uint64_t tag, const void* buf, size_t len, Request** out) {
  if (broken_) return MC_ERR_PEER_LOST;  // "fails at once" on a lost peer
  Request* request = ctx_->NewRequest(Request::Kind::kSend, tag, const_cast<void*>(buf), len);
  Queue(kFrameMsg, tag, 0, 0, buf, len, request);
  Flush();  // often the whole message goes out now (and may even complete)
  *out = request;
  return MC_SUCCESS;
}

mc_result_t Endpoint::Recv(uint64_t tag, void* buf, size_t len, Request** out) {
  // The oldest message of this tag that nobody has claimed comes first.
  auto message = std::find_if(unexpected_.begin(), unexpected_.end(), [tag](const std::unique_ptr<Unexpected>& m) {
    return m->tag == tag && m->claimed_by == nullptr;
  });
  if (message != unexpected_.end()) {
    Request* request = ctx_->NewRequest(Request::Kind::kRecv, tag, buf, len);
    if ((*message)->complete) {
      Deliver(**message, request);
      unexpected_.erase(message);
    } else {
      (*message)->claimed_by = request;  // still arriving: FinishFrame delivers it
    }
    *out = request;
    return MC_SUCCESS;
  }
  if (broken_) return MC_ERR_PEER_LOST;
  Request* request = ctx_->NewRequest(Request::Kind::kRecv, tag, buf, len);
  posted_recvs_.push_back(request);
  *out = request;
  return MC_SUCCESS;
}

mc_result_t Endpoint::Put(const void* buf, size_t len, uint64_t remote_addr, uint64_t key, uint64_t notify,
                          Request** out) {
  if (broken_) return MC_ERR_PEER_LOST;
  // The target decides whether the put fits its registration; its PUT_ACK
  // completes this request with MC_SUCCESS or MC_ERR_ACCESS.
  Request* request = ctx_->NewRequest(Request::Kind::kPut, 0, const_cast<void*>(buf), len);
  Queue(kFramePut, notify, remote_addr, key, buf, len, request);
  Flush();
  *out = request;
  return MC_SUCCESS;
}

mc_result_t Endpoint::PollNotification(mc_notification_v1_t* notification) {
  if (!notifications_.empty()) {
    *notification = notifications_.front();
    notifications_.pop_front();
    return MC_SUCCESS;
  }
  return broken_ ? MC_ERR_PEER_LOST : MC_AGAIN;
}

// ---- progress ----

void Endpoint::Progress() {
  if (closed_ || broken_) return;
  if (!connected_) TryConnect();
  if (!connected_ || broken_) return;
  Flush();
  const bool drained = ReadFrames();
  Flush();  // the PUT_ACKs that reading produced
  // A write failed (the peer is gone), but what it sent before going is
  // still ours to deliver: fail only once everything readable has been read.
  if (write_error_ != 0 && drained && !broken_) Fail(MC_ERR_PEER_LOST, ErrnoText("send", write_error_));
}

void Endpoint::TryConnect() {
  const int err = ConnectAgain(fd_, peer_);
  if (err == 0) {
    connected_ = true;
  } else if (err != EAGAIN) {
    Fail(MC_ERR_PEER_LOST, ErrnoText(("connect to " + peer_).c_str(), err));
  }
}

void Endpoint::Flush() {
  while (connected_ && !broken_ && write_error_ == 0 && !outbox_.empty()) {
    Outgoing& frame = outbox_.front();
    const uint64_t header_bytes = sizeof(FrameHeader);
    const uint64_t total = header_bytes + frame.header.length;
    iovec iov[2];
    int count = 0;
    if (frame.sent < header_bytes) {
      iov[count++] = {reinterpret_cast<char*>(&frame.header) + frame.sent, header_bytes - frame.sent};
    }
    const uint64_t payload_sent = frame.sent > header_bytes ? frame.sent - header_bytes : 0;
    if (payload_sent < frame.header.length) {
      iov[count++] = {const_cast<char*>(frame.payload) + payload_sent,
                      std::min(frame.header.length - payload_sent, kMaxWriteBytes)};
    }
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = count;
    // MSG_NOSIGNAL: writing to a dead peer must be an EPIPE error, not a
    // SIGPIPE that kills the whole process.
    const ssize_t n = sendmsg(fd_, &msg, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;  // the socket is full: next progress
      // The peer is gone. Progress() fails the endpoint after reading what is left.
      write_error_ = errno;
      return;
    }
    frame.sent += static_cast<uint64_t>(n);
    if (frame.sent < total) continue;
    Request* request = frame.request;
    const uint32_t type = frame.header.type;
    outbox_.pop_front();
    if (request == nullptr) continue;
    if (type == kFramePut) {
      puts_awaiting_ack_.push_back(request);
    } else {
      request->Complete(MC_SUCCESS, request->len);
    }
  }
}

// ---- close and failure ----

void Endpoint::Close() {
  CancelAll(MC_ERR_CLOSED);
  unexpected_.clear();
  notifications_.clear();
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  closed_ = true;
}

void Endpoint::Fail(mc_result_t request_status, const std::string& detail) {
  if (broken_ || closed_) return;
  broken_ = true;
  failure_detail_ = detail + " (peer " + peer_ + ")";
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  CancelAll(request_status);
  ctx_->Log(MC_LOG_INFO, "unixdemo: endpoint %llu lost its peer: %s", static_cast<unsigned long long>(id_),
            failure_detail_.c_str());
}

bool Endpoint::FailProtocol(const std::string& what) {
  Fail(MC_ERR_PROTOCOL, "protocol error: " + what);
  return false;
}

void Endpoint::CancelAll(mc_result_t status) {
  for (Request* recv : posted_recvs_) recv->Complete(status, 0);
  posted_recvs_.clear();
  if (landing_recv_ != nullptr) landing_recv_->Complete(status, 0);
  landing_recv_ = nullptr;
  // A partly arrived message is lost; whole ones stay receivable.
  for (auto it = unexpected_.begin(); it != unexpected_.end();) {
    if ((*it)->complete) {
      ++it;
      continue;
    }
    if ((*it)->claimed_by != nullptr) (*it)->claimed_by->Complete(status, 0);
    it = unexpected_.erase(it);
  }
  landing_unexpected_ = nullptr;
  for (Outgoing& frame : outbox_) {
    if (frame.request != nullptr) frame.request->Complete(status, 0);
  }
  outbox_.clear();
  for (Request* put : puts_awaiting_ack_) put->Complete(status, 0);
  puts_awaiting_ack_.clear();
  in_payload_ = false;
  header_read_ = 0;
}

void Endpoint::ReportFailureIfDue(const mc_host_v1_t& host) {
  if (!broken_ || !handed_out_ || reported_ || closed_) return;
  reported_ = true;  // before the call: the host may call back into us
  host.peer_failed(host.ctx, this, MC_ERR_PEER_LOST, failure_detail_.c_str());
}

void Endpoint::OnDeregistered(uint64_t key) {
  if (!in_payload_ || in_.type != kFramePut || in_.key != key || put_status_ != MC_SUCCESS) return;
  sink_ = nullptr;  // the rest of this PUT is read and dropped
  sink_left_ = 0;
  put_status_ = MC_ERR_ACCESS;
}

}  // namespace unixdemo
