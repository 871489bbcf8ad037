#include "fake_fabric.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace mc::rdma::testing {
namespace {

// Queue pair numbers of every live fake, so Link finds a peer from its ConnInfo.
std::map<uint32_t, FakeQueuePairs*>& Registry() {
  static auto* registry = new std::map<uint32_t, FakeQueuePairs*>();
  return *registry;
}
uint32_t g_next_qpn = 0x100;

}  // namespace

// ---- memory ----

FakeMemoryDomain::FakeMemoryDomain(uint64_t guid, bool on_demand)
    : guid_(guid), on_demand_(on_demand), next_key_(static_cast<uint32_t>((guid & 0xff) << 24) | 1) {}

StatusOr<MemoryRegion> FakeMemoryDomain::Register(void* addr, size_t len, bool on_demand) {
  ++register_calls_;
  if (fail_next_) {
    fail_next_ = false;
    return Status(MC_ERR_NO_MEMORY, "fake registration refused");
  }
  if (on_demand) ++on_demand_registrations_;
  const uint32_t key = next_key_++;
  regions_[key] = Region{reinterpret_cast<uint64_t>(addr), len};
  MemoryRegion mr;
  mr.addr = reinterpret_cast<uint64_t>(addr);
  mr.length = len;
  mr.lkey = key;
  mr.rkey = key;
  mr.handle = reinterpret_cast<void*>(static_cast<uintptr_t>(key));
  return mr;
}

void FakeMemoryDomain::Deregister(const MemoryRegion& region) { regions_.erase(region.lkey); }

bool FakeMemoryDomain::Covers(uint32_t key, uint64_t addr, uint64_t len) const {
  auto it = regions_.find(key);
  if (it == regions_.end()) return false;
  return addr >= it->second.addr && len <= it->second.len && addr - it->second.addr <= it->second.len - len;
}

// ---- queue pairs ----

FakeQueuePairs::FakeQueuePairs(FakeMemoryDomain* domain, const FakeQpOptions& options)
    : domain_(domain),
      options_(options),
      qpn_(g_next_qpn),
      qp_error_(options.count, false),
      send_cq_(options.count),
      wire_(options.count),
      outstanding_(options.count, 0),
      reads_outstanding_(options.count, 0),
      posted_(options.count, 0),
      rng_(options.seed) {
  g_next_qpn += 16;
  Registry()[qpn_] = this;
}

FakeQueuePairs::~FakeQueuePairs() {
  Registry().erase(qpn_);
  if (peer_ != nullptr && peer_->peer_ == this) peer_->peer_ = nullptr;
}

void FakeQueuePairs::Describe(ConnInfo* info) const {
  info->hca_guid = domain_->guid();
  info->lid = 1;
  info->port = 1;
  info->ethernet = 0;
  info->mtu = 5;
  info->rd_initiator = static_cast<uint8_t>(options_.read_limit);
  info->rd_responder = static_cast<uint8_t>(options_.read_limit);
  info->qpn.clear();
  info->psn.clear();
  for (int i = 0; i < options_.count; ++i) {
    info->qpn.push_back(qpn_ + static_cast<uint32_t>(i));
    info->psn.push_back(0);
  }
}

Status FakeQueuePairs::Link(const ConnInfo& remote) {
  if (remote.qpn.empty()) return Internal("fake link: no queue pairs");
  auto it = Registry().find(remote.qpn[0]);
  if (it == Registry().end()) return Internal("fake link: no fake queue pair " + std::to_string(remote.qpn[0]));
  if (it->second->options_.count != options_.count) {
    return Internal("fake link: " + std::to_string(options_.count) + " queue pairs against " +
                    std::to_string(it->second->options_.count));
  }
  peer_ = it->second;
  return Status();
}

void FakeQueuePairs::Complete(int qp, uint64_t wr_id, CompletionStatus status, const char* detail) {
  WorkCompletion wc;
  wc.wr_id = wr_id;
  wc.status = status;
  wc.qp = qp;
  wc.detail = detail;
  send_cq_[qp].push_back(PendingSend{wc, posting_read_});
}

void FakeQueuePairs::Refuse(int qp, uint64_t wr_id, CompletionStatus status, const char* why) {
  if (fault_.empty()) fault_ = why;
  Complete(qp, wr_id, status, why);
  QpToError(qp);
  if (peer_ != nullptr) peer_->QpToError(qp);
}

