// Endpoint: buffers, the operations the core posts, and posting work to the
// queue pairs. Completions and failures are in endpoint_completions.cc.
#include "endpoint.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "endpoint_internal.h"

namespace mc::rdma {

using internal::kHeaderBytes;
using internal::kMaxMessageBytes;
using internal::MakeWrId;

namespace {

size_t AlignUp(size_t v, size_t a) { return (v + a - 1) / a * a; }

constexpr size_t kWordsBytes = 64;  // credit word and credit source, one cache line

}  // namespace

StatusOr<std::unique_ptr<Endpoint>> Endpoint::Create(EndpointHost* host, RequestPool* requests, RegistrationCache* regs,
                                                     const EndpointOptions& options) {
  std::unique_ptr<Endpoint> ep(new Endpoint(host, requests, regs, options));
  Status s = ep->AllocateBuffers();
  if (!s.ok()) return s;
  return ep;
}

Endpoint::Endpoint(EndpointHost* host, RequestPool* requests, RegistrationCache* regs, const EndpointOptions& options)
    : host_(host), requests_(requests), regs_(regs), options_(options) {}

Endpoint::~Endpoint() {
  if (qps_ != nullptr) qps_->Shutdown();
  if (!broken()) {
    state_ = State::kClosed;
    CompleteEverything(MC_ERR_CLOSED);
  }
  qps_.reset();  // before the buffers its work requests point into
  if (block_ != nullptr) {
    if (block_mr_.handle != nullptr) regs_->domain()->Deregister(block_mr_);
    std::free(block_);
  }
}

Status Endpoint::AllocateBuffers() {
  slot_bytes_ = AlignUp(kHeaderBytes + options_.eager_limit, 64);
  send_slots_ = std::min(options_.recv_depth, options_.send_depth);
  const size_t recv_bytes = slot_bytes_ * options_.recv_depth;
  const size_t send_bytes = slot_bytes_ * send_slots_;
  const size_t ring_bytes = kPutDescriptorBytes * options_.recv_depth;
  block_bytes_ = AlignUp(recv_bytes + send_bytes + kWordsBytes + ring_bytes, 4096);
  block_ = static_cast<char*>(std::aligned_alloc(4096, block_bytes_));
  if (block_ == nullptr)
    return Status(MC_ERR_NO_MEMORY, "no memory for " + std::to_string(block_bytes_) + " bytes of connection buffers");
  std::memset(block_, 0, block_bytes_);
  StatusOr<MemoryRegion> mr = regs_->domain()->Register(block_, block_bytes_, false);
  if (!mr.ok()) return mr.status();
  block_mr_ = *mr;
  credit_word_ = reinterpret_cast<uint64_t*>(block_ + recv_bytes + send_bytes);
  credit_source_ = credit_word_ + 1;
  ring_ = reinterpret_cast<PutDescriptor*>(block_ + recv_bytes + send_bytes + kWordsBytes);
  for (int i = static_cast<int>(send_slots_) - 1; i >= 0; --i) free_slots_.push_back(i);
  return Status();
}

void Endpoint::DescribeBuffers(ConnInfo* info) const {
  info->recv_depth = options_.recv_depth;
  info->eager_limit = options_.eager_limit;
  info->credit_addr = reinterpret_cast<uint64_t>(credit_word_);
  info->credit_rkey = block_mr_.rkey;
  info->ring_addr = reinterpret_cast<uint64_t>(ring_);
  info->ring_rkey = block_mr_.rkey;
}

char* Endpoint::RecvSlotAddress(int slot) const { return block_ + static_cast<size_t>(slot) * slot_bytes_; }

char* Endpoint::SlotAddress(int slot) const {
  return block_ + slot_bytes_ * options_.recv_depth + static_cast<size_t>(slot) * slot_bytes_;
}

Status Endpoint::Attach(std::unique_ptr<QueuePairSet> qps) {
  qps_ = std::move(qps);
  sq_used_.assign(qps_->size(), 0);
  reads_in_flight_.assign(qps_->size(), 0);
  max_inline_ = qps_->max_inline();
  inline_scratch_.assign(std::max<size_t>(max_inline_, kHeaderBytes), 0);
  for (uint32_t slot = 0; slot < options_.recv_depth; ++slot) {
    Sge sge{reinterpret_cast<uint64_t>(RecvSlotAddress(static_cast<int>(slot))), static_cast<uint32_t>(slot_bytes_),
            block_mr_.lkey};
    if (int err = qps_->PostRecv(MakeWrId(internal::kWrRecv, slot), sge); err != 0) {
      return Internal(std::string("posting receive buffers failed: ") + std::strerror(err));
    }
  }
  return Status();
}

void Endpoint::Start(const ConnInfo& peer, uint32_t read_limit) {
  peer_guid_ = peer.hca_guid;
  peer_depth_ = peer.recv_depth;
  eager_send_limit_ = std::min(options_.eager_limit, peer.eager_limit);
  peer_credit_addr_ = peer.credit_addr;
  peer_credit_rkey_ = peer.credit_rkey;
  peer_ring_addr_ = peer.ring_addr;
  peer_ring_rkey_ = peer.ring_rkey;
  read_limit_ = std::max<uint32_t>(1, read_limit);
  if (state_ != State::kConnecting) return;  // closed or failed meanwhile
  state_ = State::kRunning;
  PostTransfers();
  PostControl();
}

// ---- the operations ----

mc_result_t Endpoint::Send(uint64_t tag, const void* buf, size_t len, const MemoryRegion* mr, Request** out) {
  if ((buf == nullptr && len > 0) || len > kMaxMessageBytes) return MC_ERR_INVALID_ARG;
  if (state_ == State::kClosed) return MC_ERR_CLOSED;
  if (broken() || state_ == State::kDraining) return MC_ERR_PEER_LOST;
  Request* r = requests_->New(Request::Kind::kSend);
  r->buf = const_cast<char*>(static_cast<const char*>(buf));
  r->len = len;
  r->tag = tag;
  if (mr != nullptr) {
    r->reg = RegRef{mr->lkey, mr->rkey, nullptr};
    r->has_reg = true;
  }
  control_queue_.push_back({ControlKind::kMessage, r, 0});
  *out = r;
  PostControl();
  return MC_SUCCESS;
}

mc_result_t Endpoint::Recv(uint64_t tag, void* buf, size_t len, const MemoryRegion* mr, Request** out) {
  if (buf == nullptr && len > 0) return MC_ERR_INVALID_ARG;
  Unexpected message;
  const bool arrived = matcher_.TakeUnexpected(tag, &message);
  if (!arrived && broken()) return state_ == State::kClosed ? MC_ERR_CLOSED : MC_ERR_PEER_LOST;
  Request* r = requests_->New(Request::Kind::kRecv);
  r->buf = static_cast<char*>(buf);
  r->len = len;
  r->tag = tag;
  if (mr != nullptr) {
    r->reg = RegRef{mr->lkey, mr->rkey, nullptr};
    r->has_reg = true;
  }
  *out = r;
  if (!arrived) {
    matcher_.AddPosted(r);
  } else if (!message.rendezvous) {
    const size_t n = std::min<uint64_t>(len, message.length);
    if (n > 0) std::memcpy(r->buf, message.data.get(), n);
    Finish(r, message.length > len ? MC_ERR_TRUNCATED : MC_SUCCESS, n);
  } else {
    StartRendezvousRecv(r, message.sender_id, message.length, message.sender_addr, message.sender_rkey);
    PostTransfers();
    PostControl();
  }
  return MC_SUCCESS;
}

mc_result_t Endpoint::Put(const void* buf, size_t len, const MemoryRegion* mr, uint64_t remote_addr,
                          const PackedKey& key, uint64_t notify, Request** out) {
  if ((buf == nullptr && len > 0) || len > kMaxMessageBytes) return MC_ERR_INVALID_ARG;
  if (state_ == State::kClosed) return MC_ERR_CLOSED;
  if (broken() || state_ == State::kDraining) return MC_ERR_PEER_LOST;
  Request* r = requests_->New(Request::Kind::kPut);
  r->buf = const_cast<char*>(static_cast<const char*>(buf));
  r->len = len;
  r->remote_addr = remote_addr;
  r->notify = notify;
  *out = r;
  if (mr != nullptr) {
    r->reg = RegRef{mr->lkey, mr->rkey, nullptr};
    r->has_reg = true;
  }
  // A write outside the target's registration would break the queue pair
  // (a remote access error); refuse it here instead.
  const bool inside = remote_addr >= key.addr && len <= key.length && remote_addr - key.addr <= key.length - len;
  if (!inside) {
    Finish(r, MC_ERR_ACCESS, 0);
    return MC_SUCCESS;
  }
  if (started()) {
    // The key entry for the peer's device; before the connection is up the
    // peer's device is unknown, and the entries wait with the request.
    const RkeyEntry* entry = nullptr;
    for (const RkeyEntry& e : key.entries) {
      if (e.hca_guid == peer_guid_) entry = &e;
    }
    if (entry == nullptr) {
      host_->Log(MC_LOG_WARN, "rdma: iput with a remote key that has no entry for the peer's device");
      Finish(r, MC_ERR_ACCESS, 0);
      return MC_SUCCESS;
    }
    r->remote_rkey = entry->rkey;
  } else {
    r->key_entries = key.entries;
  }
  if (len == 0) {
    control_queue_.push_back({ControlKind::kPutNotify, r, 0});
  } else if (len <= options_.eager_limit) {
    control_queue_.push_back({ControlKind::kSmallPut, r, 0});
  } else {
    if (!r->has_reg) {
      StatusOr<RegRef> ref = regs_->Acquire(buf, len);
      if (!ref.ok()) {
        host_->Log(MC_LOG_ERROR, "rdma: iput: " + ref.status().message());
        Finish(r, ref.status().code(), 0);
        return MC_SUCCESS;
      }
      r->reg = *ref;
      r->has_reg = true;
    }
    r->transfer_len = len;
    transfers_.insert(r);
    transfer_queue_.push_back(r);
  }
  PostTransfers();
  PostControl();
  return MC_SUCCESS;
}

mc_result_t Endpoint::PollNotification(mc_notification_v1_t* notification) {
  if (!notifications_.empty()) {
    *notification = notifications_.front();
    notifications_.pop_front();
    return MC_SUCCESS;
  }
  if (broken()) return state_ == State::kClosed ? MC_ERR_CLOSED : MC_ERR_PEER_LOST;
  return MC_AGAIN;
}

void Endpoint::Close() {
  if (state_ == State::kClosed) return;
  const bool was_broken = broken();
  state_ = State::kClosed;
  if (qps_ != nullptr) qps_->Shutdown();
  if (!was_broken) CompleteEverything(MC_ERR_CLOSED);
}

void Endpoint::PeerClosing(uint64_t peer_sent, std::chrono::milliseconds grace) {
  if (broken()) return;
  if (state_ == State::kConnecting) {
    Fail("the peer closed the connection before it was up");
    return;
  }
  state_ = State::kDraining;
  drain_target_ = peer_sent;
  drain_deadline_ = std::chrono::steady_clock::now() + grace;
  CheckDrained();
}

void Endpoint::CheckDrained() {
  if (state_ != State::kDraining) return;
  if (recv_count_ >= drain_target_ || std::chrono::steady_clock::now() >= drain_deadline_) {
    Fail("the peer closed the connection");
  }
}

// ---- posting ----

uint64_t Endpoint::credits() const {
  const uint64_t outstanding = sent_msgs_ - peer_reposted_;
  return outstanding >= peer_depth_ ? 0 : peer_depth_ - outstanding;
}

uint32_t Endpoint::SendRoom(int qp) const { return options_.send_depth - sq_used_[qp]; }

int Endpoint::TakeSlot() {
  if (free_slots_.empty()) return -1;
  int slot = free_slots_.back();
  free_slots_.pop_back();
  return slot;
}

bool Endpoint::ResolvePutKey(Request* r) {
  if (r->key_entries.empty()) return true;
  for (const RkeyEntry& e : r->key_entries) {
    if (e.hca_guid == peer_guid_) {
      r->remote_rkey = e.rkey;
      r->key_entries.clear();
      return true;
    }
  }
  return false;
}

void Endpoint::PostControl() {
  while (state_ == State::kRunning && !control_queue_.empty()) {
    const ControlItem item = control_queue_.front();
    bool out = false;
    switch (item.kind) {
      case ControlKind::kMessage: out = PostMessage(item.req); break;
      case ControlKind::kFin: out = PostFin(item.id); break;
      case ControlKind::kPutNotify: out = PostPutNotify(item.req, -1); break;
      case ControlKind::kSmallPut: out = PostSmallPut(item.req); break;
    }
    // A failed post failed the endpoint, which emptied the queue.
    if (!out || state_ != State::kRunning) return;
    control_queue_.pop_front();
  }
}

bool Endpoint::PostControlWork(SendWork& work, RecordKind kind, Request* r, int slot) {
  work.wr_id = MakeWrId(internal::kWrControl, next_control_seq_);
  if (int err = qps_->PostSend(0, work); err != 0) {
    if (slot >= 0) free_slots_.push_back(slot);
    FailWith(MC_ERR_PEER_LOST, std::string("posting to queue pair 0 failed: ") + std::strerror(err));
    return false;
  }
  control_in_flight_.push_back({next_control_seq_++, kind, r, slot});
  ++sq_used_[0];
  if (kind != RecordKind::kPutData && kind != RecordKind::kCredit) ++sent_msgs_;
  return true;
}

bool Endpoint::PostWithHeader(MsgHeader& header, const char* payload, size_t payload_len, RecordKind kind, Request* r) {
  if (credits() == 0 || SendRoom(0) == 0) return false;
  const size_t total = kHeaderBytes + payload_len;
  header.credits = recv_count_;
  SendWork work;
  work.op = WorkOp::kSend;
  int slot = -1;
  char* bytes;
  if (total <= max_inline_) {
    bytes = inline_scratch_.data();
    work.inline_data = true;
  } else {
    slot = TakeSlot();
    if (slot < 0) return false;
    bytes = SlotAddress(slot);
  }
  std::memcpy(bytes, &header, kHeaderBytes);
  if (payload_len > 0) std::memcpy(bytes + kHeaderBytes, payload, payload_len);
  work.sge =
      Sge{reinterpret_cast<uint64_t>(bytes), static_cast<uint32_t>(total), work.inline_data ? 0 : block_mr_.lkey};
  if (!PostControlWork(work, kind, r, slot)) return false;
  credits_reported_ = header.credits;
  return true;
}

bool Endpoint::PostMessage(Request* r) {
  if (credits() == 0) return false;
  MsgHeader h{};
  h.tag = r->tag;
  h.length = r->len;
  if (r->len <= eager_send_limit_) {
    h.type = static_cast<uint8_t>(MsgType::kEager);
    return PostWithHeader(h, r->buf, r->len, RecordKind::kEager, r);
  }
  if (!r->has_reg) {
    StatusOr<RegRef> ref = regs_->Acquire(r->buf, r->len);
    if (!ref.ok()) {
      host_->Log(MC_LOG_ERROR, "rdma: isend: " + ref.status().message());
      Finish(r, ref.status().code(), 0);
      return true;  // settled
    }
    r->reg = *ref;
    r->has_reg = true;
  }
  h.type = static_cast<uint8_t>(MsgType::kRts);
  h.id = next_id_;
  h.addr = reinterpret_cast<uint64_t>(r->buf);
  h.rkey = r->reg.rkey;
  if (!PostWithHeader(h, nullptr, 0, RecordKind::kRts, nullptr)) return false;
  r->id = next_id_++;
  rndv_sends_[r->id] = r;
  return true;
}

bool Endpoint::PostFin(uint64_t id) {
  MsgHeader h{};
  h.type = static_cast<uint8_t>(MsgType::kFin);
  h.id = id;
  return PostWithHeader(h, nullptr, 0, RecordKind::kFin, nullptr);
}

bool Endpoint::PostPutNotify(Request* r, int slot_with_descriptor) {
  if (credits() == 0 || SendRoom(0) == 0) return false;
  if (r->len > 0 && !ResolvePutKey(r)) {
    Finish(r, MC_ERR_ACCESS, 0);
    return true;
  }
  const uint64_t seq = sent_msgs_;
  const uint32_t ring_slot = static_cast<uint32_t>(seq % peer_depth_);
  const PutDescriptor d{r->notify, r->remote_addr, r->len, seq};
  int slot = slot_with_descriptor;
  SendWork work;
  work.op = WorkOp::kWriteImm;
  work.remote_addr = peer_ring_addr_ + uint64_t{ring_slot} * kPutDescriptorBytes;
  work.rkey = peer_ring_rkey_;
  work.imm = ring_slot;
  char* bytes;
  if (slot < 0 && kPutDescriptorBytes <= max_inline_) {
    bytes = inline_scratch_.data();
    work.inline_data = true;
  } else {
    if (slot < 0 && (slot = TakeSlot()) < 0) return false;
    bytes = SlotAddress(slot) + slot_bytes_ - kPutDescriptorBytes;
  }
  std::memcpy(bytes, &d, kPutDescriptorBytes);
  work.sge = Sge{reinterpret_cast<uint64_t>(bytes), static_cast<uint32_t>(kPutDescriptorBytes),
                 work.inline_data ? 0 : block_mr_.lkey};
  return PostControlWork(work, RecordKind::kNotify, r, slot);
}

bool Endpoint::PostSmallPut(Request* r) {
  if (credits() == 0 || SendRoom(0) < 2 || free_slots_.empty()) return false;
  if (!ResolvePutKey(r)) {
    Finish(r, MC_ERR_ACCESS, 0);
    return true;
  }
  // The data and then the descriptor from one slot: [0, len) and its last 32 bytes.
  const int slot = TakeSlot();
  char* data = SlotAddress(slot);
  std::memcpy(data, r->buf, r->len);
  SendWork work;
  work.op = WorkOp::kWrite;
  work.sge = Sge{reinterpret_cast<uint64_t>(data), static_cast<uint32_t>(r->len), block_mr_.lkey};
  work.remote_addr = r->remote_addr;
  work.rkey = r->remote_rkey;
  if (!PostControlWork(work, RecordKind::kPutData, nullptr, -1)) {
    free_slots_.push_back(slot);
    return false;
  }
  return PostPutNotify(r, slot);
}

void Endpoint::PostTransfers() {
  const int count = qps_ != nullptr ? qps_->size() : 0;
  while (state_ == State::kRunning && !transfer_queue_.empty()) {
    Request* r = transfer_queue_.front();
    const bool is_read = r->kind == Request::Kind::kRecv;
    if (!is_read && !ResolvePutKey(r)) {
      transfer_queue_.pop_front();
      transfers_.erase(r);
      Finish(r, MC_ERR_ACCESS, 0);
      continue;
    }
    // A put of one chunk stays on queue pair 0, so its descriptor can follow at once.
    const bool qp0_only = !is_read && r->transfer_len <= options_.chunk_bytes;
    while (r->next_offset < r->transfer_len) {
      int qp = -1;
      for (int i = 0; i < (qp0_only ? 1 : count); ++i) {
        const int q = qp0_only ? 0 : (next_qp_ + i) % count;
        if (SendRoom(q) > 0 && (!is_read || reads_in_flight_[q] < read_limit_)) {
          qp = q;
          break;
        }
      }
      if (qp < 0) return;  // every queue pair is full: more after completions
      if (!qp0_only) next_qp_ = (qp + 1) % count;
      const uint64_t chunk = std::min<uint64_t>(options_.chunk_bytes, r->transfer_len - r->next_offset);
      SendWork work;
      work.wr_id = MakeWrId(internal::kWrChunk, reinterpret_cast<uint64_t>(r));
      work.op = is_read ? WorkOp::kRead : WorkOp::kWrite;
      work.sge = Sge{reinterpret_cast<uint64_t>(r->buf) + r->next_offset, static_cast<uint32_t>(chunk), r->reg.lkey};
      work.remote_addr = (is_read ? r->peer_addr : r->remote_addr) + r->next_offset;
      work.rkey = is_read ? r->peer_rkey : r->remote_rkey;
      if (int err = qps_->PostSend(qp, work); err != 0) {
        FailWith(MC_ERR_PEER_LOST, "posting to queue pair " + std::to_string(qp) + " failed: " + std::strerror(err));
        return;
      }
      ++sq_used_[qp];
      if (is_read) ++reads_in_flight_[qp];
      ++r->chunks_in_flight;
      r->next_offset += chunk;
      if (qp != 0) r->striped = true;
    }
    transfer_queue_.pop_front();
    // The descriptor of an unstriped put follows its data on queue pair 0.
    if (!is_read && !r->striped) QueueNotify(r);
  }
}

void Endpoint::QueueNotify(Request* r) { control_queue_.push_back({ControlKind::kPutNotify, r, 0}); }

void Endpoint::MaybeReturnCredits() {
  if (state_ != State::kRunning) return;
  const uint64_t unreported = recv_count_ - credits_reported_;
  const uint64_t threshold = std::max<uint32_t>(1, options_.recv_depth / 4);
  if (unreported < threshold || SendRoom(0) == 0) return;
  uint64_t value = recv_count_;
  SendWork work;
  work.op = WorkOp::kWrite;
  work.remote_addr = peer_credit_addr_;
  work.rkey = peer_credit_rkey_;
  if (sizeof(value) <= max_inline_) {
    std::memcpy(inline_scratch_.data(), &value, sizeof(value));
    work.sge = Sge{reinterpret_cast<uint64_t>(inline_scratch_.data()), sizeof(value), 0};
    work.inline_data = true;
  } else {
    __atomic_store_n(credit_source_, value, __ATOMIC_RELEASE);
    work.sge = Sge{reinterpret_cast<uint64_t>(credit_source_), sizeof(value), block_mr_.lkey};
  }
  if (PostControlWork(work, RecordKind::kCredit, nullptr, -1)) credits_reported_ = value;
}

}  // namespace mc::rdma
