// Endpoint: progress, what each completion means, and failures.
#include <algorithm>
#include <cstring>

#include "endpoint.h"
#include "endpoint_internal.h"

namespace mc::rdma {

using internal::kHeaderBytes;
using internal::kMaxMessageBytes;

namespace {

constexpr int kPollBatch = 32;
// Completions handled per progress call before the posting queues get a turn.
constexpr int kMaxCompletionsPerProgress = 512;

const char* Describe(const WorkCompletion& wc) {
  if (wc.detail != nullptr && *wc.detail != '\0') return wc.detail;
  switch (wc.status) {
    case CompletionStatus::kSuccess: return "success";
    case CompletionStatus::kFlushed: return "flushed";
    case CompletionStatus::kRemoteAccess: return "remote access error";
    case CompletionStatus::kError: return "error";
  }
  return "?";
}

}  // namespace

void Endpoint::Progress() {
  if (qps_ == nullptr) return;
  WorkCompletion wc[kPollBatch];
  if (broken()) {
    // Flushed work of a dead connection: nothing to learn from it.
    while (qps_->Poll(wc, kPollBatch) > 0) {
    }
    return;
  }
  for (int handled = 0; handled < kMaxCompletionsPerProgress;) {
    const int n = qps_->Poll(wc, kPollBatch);
    if (n < 0) {
      FailWith(MC_ERR_PEER_LOST, "polling the completion queue failed");
      return;
    }
    for (int i = 0; i < n; ++i) {
      if (wc[i].status != CompletionStatus::kSuccess) SettleRefusedPuts(wc + i, n - i);
      HandleCompletion(wc[i]);
      if (broken()) return;  // the rest of the batch is flushed work
    }
    handled += n;
    if (n < kPollBatch) break;
  }
  if (state_ == State::kConnecting) return;
  TakeReturnedCredits(__atomic_load_n(credit_word_, __ATOMIC_ACQUIRE));
  CheckDrained();
  PostTransfers();
  PostControl();
  MaybeReturnCredits();
}

void Endpoint::HandleCompletion(const WorkCompletion& wc) {
  switch (internal::WrKindOf(wc.wr_id)) {
    case internal::kWrRecv: OnReceive(wc); return;
    case internal::kWrControl: OnControlDone(wc); return;
    case internal::kWrChunk: OnChunkDone(wc); return;
    default: FailWith(MC_ERR_INTERNAL, "a completion with an unknown work request id"); return;
  }
}

void Endpoint::OnControlDone(const WorkCompletion& wc) {
  if (control_in_flight_.empty() ||
      internal::WrValueOf(control_in_flight_.front().seq) != internal::WrValueOf(wc.wr_id)) {
    FailWith(MC_ERR_INTERNAL, "a send completion on queue pair 0 out of order");
    return;
  }
  const SendRecord record = control_in_flight_.front();
  control_in_flight_.pop_front();
  --sq_used_[0];
  if (record.slot >= 0) free_slots_.push_back(record.slot);
  if (wc.status != CompletionStatus::kSuccess) {
    if (record.req != nullptr) Finish(record.req, MC_ERR_PEER_LOST, 0);
    FailWith(MC_ERR_PEER_LOST, std::string("a send on queue pair 0 failed: ") + Describe(wc));
    return;
  }
  switch (record.kind) {
    case RecordKind::kEager:
      ++acked_msgs_;
      Finish(record.req, MC_SUCCESS, record.req->len);
      break;
    case RecordKind::kNotify:
      ++acked_msgs_;
      Finish(record.req, MC_SUCCESS, record.req->len);
      break;
    case RecordKind::kRts:
    case RecordKind::kFin: ++acked_msgs_; break;
    case RecordKind::kPutData:
    case RecordKind::kCredit: break;
  }
}

void Endpoint::SettleRefusedPuts(const WorkCompletion* wc, int n) {
  // The queue pair's error flushes the receives too, and those completions
  // may come first: settle the puts the target refused before the rest
  // fails with MC_ERR_PEER_LOST.
  for (int i = 0; i < n; ++i) {
    if (wc[i].status != CompletionStatus::kRemoteAccess || internal::WrKindOf(wc[i].wr_id) != internal::kWrChunk) {
      continue;
    }
    auto* r = reinterpret_cast<Request*>(internal::WrValueOf(wc[i].wr_id));
    if (transfers_.count(r) == 0 || r->kind != Request::Kind::kPut) continue;
    transfers_.erase(r);
    Finish(r, MC_ERR_ACCESS, 0);
  }
}

void Endpoint::OnChunkDone(const WorkCompletion& wc) {
  auto* r = reinterpret_cast<Request*>(internal::WrValueOf(wc.wr_id));
  if (wc.status != CompletionStatus::kSuccess) {
    if (transfers_.erase(r) > 0) Finish(r, MC_ERR_PEER_LOST, 0);
    FailWith(MC_ERR_PEER_LOST, std::string("an RDMA READ or WRITE failed: ") + Describe(wc));
    return;
  }
  if (wc.qp < 0 || wc.qp >= static_cast<int>(sq_used_.size()) || transfers_.count(r) == 0) {
    FailWith(MC_ERR_INTERNAL, "a completion for an unknown transfer");
    return;
  }
  --sq_used_[wc.qp];
  if (r->kind == Request::Kind::kRecv) --reads_in_flight_[wc.qp];
  --r->chunks_in_flight;
  if (r->chunks_in_flight == 0 && r->next_offset == r->transfer_len) FinishTransfer(r);
}

void Endpoint::FinishTransfer(Request* r) {
  transfers_.erase(r);
  if (r->kind == Request::Kind::kRecv) {
    control_queue_.push_back({ControlKind::kFin, nullptr, r->id});
    Finish(r, r->wire_len > r->len ? MC_ERR_TRUNCATED : MC_SUCCESS, r->transfer_len);
    return;
  }
  // A striped put's descriptor goes out only now that every chunk has landed.
  if (r->striped) QueueNotify(r);
}

void Endpoint::OnReceive(const WorkCompletion& wc) {
  const uint64_t slot = internal::WrValueOf(wc.wr_id);
  if (wc.status != CompletionStatus::kSuccess) {
    FailWith(MC_ERR_PEER_LOST, std::string("a receive failed: ") + Describe(wc));
    return;
  }
  if (slot >= options_.recv_depth) {
    FailWith(MC_ERR_INTERNAL, "a receive completion for an unknown buffer");
    return;
  }
  const uint64_t seq = recv_count_++;
  if (wc.with_imm) {
    if (!OnPutDescriptor(wc.imm, seq)) return;
  } else {
    if (wc.byte_len < kHeaderBytes || wc.byte_len > slot_bytes_) {
      FailProtocol("a message of " + std::to_string(wc.byte_len) + " bytes");
      return;
    }
    const char* bytes = RecvSlotAddress(static_cast<int>(slot));
    MsgHeader h;
    std::memcpy(&h, bytes, kHeaderBytes);
    TakeReturnedCredits(h.credits);
    if (!OnMessage(h, bytes + kHeaderBytes, wc.byte_len - kHeaderBytes)) return;
  }
  Repost(static_cast<int>(slot));
}

bool Endpoint::Repost(int slot) {
  Sge sge{reinterpret_cast<uint64_t>(RecvSlotAddress(slot)), static_cast<uint32_t>(slot_bytes_), block_mr_.lkey};
  if (int err = qps_->PostRecv(internal::MakeWrId(internal::kWrRecv, static_cast<uint64_t>(slot)), sge); err != 0) {
    FailWith(MC_ERR_PEER_LOST, std::string("reposting a receive buffer failed: ") + std::strerror(err));
    return false;
  }
  return true;
}

bool Endpoint::OnPutDescriptor(uint32_t imm, uint64_t seq) {
  const uint32_t expected = static_cast<uint32_t>(seq % options_.recv_depth);
  if (imm != expected) {
    return FailProtocol("a put descriptor in slot " + std::to_string(imm) + ", expected slot " +
                        std::to_string(expected));
  }
  PutDescriptor d;
  std::memcpy(&d, &ring_[expected], sizeof(d));
  if (d.seq != seq) {
    return FailProtocol("a put descriptor with sequence " + std::to_string(d.seq) + ", expected " +
                        std::to_string(seq));
  }
  notifications_.push_back(mc_notification_v1_t{d.value, d.addr, static_cast<size_t>(d.bytes)});
  return true;
}

bool Endpoint::OnMessage(const MsgHeader& h, const char* payload, size_t payload_len) {
  switch (static_cast<MsgType>(h.type)) {
    case MsgType::kEager: {
      if (h.length != payload_len || h.length > options_.eager_limit) {
        return FailProtocol("an eager message says " + std::to_string(h.length) + " bytes and carries " +
                            std::to_string(payload_len));
      }
      if (Request* r = matcher_.TakePosted(h.tag)) {
        const size_t n = std::min<uint64_t>(r->len, h.length);
        if (n > 0) std::memcpy(r->buf, payload, n);
        Finish(r, h.length > r->len ? MC_ERR_TRUNCATED : MC_SUCCESS, n);
        return true;
      }
      Unexpected u;
      u.tag = h.tag;
      u.length = h.length;
      if (h.length > 0) {
        u.data.reset(new char[h.length]);
        std::memcpy(u.data.get(), payload, h.length);
      }
      matcher_.AddUnexpected(std::move(u));
      return true;
    }
    case MsgType::kRts: {
      if (payload_len != 0 || h.length > kMaxMessageBytes) return FailProtocol("a malformed RTS");
      if (Request* r = matcher_.TakePosted(h.tag)) {
        StartRendezvousRecv(r, h.id, h.length, h.addr, h.rkey);
        return true;
      }
      Unexpected u;
      u.tag = h.tag;
      u.length = h.length;
      u.rendezvous = true;
      u.sender_id = h.id;
      u.sender_addr = h.addr;
      u.sender_rkey = h.rkey;
      matcher_.AddUnexpected(std::move(u));
      return true;
    }
    case MsgType::kFin: {
      auto it = rndv_sends_.find(h.id);
      if (payload_len != 0 || it == rndv_sends_.end()) {
        return FailProtocol("a FIN for unknown message " + std::to_string(h.id));
      }
      Request* r = it->second;
      rndv_sends_.erase(it);
      Finish(r, MC_SUCCESS, r->len);
      return true;
    }
  }
  return FailProtocol("a message of unknown type " + std::to_string(h.type));
}

void Endpoint::StartRendezvousRecv(Request* r, uint64_t sender_id, uint64_t length, uint64_t addr, uint32_t rkey) {
  r->id = sender_id;
  r->wire_len = length;
  r->peer_addr = addr;
  r->peer_rkey = rkey;
  const uint64_t n = std::min<uint64_t>(r->len, length);
  if (n == 0) {
    control_queue_.push_back({ControlKind::kFin, nullptr, sender_id});
    Finish(r, length > r->len ? MC_ERR_TRUNCATED : MC_SUCCESS, 0);
    return;
  }
  if (!r->has_reg) {
    StatusOr<RegRef> ref = regs_->Acquire(r->buf, n);
    if (!ref.ok()) {
      // The sender still hears that we are done with its buffer.
      host_->Log(MC_LOG_ERROR, "rdma: irecv: " + ref.status().message());
      control_queue_.push_back({ControlKind::kFin, nullptr, sender_id});
      Finish(r, ref.status().code(), 0);
      return;
    }
    r->reg = *ref;
    r->has_reg = true;
  }
  r->transfer_len = n;
  r->next_offset = 0;
  r->chunks_in_flight = 0;
  transfers_.insert(r);
  transfer_queue_.push_back(r);
}

void Endpoint::TakeReturnedCredits(uint64_t reposted) {
  // The count only grows, and never past what we sent; anything else is stale.
  if (reposted > peer_reposted_ && reposted <= sent_msgs_) peer_reposted_ = reposted;
}

// ---- settling ----

void Endpoint::Finish(Request* r, mc_result_t status, size_t bytes) {
  if (r->has_reg) {
    regs_->Release(&r->reg);
    r->has_reg = false;
  }
  r->Complete(status, bytes);
}

bool Endpoint::FailProtocol(const std::string& what) {
  FailWith(MC_ERR_PROTOCOL, "protocol error: " + what);
  return false;
}

void Endpoint::FailWith(mc_result_t status, const std::string& detail) {
  if (broken()) return;
  state_ = State::kFailed;
  // First stop the device: no more DMA into buffers whose requests complete now.
  if (qps_ != nullptr) qps_->Shutdown();
  CompleteEverything(status);
  host_->Log(status == MC_ERR_PEER_LOST ? MC_LOG_INFO : MC_LOG_WARN, "rdma: connection lost: " + detail);
  host_->OnEndpointFailed(detail);
}

void Endpoint::CompleteEverything(mc_result_t status) {
  for (const ControlItem& item : control_queue_) {
    if (item.req != nullptr) Finish(item.req, status, 0);
  }
  control_queue_.clear();
  for (const SendRecord& record : control_in_flight_) {
    if (record.req != nullptr) Finish(record.req, status, 0);
  }
  control_in_flight_.clear();
  for (Request* r : transfers_) Finish(r, status, 0);
  transfers_.clear();
  transfer_queue_ = RequestQueue();
  for (auto& [id, r] : rndv_sends_) Finish(r, status, 0);
  rndv_sends_.clear();
  matcher_.DrainPosted([&](Request* r) { Finish(r, status, 0); });
  matcher_.DropUnexpectedRendezvous();
  free_slots_.clear();
  for (int i = static_cast<int>(send_slots_) - 1; i >= 0; --i) free_slots_.push_back(i);
  std::fill(sq_used_.begin(), sq_used_.end(), 0);
  std::fill(reads_in_flight_.begin(), reads_in_flight_.end(), 0);
}

}  // namespace mc::rdma