void FakeQueuePairs::ToError() {
  error_ = true;
  for (int q = 0; q < options_.count; ++q) QpToError(q);
}

void FakeQueuePairs::QpToError(int qp) {
  if (qp_error_[qp]) return;
  qp_error_[qp] = true;
  if (qp != 0) return;
  for (const PostedRecv& r : recvs_) {
    WorkCompletion wc;
    wc.wr_id = r.wr_id;
    wc.status = CompletionStatus::kFlushed;
    wc.is_recv = true;
    recv_cq_.push_back(wc);
  }
  recvs_.clear();
}

void FakeQueuePairs::BreakLink(const char* why) {
  if (fault_.empty()) fault_ = why;
  ToError();
  if (peer_ != nullptr) peer_->ToError();
}

void FakeQueuePairs::Shutdown() { ToError(); }

bool FakeQueuePairs::TakeReceive(PostedRecv* out) {
  if (peer_->recvs_.empty()) return false;
  *out = peer_->recvs_.front();
  peer_->recvs_.pop_front();
  return true;
}

int FakeQueuePairs::PostSend(int qp, const SendWork& work) {
  if (qp < 0 || qp >= options_.count) return EINVAL;
  if (peer_ == nullptr && !error_) return EINVAL;  // not linked: a real QP in INIT refuses too
  if (outstanding_[qp] >= options_.send_depth) {
    if (fault_.empty()) fault_ = "send queue overflow";
    return ENOMEM;
  }
  if (work.inline_data && work.sge.length > options_.max_inline) return EINVAL;
  ++outstanding_[qp];
  ++posted_[qp];
  if (work.op == WorkOp::kRead && ++reads_outstanding_[qp] > options_.read_limit) read_limit_exceeded_ = true;
  OnWire item{work, {}};
  if (work.inline_data) {
    const char* src = reinterpret_cast<const char*>(work.sge.addr);
    item.inline_bytes.assign(src, src + work.sge.length);
  }
  wire_[qp].push_back(std::move(item));
  return 0;
}

void FakeQueuePairs::Advance() {
  // A random queue pair runs a random part of its backlog, then maybe
  // another: data on one queue pair often lands long before or after
  // another's, as on a device.
  for (bool first = true;; first = false) {
    if (!first && std::uniform_int_distribution<int>(0, 1)(rng_) == 0) return;
    std::vector<std::pair<FakeQueuePairs*, int>> ready;
    for (FakeQueuePairs* side : {this, peer_}) {
      if (side == nullptr) continue;
      for (int q = 0; q < side->options_.count; ++q) {
        if (!side->wire_[q].empty()) ready.emplace_back(side, q);
      }
    }
    if (ready.empty()) return;
    auto [side, q] = ready[std::uniform_int_distribution<size_t>(0, ready.size() - 1)(rng_)];
    size_t steps = std::uniform_int_distribution<size_t>(1, side->wire_[q].size())(rng_);
    while (steps-- > 0 && !side->wire_[q].empty()) {
      OnWire item = std::move(side->wire_[q].front());
      side->wire_[q].pop_front();
      side->Execute(q, item);
    }
  }
}

