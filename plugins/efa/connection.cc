// The data path of a connection: posting sends, receives and puts, reading
// completions, control messages.
#include "connection.h"

#include <rdma/fi_errno.h>
#include <rdma/fi_rma.h>
#include <rdma/fi_tagged.h>

#include "context.h"

namespace mc::efa {
namespace {

constexpr int kCompletionBatch = 16;

// The context libfabric gets for an operation: its FabricOp, whose first
// member is the fi_context2 providers may use.
void* ContextOf(FabricOp* op) { return op; }

bool IsAccessError(int err) {
  return err == FI_EACCES || err == FI_EINVAL || err == FI_EKEYREJECTED || err == FI_EPERM || err == FI_EFAULT;
}

}  // namespace

mc_result_t Connection::NewRequest(OpKind kind, void* buf, size_t len, Registration* mr, uint64_t access,
                                   Request** out) {
  Request* r = ctx_->NewRequest(kind);
  r->conn = this;
  r->buf = buf;
  r->len = len;
  if (mr != nullptr) {
    if (!mr->Covers(buf, len)) {
      ctx_->log()(MC_LOG_WARN, "efa: the registration passed with a %zu-byte buffer does not cover it", len);
      ctx_->FreeRequest(r);
      return MC_ERR_INVALID_ARG;
    }
    r->desc = mr->Desc(device_->index());
  } else if (device_->needs_local_mr() && len > 0) {
    std::string error;
    r->own_mr = RegisterForOneOperation(*device_, buf, len, access, ctx_->NextRequestedKey(), &error);
    if (r->own_mr == nullptr) {
      ctx_->log()(MC_LOG_WARN, "efa: %s", error.c_str());
      ctx_->FreeRequest(r);
      return MC_ERR_NO_MEMORY;
    }
    r->desc = fi_mr_desc(r->own_mr);
  }
  *out = r;
  return MC_SUCCESS;
}

mc_result_t Connection::Send(uint64_t tag, const void* buf, size_t len, Registration* mr, Request** out) {
  if (state_ == State::kFailed) return MC_ERR_PEER_LOST;
  // A small message with nothing queued before it goes out at once: inject
  // copies the buffer and needs no descriptor, so the request is done here.
  if (state_ == State::kOpen && queued_sends_.empty() && len <= device_->inject_size()) {
    if (fi_tinject(fabric_.ep(), buf, len, fabric_.peer(), tag) == 0) {
      Request* r = ctx_->NewRequest(OpKind::kSend);
      r->done = true;
      r->bytes = len;
      r->completed_tag = tag;
      *out = r;
      return MC_SUCCESS;
    }
  }
  Request* r = nullptr;
  mc_result_t rc = NewRequest(OpKind::kSend, const_cast<void*>(buf), len, mr, FI_SEND, &r);
  if (rc != MC_SUCCESS) return rc;
  r->tag = tag;
  queued_sends_.PushBack(r);
  if (state_ == State::kOpen) PostQueued();
  *out = r;
  return MC_SUCCESS;
}

mc_result_t Connection::Recv(uint64_t tag, void* buf, size_t len, Registration* mr, Request** out) {
  if (state_ == State::kFailed) return MC_ERR_PEER_LOST;
  Request* r = nullptr;
  mc_result_t rc = NewRequest(OpKind::kRecv, buf, len, mr, FI_RECV, &r);
  if (rc != MC_SUCCESS) return rc;
  r->tag = tag;
  queued_recvs_.PushBack(r);
  PostQueued();
  *out = r;
  return MC_SUCCESS;
}

mc_result_t Connection::Put(const void* buf, size_t len, Registration* mr, uint64_t remote_addr, const RemoteKey& key,
                            uint64_t notify, Request** out) {
  if (state_ == State::kFailed) return MC_ERR_PEER_LOST;
  // Checked here, against the region the key describes: a put outside it
  // writes nothing and is never notified.
  if (remote_addr < key.base || len > key.length || remote_addr - key.base > key.length - len) {
    ctx_->log()(MC_LOG_DEBUG, "efa: a put of %zu bytes at 0x%llx lies outside the peer's region", len,
                static_cast<unsigned long long>(remote_addr));
    return MC_ERR_ACCESS;
  }
  Request* r = nullptr;
  mc_result_t rc = NewRequest(OpKind::kPut, const_cast<void*>(buf), len, mr, FI_WRITE, &r);
  if (rc != MC_SUCCESS) return rc;
  r->put_seq = next_put_seq_++;
  r->fabric_target = key.virt_addr ? remote_addr : remote_addr - key.base;
  r->key = key.key;
  r->notify = notify;
  r->target_addr = remote_addr;
  queued_sends_.PushBack(r);
  if (state_ == State::kOpen) PostQueued();
  *out = r;
  return MC_SUCCESS;
}

mc_result_t Connection::PollNotification(mc_notification_v1_t* notification) {
  if (join_.Pop(notification)) return MC_SUCCESS;
  Progress();
  if (join_.Pop(notification)) return MC_SUCCESS;
  return state_ == State::kFailed ? MC_ERR_PEER_LOST : MC_AGAIN;
}

void Connection::Progress() {
  if (state_ == State::kFailed) return;
  if (deferred_failure_.has_value()) {
    const std::string detail = *deferred_failure_;
    deferred_failure_.reset();
    Fail(MC_ERR_PEER_LOST, detail);
    return;
  }
  if (state_ == State::kHandshaking || loss_deadline_.has_value()) {
    const Clock::time_point now = Clock::now();
    if (state_ == State::kHandshaking && now >= handshake_deadline_) {
      Fail(MC_ERR_PEER_LOST, "no answer to the handshake from " + PeerName() + " within " +
                                 std::to_string(ctx_->config().connect_timeout_ms) + " ms (MC_EFA_CONNECT_TIMEOUT_MS)");
      return;
    }
    if (loss_deadline_.has_value() && now >= *loss_deadline_) {
      Fail(MC_ERR_PEER_LOST, loss_detail_);
      return;
    }
  }
  DrainCompletions();
  if (state_ != State::kFailed) PostQueued();
}

void Connection::Complete(Request* r, mc_result_t status, size_t bytes, uint64_t tag) {
  IntrusiveList<Request, &Request::conn_hook>::Unlink(r);
  if (r->own_mr != nullptr) {
    fi_close(&r->own_mr->fid);
    r->own_mr = nullptr;
  }
  r->done = true;
  r->status = status;
  r->bytes = bytes;
  r->completed_tag = tag;
  r->conn = nullptr;
}

void Connection::DrainCompletions() {
  fi_cq_tagged_entry entries[kCompletionBatch];
  while (fabric_.is_open()) {
    ssize_t n = fi_cq_read(fabric_.cq(), entries, kCompletionBatch);
    if (n > 0) {
      for (ssize_t i = 0; i < n && fabric_.is_open(); ++i) OnCompletion(entries[i]);
      if (n < kCompletionBatch) return;
      continue;
    }
    if (n == -FI_EAGAIN) return;
    if (n == -FI_EAVAIL) {
      fi_cq_err_entry error{};
      ssize_t got = fi_cq_readerr(fabric_.cq(), &error, 0);
      if (got == 1) {
        OnError(error);
        continue;
      }
      if (got == -FI_EAGAIN) return;
      n = got;
    }
    Fail(MC_ERR_PEER_LOST, std::string("reading the completion queue: ") + fi_strerror(static_cast<int>(-n)));
    return;
  }
}

void Connection::OnCompletion(const fi_cq_tagged_entry& entry) {
  if ((entry.flags & FI_REMOTE_WRITE) != 0) {
    // The peer's put has landed in our memory; its CQ data is the sequence number.
    if ((entry.flags & FI_REMOTE_CQ_DATA) != 0) join_.OnDataWritten(entry.data);
    return;
  }
  if (entry.op_context == nullptr) return;
  auto* op = static_cast<FabricOp*>(entry.op_context);
  switch (op->kind) {
    case OpKind::kSend:
    case OpKind::kPut: {
      auto* r = static_cast<Request*>(op);
      Complete(r, MC_SUCCESS, r->len, r->tag);
      return;
    }
    case OpKind::kRecv: {
      auto* r = static_cast<Request*>(op);
      if (entry.len > r->len) {
        // The rest went to the truncation guard.
        Complete(r, MC_ERR_TRUNCATED, r->len, entry.tag);
        ctx_->DiscardGuardPages();
      } else {
        Complete(r, MC_SUCCESS, entry.len, entry.tag);
      }
      return;
    }
    case OpKind::kControlRecv:
      OnControlMessage(static_cast<ControlSlot*>(op), entry.len);
      return;
    case OpKind::kControlSend:
      ReturnSendSlot(static_cast<ControlSlot*>(op));
      return;
  }
}

void Connection::OnError(const fi_cq_err_entry& error) {
  const std::string what = fi_strerror(error.err);
  if (error.op_context == nullptr) {
    // A remote write into our memory that failed: the initiator hears of it.
    ctx_->log()(MC_LOG_DEBUG, "efa: completion error without an operation: %s", what.c_str());
    return;
  }
  auto* op = static_cast<FabricOp*>(error.op_context);
  ctx_->log()(MC_LOG_TRACE, "efa: completion error (op kind %d): %s, len %zu, olen %zu", static_cast<int>(op->kind),
              what.c_str(), error.len, error.olen);
  switch (op->kind) {
    case OpKind::kRecv: {
      auto* r = static_cast<Request*>(op);
      if (error.err == FI_ETRUNC) {
        Complete(r, MC_ERR_TRUNCATED, error.len, error.tag);
      } else if (error.err == FI_ECANCELED) {
        Complete(r, MC_ERR_CLOSED, 0, r->tag);
      } else {
        Complete(r, MC_ERR_PEER_LOST, 0, r->tag);
        Fail(MC_ERR_PEER_LOST, "a receive failed: " + what);
      }
      return;
    }
    case OpKind::kSend: {
      auto* r = static_cast<Request*>(op);
      if (error.err == FI_ETRUNC) {
        Complete(r, MC_ERR_TRUNCATED, r->len, r->tag);  // the receiver's buffer was short; the link is fine
      } else if (error.err == FI_ECANCELED) {
        Complete(r, MC_ERR_CLOSED, 0, r->tag);
      } else {
        Complete(r, MC_ERR_PEER_LOST, 0, r->tag);
        Fail(MC_ERR_PEER_LOST, "a send failed: " + what);
      }
      return;
    }
    case OpKind::kPut: {
      auto* r = static_cast<Request*>(op);
      if (IsAccessError(error.err)) {
        Complete(r, MC_ERR_ACCESS, 0, 0);
      } else if (error.err == FI_ECANCELED) {
        Complete(r, MC_ERR_CLOSED, 0, 0);
      } else {
        Complete(r, MC_ERR_PEER_LOST, 0, 0);
        Fail(MC_ERR_PEER_LOST, "a put failed: " + what);
      }
      return;
    }
    case OpKind::kControlRecv: {
      auto* slot = static_cast<ControlSlot*>(op);
      slot->posted = false;
      ++unposted_recv_slots_;
      if (error.err == FI_ETRUNC) {
        Fail(MC_ERR_PROTOCOL, "the peer sent a control message longer than any the plugin sends");
      } else if (error.err != FI_ECANCELED) {
        Fail(MC_ERR_PEER_LOST, "a control receive failed: " + what);
      }
      return;
    }
    case OpKind::kControlSend:
      ReturnSendSlot(static_cast<ControlSlot*>(op));
      if (error.err != FI_ECANCELED) Fail(MC_ERR_PEER_LOST, "a control message could not be sent: " + what);
      return;
  }
}

void Connection::OnControlMessage(ControlSlot* slot, size_t len) {
  slot->posted = false;
  ++unposted_recv_slots_;
  ControlMessage message;
  std::string why;
  if (!DecodeControl(slot->buf, len, &message, &why)) {
    Fail(MC_ERR_PROTOCOL, "the peer sent a bad control message: " + why);
    return;
  }
  if (message.kind == ControlKind::kBye) {
    Fail(MC_ERR_PEER_LOST, "the peer closed the endpoint");
    return;
  }
  join_.OnInfo(message.put_seq, mc_notification_v1_t{message.notify, message.target_addr, message.bytes});
}

void Connection::PostControlRecvs() {
  for (int i = 0; i < kControlRecvSlots && unposted_recv_slots_ > 0 && fabric_.is_open(); ++i) {
    ControlSlot& slot = slots_[i];
    if (slot.posted) continue;
    ssize_t rc = fi_recv(fabric_.ep(), slot.buf, sizeof(slot.buf), SlotDesc(), FI_ADDR_UNSPEC, ContextOf(&slot));
    if (rc == -FI_EAGAIN) return;
    if (rc != 0) {
      Fail(MC_ERR_PEER_LOST, std::string("posting a control receive: ") + fi_strerror(static_cast<int>(-rc)));
      return;
    }
    slot.posted = true;
    --unposted_recv_slots_;
  }
}

void* Connection::SlotDesc() const { return slots_mr_ != nullptr ? fi_mr_desc(slots_mr_) : nullptr; }

ControlSlot* Connection::TakeSendSlot() {
  if (free_send_slots_.empty()) return nullptr;
  ControlSlot* slot = &slots_[free_send_slots_.back()];
  free_send_slots_.pop_back();
  slot->posted = true;
  return slot;
}

void Connection::ReturnSendSlot(ControlSlot* slot) {
  slot->posted = false;
  free_send_slots_.push_back(slot->index);
}

ssize_t Connection::PostRecv(Request* r) {
  if (device_->guard() == nullptr) {
    return fi_trecv(fabric_.ep(), r->buf, r->len, r->desc, FI_ADDR_UNSPEC, r->tag, 0, ContextOf(r));
  }
  iovec iov[2];
  void* desc[2] = {nullptr, nullptr};
  size_t count = 0;
  if (r->len > 0) {
    iov[count] = iovec{r->buf, r->len};
    desc[count++] = r->desc;
  }
  iov[count++] = iovec{device_->guard(), device_->guard_bytes()};
  return fi_trecvv(fabric_.ep(), iov, desc, count, FI_ADDR_UNSPEC, r->tag, 0, ContextOf(r));
}

ssize_t Connection::PostPut(Request* r) {
  if (!r->info_sent) {
    ControlSlot* slot = TakeSendSlot();
    if (slot == nullptr) return -FI_EAGAIN;
    EncodeControl(ControlMessage{ControlKind::kPutInfo, r->put_seq, r->notify, r->target_addr, r->len}, slot->buf);
    ssize_t rc = fi_send(fabric_.ep(), slot->buf, kControlMessageBytes, SlotDesc(), fabric_.peer(), ContextOf(slot));
    if (rc != 0) {
      ReturnSendSlot(slot);
      return rc;
    }
    r->info_sent = true;
  }
  if (r->len == 0) {
    Complete(r, MC_SUCCESS, 0, 0);  // nothing to write: the info is the whole put
    return 0;
  }
  return fi_writedata(fabric_.ep(), r->buf, r->len, r->desc, r->put_seq & cq_data_mask_, fabric_.peer(),
                      r->fabric_target, r->key, ContextOf(r));
}

void Connection::PostQueued() {
  PostControlRecvs();
  // Receives may be posted before the handshake is done: only the peer can reach this endpoint.
  while (fabric_.is_open()) {
    Request* r = queued_recvs_.front();
    if (r == nullptr) break;
    ssize_t rc = PostRecv(r);
    if (rc == -FI_EAGAIN) break;
    queued_recvs_.Remove(r);
    if (rc != 0) {
      ctx_->log()(MC_LOG_WARN, "efa: fi_trecv: %s", fi_strerror(static_cast<int>(-rc)));
      Complete(r, MC_ERR_INTERNAL, 0, r->tag);
      continue;
    }
    in_flight_.PushBack(r);
  }
  // Sends and puts keep their order: the first that cannot go yet holds the rest.
  while (state_ == State::kOpen && fabric_.is_open()) {
    Request* r = queued_sends_.front();
    if (r == nullptr) break;
    ssize_t rc = r->kind == OpKind::kSend
                     ? fi_tsend(fabric_.ep(), r->buf, r->len, r->desc, fabric_.peer(), r->tag, ContextOf(r))
                     : PostPut(r);
    if (rc == -FI_EAGAIN) break;
    if (r->done) continue;  // a put of 0 bytes
    queued_sends_.Remove(r);
    if (rc != 0) {
      ctx_->log()(MC_LOG_WARN, "efa: posting a %s: %s", r->kind == OpKind::kSend ? "send" : "put",
                  fi_strerror(static_cast<int>(-rc)));
      Complete(r, MC_ERR_INTERNAL, 0, r->tag);
      continue;
    }
    in_flight_.PushBack(r);
  }
}

}  // namespace mc::efa
