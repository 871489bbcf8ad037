#include "fake_net_fabric.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <random>

namespace mc::rdma::testing {

// One unit on the stream; `len` payload bytes follow for SEND, WRITE,
// WRITE_IMM and a successful READ_RESP.
struct NetFakeQueuePairs::Frame {
  uint8_t kind;
  uint8_t qp;
  uint8_t status;  // answers: a CompletionStatus
  uint8_t pad;
  uint32_t imm;
  uint64_t wr_id;
  uint64_t addr;
  uint32_t rkey;
  uint32_t len;
};

namespace {

enum Kind : uint8_t { kSend = 1, kWrite, kWriteImm, kReadReq, kAck, kReadResp };

bool HasPayload(uint8_t kind, uint8_t status) {
  return kind == kSend || kind == kWrite || kind == kWriteImm ||
         (kind == kReadResp && status == static_cast<uint8_t>(CompletionStatus::kSuccess));
}

}  // namespace

// ---- memory ----

NetFakeDomain::NetFakeDomain() : guid_((uint64_t{std::random_device{}()} << 32) | std::random_device{}()) {}

StatusOr<MemoryRegion> NetFakeDomain::Register(void* addr, size_t len, bool) {
  const uint32_t key = next_key_++;
  regions_[key] = {reinterpret_cast<uint64_t>(addr), len};
  MemoryRegion mr;
  mr.addr = reinterpret_cast<uint64_t>(addr);
  mr.length = len;
  mr.lkey = key;
  mr.rkey = key;
  mr.handle = reinterpret_cast<void*>(static_cast<uintptr_t>(key));
  return mr;
}

void NetFakeDomain::Deregister(const MemoryRegion& region) { regions_.erase(region.lkey); }

bool NetFakeDomain::Covers(uint32_t key, uint64_t addr, uint64_t len) const {
  auto it = regions_.find(key);
  if (it == regions_.end()) return false;
  const auto [base, size] = it->second;
  return addr >= base && len <= size && addr - base <= size - len;
}

// ---- queue pairs ----

StatusOr<std::unique_ptr<NetFakeQueuePairs>> NetFakeQueuePairs::Create(NetFakeDomain* domain,
                                                                       const QueuePairShape& shape) {
  static_assert(sizeof(Frame) == 32, "the frame layout is the stream's contract");
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Internal(std::string("fake fabric: socket: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || listen(fd, 4) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    close(fd);
    return Internal(std::string("fake fabric: listen: ") + std::strerror(errno));
  }
  return std::unique_ptr<NetFakeQueuePairs>(
      new NetFakeQueuePairs(domain, shape.count, shape.send_depth, fd, ntohs(addr.sin_port)));
}

NetFakeQueuePairs::~NetFakeQueuePairs() {
  CloseSockets();
  if (listen_fd_ >= 0) close(listen_fd_);
}

void NetFakeQueuePairs::Describe(ConnInfo* info) const {
  info->hca_guid = domain_->guid();
  info->lid = port_;  // where the peer connects
  info->port = 1;
  info->ethernet = 0;
  info->mtu = 5;
  info->rd_initiator = kReadLimit;
  info->rd_responder = kReadLimit;
  info->qpn.clear();
  info->psn.clear();
  for (int i = 0; i < count_; ++i) {
    info->qpn.push_back(static_cast<uint32_t>(i + 1));
    info->psn.push_back(0);
  }
}

Status NetFakeQueuePairs::Link(const ConnInfo& remote) {
  if (static_cast<int>(remote.qpn.size()) != count_) return ProtocolError("fake fabric: queue pair counts differ");
  out_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (out_fd_ < 0) return Internal(std::string("fake fabric: socket: ") + std::strerror(errno));
  int one = 1;
  setsockopt(out_fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(remote.lid);
  if (connect(out_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 && errno != EINPROGRESS) {
    return Internal(std::string("fake fabric: connect: ") + std::strerror(errno));
  }
  return Status();
}

void NetFakeQueuePairs::Complete(int qp, uint64_t wr_id, CompletionStatus status, const char* detail) {
  WorkCompletion wc;
  wc.wr_id = wr_id;
  wc.qp = qp;
  wc.status = status;
  wc.detail = detail;
  cq_.push_back(wc);
}

int NetFakeQueuePairs::PostSend(int qp, const SendWork& work) {
  if (qp < 0 || qp >= count_) return EINVAL;
  if (out_fd_ < 0 && !error_) return EINVAL;  // not linked
  if (outstanding_ >= send_depth_ * static_cast<uint32_t>(count_)) return ENOMEM;
  if (work.inline_data && work.sge.length > kMaxInline) return EINVAL;
  ++outstanding_;
  if (error_) {
    Complete(qp, work.wr_id, CompletionStatus::kFlushed, "flushed");
    return 0;
  }
  if (!work.inline_data && work.sge.length > 0 && !domain_->Covers(work.sge.lkey, work.sge.addr, work.sge.length)) {
    Complete(qp, work.wr_id, CompletionStatus::kError, "local protection error");
    ToError("local protection error");
    return 0;
  }
  Frame f{};
  f.qp = static_cast<uint8_t>(qp);
  f.wr_id = work.wr_id;
  f.addr = work.remote_addr;
  f.rkey = work.rkey;
  f.len = work.sge.length;
  f.imm = work.imm;
  switch (work.op) {
    case WorkOp::kSend: f.kind = kSend; break;
    case WorkOp::kWrite: f.kind = kWrite; break;
    case WorkOp::kWriteImm: f.kind = kWriteImm; break;
    case WorkOp::kRead: f.kind = kReadReq; break;
  }
  outbound_.append(reinterpret_cast<const char*>(&f), sizeof(f));
  if (HasPayload(f.kind, 0)) outbound_.append(reinterpret_cast<const char*>(work.sge.addr), work.sge.length);
  pending_.push_back(Posted{qp, work.wr_id, work.sge, work.op == WorkOp::kRead});
  Pump();
  return 0;
}

int NetFakeQueuePairs::PostRecv(uint64_t wr_id, const Sge& sge) {
  if (error_) {
    WorkCompletion wc;
    wc.wr_id = wr_id;
    wc.is_recv = true;
    wc.status = CompletionStatus::kFlushed;
    cq_.push_back(wc);
    return 0;
  }
  recvs_.emplace_back(wr_id, sge);
  return 0;
}

void NetFakeQueuePairs::Answer(uint8_t kind, uint8_t status, int qp, uint64_t wr_id, const char* data, uint32_t len) {
  Frame f{};
  f.kind = kind;
  f.status = status;
  f.qp = static_cast<uint8_t>(qp);
  f.wr_id = wr_id;
  f.len = len;
  outbound_.append(reinterpret_cast<const char*>(&f), sizeof(f));
  if (HasPayload(kind, status)) outbound_.append(data, len);
}

bool NetFakeQueuePairs::HandleFrame(const Frame& f, const char* payload) {
  const auto ok = static_cast<uint8_t>(CompletionStatus::kSuccess);
  const auto refused = static_cast<uint8_t>(CompletionStatus::kError);
  const auto access = static_cast<uint8_t>(CompletionStatus::kRemoteAccess);
  switch (f.kind) {
    case kSend:
    case kWriteImm:
    case kWrite: {
      if (f.kind != kSend && f.len > 0 && !domain_->Covers(f.rkey, f.addr, f.len)) {
        Answer(kAck, access, f.qp, f.wr_id, nullptr, 0);
        return false;
      }
      if (f.kind == kWrite) {
        if (f.len > 0) std::memcpy(reinterpret_cast<void*>(f.addr), payload, f.len);
        Answer(kAck, ok, f.qp, f.wr_id, nullptr, 0);
        return true;
      }
      if (recvs_.empty()) {  // receiver not ready: the plugin's credits must prevent this
        Answer(kAck, refused, f.qp, f.wr_id, nullptr, 0);
        return false;
      }
      auto [recv_id, sge] = recvs_.front();
      recvs_.pop_front();
      WorkCompletion wc;
      wc.wr_id = recv_id;
      wc.is_recv = true;
      if (f.kind == kSend) {
        if (f.len > sge.length) {
          Answer(kAck, refused, f.qp, f.wr_id, nullptr, 0);
          return false;
        }
        if (f.len > 0) std::memcpy(reinterpret_cast<void*>(sge.addr), payload, f.len);
        wc.byte_len = f.len;
      } else {
        if (f.len > 0) std::memcpy(reinterpret_cast<void*>(f.addr), payload, f.len);
        wc.with_imm = true;
        wc.imm = f.imm;
      }
      cq_.push_back(wc);
      Answer(kAck, ok, f.qp, f.wr_id, nullptr, 0);
      return true;
    }
    case kReadReq:
      if (f.len > 0 && !domain_->Covers(f.rkey, f.addr, f.len)) {
        Answer(kReadResp, access, f.qp, f.wr_id, nullptr, 0);
        return false;
      }
      Answer(kReadResp, ok, f.qp, f.wr_id, reinterpret_cast<const char*>(f.addr), f.len);
      return true;
    case kAck:
    case kReadResp: {
      if (pending_.empty() || pending_.front().wr_id != f.wr_id || pending_.front().qp != f.qp) {
        ToError("fake fabric: an answer out of order");
        return false;
      }
      const Posted p = pending_.front();
      pending_.pop_front();
      const auto status = static_cast<CompletionStatus>(f.status);
      if (f.kind == kReadResp && status == CompletionStatus::kSuccess) {
        if (f.len != p.sge.length) {
          ToError("fake fabric: a READ answer of the wrong length");
          return false;
        }
        if (f.len > 0) std::memcpy(reinterpret_cast<void*>(p.sge.addr), payload, f.len);
      }
      Complete(p.qp, p.wr_id, status, status == CompletionStatus::kSuccess ? "" : "refused by the peer");
      if (status != CompletionStatus::kSuccess) {
        ToError("the peer refused a request");
        return false;
      }
      return true;
    }
    default:
      ToError("fake fabric: garbage on the stream");
      return false;
  }
}

void NetFakeQueuePairs::Flush() {
  while (!outbound_.empty() && out_fd_ >= 0) {
    const ssize_t n = send(out_fd_, outbound_.data(), outbound_.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      outbound_.erase(0, static_cast<size_t>(n));
    } else if (n < 0 && (errno == EAGAIN || errno == ENOTCONN || errno == EINTR)) {
      return;  // connecting, or the socket is full: later
    } else {
      ToError("the peer's stream is gone");
      return;
    }
  }
}

void NetFakeQueuePairs::Pump() {
  if (error_) return;
  if (in_fd_ < 0 && listen_fd_ >= 0) {
    in_fd_ = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (in_fd_ >= 0) {
      close(listen_fd_);
      listen_fd_ = -1;
    }
  }
  Flush();
  if (error_) return;
  if (in_fd_ < 0) return;
  char buf[1 << 16];
  for (;;) {
    const ssize_t n = recv(in_fd_, buf, sizeof(buf), MSG_DONTWAIT);
    if (n > 0) {
      inbound_.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
      ToError("the peer's stream closed");
      return;
    }
    if (errno == EAGAIN) break;
  }
  size_t at = 0;
  while (!error_ && inbound_.size() - at >= sizeof(Frame)) {
    Frame f;
    std::memcpy(&f, inbound_.data() + at, sizeof(f));
    const size_t payload = HasPayload(f.kind, f.status) ? f.len : 0;
    if (inbound_.size() - at - sizeof(Frame) < payload) break;
    if (!HandleFrame(f, inbound_.data() + at + sizeof(Frame))) {
      // A refusal breaks the link on both sides, as on RC; the answer still goes out.
      Flush();
      ToError("a request was refused");
    }
    at += sizeof(Frame) + payload;
  }
  if (!error_) inbound_.erase(0, at);
}

int NetFakeQueuePairs::Poll(WorkCompletion* out, int max) {
  Pump();
  int n = 0;
  while (n < max && !cq_.empty()) {
    out[n] = cq_.front();
    if (!out[n].is_recv) --outstanding_;
    cq_.pop_front();
    ++n;
  }
  return n;
}

void NetFakeQueuePairs::ToError(const char* why) {
  if (error_) return;
  error_ = true;
  for (const Posted& p : pending_) Complete(p.qp, p.wr_id, CompletionStatus::kFlushed, why);
  pending_.clear();
  for (const auto& [wr_id, sge] : recvs_) {
    WorkCompletion wc;
    wc.wr_id = wr_id;
    wc.is_recv = true;
    wc.status = CompletionStatus::kFlushed;
    cq_.push_back(wc);
  }
  recvs_.clear();
  CloseSockets();
}

void NetFakeQueuePairs::Shutdown() { ToError("shut down"); }

void NetFakeQueuePairs::CloseSockets() {
  if (out_fd_ >= 0) close(out_fd_);
  if (in_fd_ >= 0) close(in_fd_);
  out_fd_ = in_fd_ = -1;
  outbound_.clear();
  inbound_.clear();
}

// ---- port ----

NetFakePort::NetFakePort(std::string name) {
  std::snprintf(props_.name, sizeof(props_.name), "%s", name.c_str());
  props_.numa_node = -1;
  props_.bandwidth_gbps = 0;
  props_.latency_us = 50;
  props_.mem_kinds = MC_MEM_KIND_BIT(MC_MEM_HOST);
  props_.max_message_bytes = uint64_t{1} << 40;
}

StatusOr<std::unique_ptr<LinkableQueuePairs>> NetFakePort::CreateQueuePairs(const QueuePairShape& shape) {
  StatusOr<std::unique_ptr<NetFakeQueuePairs>> qps = NetFakeQueuePairs::Create(&domain_, shape);
  if (!qps.ok()) return qps.status();
  return std::unique_ptr<LinkableQueuePairs>(std::move(*qps));
}

}  // namespace mc::rdma::testing