void FakeQueuePairs::Execute(int qp, const OnWire& item) {
  const SendWork& work = item.work;
  posting_read_ = work.op == WorkOp::kRead;
  if (qp_error_[qp] || peer_ == nullptr || peer_->qp_error_[qp]) {
    const bool ours = qp_error_[qp] || peer_ == nullptr;
    Complete(qp, work.wr_id, ours ? CompletionStatus::kFlushed : CompletionStatus::kError,
             ours ? "flushed" : "transport retry counter exceeded");
    if (!ours) BreakLink("the peer's queue pair is in the error state");
    return;
  }
  const uint64_t len = work.sge.length;
  if (!work.inline_data && len > 0 && !domain_->Covers(work.sge.lkey, work.sge.addr, len)) {
    Refuse(qp, work.wr_id, CompletionStatus::kError, "local protection error (lkey does not cover the buffer)");
    return;
  }
  const char* src = work.inline_data ? item.inline_bytes.data() : reinterpret_cast<const char*>(work.sge.addr);
  switch (work.op) {
    case WorkOp::kSend: {
      PostedRecv recv;
      if (!TakeReceive(&recv)) {
        Refuse(qp, work.wr_id, CompletionStatus::kError, "receiver not ready (no receive posted)");
        return;
      }
      if (len > recv.sge.length) {
        Refuse(qp, work.wr_id, CompletionStatus::kError, "message longer than the receive buffer");
        return;
      }
      if (len > 0) std::memcpy(reinterpret_cast<void*>(recv.sge.addr), src, len);
      WorkCompletion wc;
      wc.wr_id = recv.wr_id;
      wc.is_recv = true;
      wc.byte_len = static_cast<uint32_t>(len);
      peer_->recv_cq_.push_back(wc);
      break;
    }
    case WorkOp::kWrite:
    case WorkOp::kWriteImm: {
      if (len > 0 && !peer_->domain_->Covers(work.rkey, work.remote_addr, len)) {
        Refuse(qp, work.wr_id, CompletionStatus::kRemoteAccess, "remote access error");
        return;
      }
      PostedRecv recv;
      if (work.op == WorkOp::kWriteImm && !TakeReceive(&recv)) {
        Refuse(qp, work.wr_id, CompletionStatus::kError, "receiver not ready (no receive posted for the immediate)");
        return;
      }
      if (len > 0) std::memcpy(reinterpret_cast<void*>(work.remote_addr), src, len);
      if (work.op == WorkOp::kWriteImm) {
        WorkCompletion wc;
        wc.wr_id = recv.wr_id;
        wc.is_recv = true;
        wc.with_imm = true;
        wc.imm = work.imm;
        peer_->recv_cq_.push_back(wc);
      }
      break;
    }
    case WorkOp::kRead: {
      if (len > 0 && !peer_->domain_->Covers(work.rkey, work.remote_addr, len)) {
        Refuse(qp, work.wr_id, CompletionStatus::kRemoteAccess, "remote access error");
        return;
      }
      if (len > 0) std::memcpy(reinterpret_cast<void*>(work.sge.addr), reinterpret_cast<void*>(work.remote_addr), len);
      break;
    }
  }
  Complete(qp, work.wr_id, CompletionStatus::kSuccess, "");
}

int FakeQueuePairs::PostRecv(uint64_t wr_id, const Sge& sge) {
  if (sge.length > 0 && !domain_->Covers(sge.lkey, sge.addr, sge.length)) return EINVAL;
  if (qp_error_[0]) {
    WorkCompletion wc;
    wc.wr_id = wr_id;
    wc.status = CompletionStatus::kFlushed;
    wc.is_recv = true;
    recv_cq_.push_back(wc);
    return 0;
  }
  recvs_.push_back(PostedRecv{wr_id, sge});
  return 0;
}

int FakeQueuePairs::Poll(WorkCompletion* out, int max) {
  Advance();
  int n = 0;
  while (n < max) {
    std::vector<int> ready;  // -1: the receive queue
    if (!recv_cq_.empty()) ready.push_back(-1);
    for (int q = 0; q < options_.count; ++q) {
      if (!send_cq_[q].empty()) ready.push_back(q);
    }
    if (ready.empty()) break;
    const int pick = ready[std::uniform_int_distribution<size_t>(0, ready.size() - 1)(rng_)];
    if (pick < 0) {
      out[n++] = recv_cq_.front();
      recv_cq_.pop_front();
      continue;
    }
    const PendingSend done = send_cq_[pick].front();
    send_cq_[pick].pop_front();
    --outstanding_[pick];
    if (done.read) --reads_outstanding_[pick];
    out[n++] = done.wc;
  }
  return n;
}

// ---- port ----

FakePort::FakePort(FakeMemoryDomain* domain, std::string name, const FakeQpOptions& options)
    : domain_(domain), options_(options) {
  std::snprintf(props_.name, sizeof(props_.name), "%s", name.c_str());
  props_.numa_node = -1;
  props_.bandwidth_gbps = 100;
  props_.latency_us = 2;
  props_.mem_kinds = MC_MEM_KIND_BIT(MC_MEM_HOST);
  props_.max_message_bytes = uint64_t{1} << 40;
}

StatusOr<std::unique_ptr<LinkableQueuePairs>> FakePort::CreateQueuePairs(const QueuePairShape& shape) {
  FakeQpOptions options = options_;
  options.count = shape.count;
  options.send_depth = shape.send_depth;
  return std::unique_ptr<LinkableQueuePairs>(new FakeQueuePairs(domain_, options));
}

}  // namespace mc::rdma::testing
