// The sending half of an shm endpoint: records into our ring, in posting
// order, and the CMA writes of large puts.
#include "transports/shm/endpoint.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "transports/shm/cma.h"
#include "transports/shm/context.h"

namespace mc::shm {
namespace {
constexpr size_t kMaxStreamChunk = 256 << 10;
}  // namespace

bool Endpoint::TryWriteRecord(uint32_t type, const void* header, size_t header_bytes, const void* payload,
                              size_t bytes) {
  uint8_t* body = tx_.Reserve(header_bytes + bytes);
  if (body == nullptr) return false;
  std::memcpy(body, header, header_bytes);
  if (bytes > 0) std::memcpy(body + header_bytes, payload, bytes);
  tx_.Commit(type);
  return true;
}

void Endpoint::QueueControl(uint32_t type, const void* body, size_t bytes) {
  if (control_.empty() && TryWriteRecord(type, body, bytes, nullptr, 0)) return;
  Control control{type, static_cast<uint32_t>(bytes), {}};
  std::memcpy(control.body, body, bytes);
  control_.push_back(control);
}

void Endpoint::FlushControl() {
  while (!control_.empty()) {
    const Control& control = control_.front();
    if (!TryWriteRecord(control.type, control.body, control.bytes, nullptr, 0)) return;
    control_.pop_front();
  }
}

void Endpoint::AdvanceBacklog() {
  while (!backlog_.empty()) {
    bool finished = StepTx(backlog_.front());
    if (state_ != State::kConnected) return;  // lost meanwhile: the queue is already empty
    if (!finished) return;
    backlog_.pop_front();
  }
}

size_t Endpoint::StreamChunkBytes() const { return std::min<size_t>(tx_.capacity() / 8, kMaxStreamChunk); }

bool Endpoint::StepTx(Request* req) {
  switch (req->tx_step) {
    case TxStep::kEager: {
      EagerHeader header{req->tag};
      if (!TryWriteRecord(kRecordEager, &header, sizeof(header), req->src, req->len)) return false;
      ctx_->stats().eager_bytes += req->len;
      Complete(req, MC_SUCCESS, req->tag, req->len);
      return true;
    }
    case TxStep::kRts: {
      RtsHeader rts{req->tag, req->len, reinterpret_cast<uintptr_t>(req->src), req->id};
      if (!TryWriteRecord(kRecordRts, &rts, sizeof(rts), nullptr, 0)) return false;
      req->tx_step = TxStep::kNone;
      awaiting_[req->id] = req;
      return true;
    }
    case TxStep::kStream:
      return StepStream(req);
    case TxStep::kPutInline:
    case TxStep::kPutCma:
    case TxStep::kPutStream:
      // A put queued before the handshake could not check its key then.
      if (req->offset == 0 && req->key_nonce != peer_nonce_) {
        ctx_->Log(MC_LOG_WARN, "shm: put with a remote key that the endpoint's peer did not issue");
        Complete(req, MC_ERR_ACCESS, 0, 0);
        return true;
      }
      if (req->tx_step == TxStep::kPutCma) return StepPutCma(req);
      if (req->tx_step == TxStep::kPutStream) return StepPutStream(req);
      if (!WritePutRecord(req, 0, req->len, /*last=*/true)) return false;
      req->tx_step = TxStep::kNone;
      awaiting_[req->id] = req;
      return true;
    case TxStep::kNone:
      return true;
  }
  return true;
}

bool Endpoint::StepStream(Request* req) {
  size_t chunk = StreamChunkBytes();
  while (req->offset < req->wanted) {
    size_t bytes = std::min(chunk, req->wanted - req->offset);
    DataHeader data{req->peer_id, req->offset};
    if (!TryWriteRecord(kRecordData, &data, sizeof(data), req->src + req->offset, bytes)) return false;
    req->offset += bytes;
    ctx_->stats().streamed_bytes += bytes;
  }
  Complete(req, MC_SUCCESS, req->tag, req->len);
  return true;
}

bool Endpoint::WritePutRecord(Request* req, size_t offset, size_t bytes, bool last) {
  PutHeader put{req->id, req->key_id, req->remote_addr, req->len, offset, req->notify, last ? kPutLast : 0u, 0};
  return TryWriteRecord(kRecordPut, &put, sizeof(put), req->src + offset, bytes);
}

bool Endpoint::StepPutCma(Request* req) {
  if (req->offset < req->len) {
    if (!ctx_->cma_enabled() || peer_pid_ <= 0) {
      req->tx_step = TxStep::kPutStream;
      req->offset = 0;
      return StepPutStream(req);
    }
    // A dead process's socket hangs up at exit, before its pid can be reused:
    // checking first keeps us from writing into some later process.
    if (!PeerStillThere()) return true;  // Lose has failed req
    size_t bytes = std::min<size_t>(ctx_->params().cma_chunk, req->len - req->offset);
    CmaResult result = CmaWrite(peer_pid_, req->src + req->offset, req->remote_addr + req->offset, bytes);
    switch (result.outcome) {
      case CmaOutcome::kCopied:
        req->offset += result.bytes;
        ctx_->stats().cma_write_bytes += result.bytes;
        break;
      case CmaOutcome::kRetry:
        return false;
      case CmaOutcome::kNotPermitted:
        ctx_->DisableCma(absl::StrCat("process_vm_writev to pid ", peer_pid_, ": ", std::strerror(result.error)));
        req->tx_step = TxStep::kPutStream;
        req->offset = 0;
        return StepPutStream(req);
      case CmaOutcome::kPeerGone:
        Complete(req, MC_ERR_PEER_LOST, 0, 0);
        return true;
      case CmaOutcome::kBadAddress:
      case CmaOutcome::kFailed:
        ctx_->Log(MC_LOG_WARN, absl::StrCat("shm: writing a ", req->len, "-byte put to pid ", peer_pid_,
                                            " failed: ", std::strerror(result.error)));
        Complete(req, result.outcome == CmaOutcome::kBadAddress ? MC_ERR_ACCESS : MC_ERR_INTERNAL, 0, 0);
        return true;
    }
    if (req->offset < req->len) return false;  // one chunk per progress call
  }
  // The notification goes into the ring only after all data was written.
  PutHeader put{req->id, req->key_id, req->remote_addr, req->len, req->len, req->notify, kPutLast, 0};
  if (!TryWriteRecord(kRecordPut, &put, sizeof(put), nullptr, 0)) return false;
  req->tx_step = TxStep::kNone;
  awaiting_[req->id] = req;
  return true;
}

bool Endpoint::StepPutStream(Request* req) {
  size_t chunk = StreamChunkBytes();
  do {
    size_t bytes = std::min(chunk, req->len - req->offset);
    bool last = req->offset + bytes == req->len;
    if (!WritePutRecord(req, req->offset, bytes, last)) return false;
    req->offset += bytes;
    ctx_->stats().streamed_bytes += bytes;
  } while (req->offset < req->len);
  req->tx_step = TxStep::kNone;
  awaiting_[req->id] = req;
  return true;
}

}  // namespace mc::shm
