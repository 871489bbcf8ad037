// The receiving half of an shm endpoint: records from the peer's ring, tag
// matching, and the pulls that copy large messages with CMA.
#include "transports/shm/endpoint.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "transports/shm/cma.h"
#include "transports/shm/context.h"

namespace mc::shm {
namespace {

// Copies a record's fixed header out of shared memory (so the peer cannot
// change it after we checked it). False if the record is too short.
template <typename T>
bool ReadHeader(const RingRecord& record, T* header) {
  if (record.body_bytes < sizeof(T)) return false;
  std::memcpy(header, record.body, sizeof(T));
  return true;
}

bool IsResultCode(uint32_t value) { return value <= MC_ERR_INTERNAL && value != MC_AGAIN; }

}  // namespace

bool Endpoint::DrainRx(int max_records) {
  for (int i = 0; i < max_records; ++i) {
    RingRecord record;
    RingConsumer::Peek peek = rx_.Next(&record);
    if (peek == RingConsumer::Peek::kEmpty) return true;
    if (peek == RingConsumer::Peek::kCorrupt) return false;
    bool ok = HandleRecord(record);
    rx_.Release();
    if (!ok) return false;
  }
  return true;
}

bool Endpoint::HandleRecord(const RingRecord& record) {
  switch (record.type) {
    case kRecordEager: return HandleEager(record);
    case kRecordRts: return HandleRts(record);
    case kRecordCts: return HandleCts(record);
    case kRecordData: return HandleData(record);
    case kRecordFin: return HandleFin(record);
    case kRecordPut: return HandlePut(record);
    case kRecordPutAck: return HandlePutAck(record);
    default: return false;
  }
}

Request* Endpoint::TakePostedRecv(uint64_t tag) {
  for (auto it = posted_.begin(); it != posted_.end(); ++it) {
    if ((*it)->tag == tag) {
      Request* req = *it;
      posted_.erase(it);
      return req;
    }
  }
  return nullptr;
}

void Endpoint::DeliverEager(Request* req, const uint8_t* payload, size_t bytes, uint64_t tag) {
  size_t copied = std::min(bytes, req->len);
  if (copied > 0) std::memcpy(req->dst, payload, copied);
  Complete(req, bytes > req->len ? MC_ERR_TRUNCATED : MC_SUCCESS, tag, copied);
}

bool Endpoint::HandleEager(const RingRecord& record) {
  EagerHeader header;
  if (!ReadHeader(record, &header)) return false;
  const uint8_t* payload = record.body + sizeof(header);
  size_t bytes = record.body_bytes - sizeof(header);
  if (Request* req = TakePostedRecv(header.tag)) {
    DeliverEager(req, payload, bytes, header.tag);
  } else {
    unexpected_.push_back(Unexpected{header.tag, false, std::vector<uint8_t>(payload, payload + bytes), {}});
  }
  return true;
}

bool Endpoint::HandleRts(const RingRecord& record) {
  RtsHeader rts;
  if (!ReadHeader(record, &rts)) return false;
  if (Request* req = TakePostedRecv(rts.tag)) {
    StartRendezvousRecv(req, rts);
  } else {
    unexpected_.push_back(Unexpected{rts.tag, true, {}, rts});
  }
  return true;
}

void Endpoint::StartRendezvousRecv(Request* req, const RtsHeader& rts) {
  req->tag = rts.tag;
  req->id = next_id_++;
  req->peer_id = rts.send_id;
  req->remote_addr = rts.src_addr;
  req->wanted = std::min<uint64_t>(rts.bytes, req->len);
  req->truncated = rts.bytes > req->len;
  req->offset = 0;
  if (req->wanted == 0) {
    FinishPull(req, /*check_peer=*/false);
  } else if (ctx_->cma_enabled() && peer_pid_ > 0) {
    pulls_.push_back(req);
  } else {
    StartStreamRecv(req);
  }
}

void Endpoint::StartStreamRecv(Request* req) {
  req->offset = 0;
  streams_[req->id] = req;
  CtsHeader cts{req->peer_id, req->id, req->wanted};
  QueueControl(kRecordCts, &cts, sizeof(cts));
}

void Endpoint::AdvancePulls() {
  if (pulls_.empty()) return;
  Request* req = pulls_.front();
  size_t bytes = std::min<size_t>(ctx_->params().cma_chunk, req->wanted - req->offset);
  CmaResult result = CmaRead(peer_pid_, req->dst + req->offset, req->remote_addr + req->offset, bytes);
  switch (result.outcome) {
    case CmaOutcome::kCopied:
      req->offset += result.bytes;
      ctx_->stats().cma_read_bytes += result.bytes;
      if (req->offset == req->wanted) {
        pulls_.pop_front();
        FinishPull(req, /*check_peer=*/true);
      }
      return;
    case CmaOutcome::kRetry:
      return;
    case CmaOutcome::kNotPermitted:
      ctx_->DisableCma(absl::StrCat("process_vm_readv from pid ", peer_pid_, ": ", std::strerror(result.error)));
      // Every pull of this endpoint falls back to the ring.
      while (!pulls_.empty()) {
        Request* pending = pulls_.front();
        pulls_.pop_front();
        StartStreamRecv(pending);
      }
      return;
    case CmaOutcome::kPeerGone:
      pulls_.pop_front();
      Complete(req, MC_ERR_PEER_LOST, req->tag, 0);
      return;
    case CmaOutcome::kBadAddress:
    case CmaOutcome::kFailed: {
      pulls_.pop_front();
      mc_result_t status = result.outcome == CmaOutcome::kBadAddress ? MC_ERR_ACCESS : MC_ERR_INTERNAL;
      ctx_->Log(MC_LOG_WARN, absl::StrCat("shm: reading a ", req->wanted, "-byte message from pid ", peer_pid_,
                                          " failed: ", std::strerror(result.error)));
      FinHeader fin{req->peer_id, static_cast<uint32_t>(status), 0};
      QueueControl(kRecordFin, &fin, sizeof(fin));
      Complete(req, status, req->tag, 0);
      return;
    }
  }
}

void Endpoint::FinishPull(Request* req, bool check_peer) {
  // The sender shuts its socket down before it hands its buffer back to its
  // user (close completes the send with MC_ERR_CLOSED afterwards). So if the
  // socket is still up now, every byte we read came from the live message.
  if (check_peer && !PeerStillThere()) return;  // Lose has failed req
  FinHeader fin{req->peer_id, MC_SUCCESS, 0};
  QueueControl(kRecordFin, &fin, sizeof(fin));
  Complete(req, req->truncated ? MC_ERR_TRUNCATED : MC_SUCCESS, req->tag, req->wanted);
}

bool Endpoint::HandleCts(const RingRecord& record) {
  CtsHeader cts;
  if (!ReadHeader(record, &cts)) return false;
  auto it = awaiting_.find(cts.send_id);
  if (it == awaiting_.end() || it->second->kind != Request::Kind::kSend) return false;
  Request* req = it->second;
  if (cts.bytes > req->len) return false;
  awaiting_.erase(it);
  req->peer_id = cts.recv_id;
  req->wanted = cts.bytes;
  req->offset = 0;
  req->tx_step = TxStep::kStream;
  backlog_.push_back(req);
  return true;
}

bool Endpoint::HandleData(const RingRecord& record) {
  DataHeader data;
  if (!ReadHeader(record, &data)) return false;
  auto it = streams_.find(data.recv_id);
  if (it == streams_.end()) return false;
  Request* req = it->second;
  size_t bytes = record.body_bytes - sizeof(data);
  if (data.offset != req->offset || bytes > req->wanted - req->offset) return false;
  if (bytes > 0) std::memcpy(req->dst + req->offset, record.body + sizeof(data), bytes);
  req->offset += bytes;
  if (req->offset == req->wanted) {
    streams_.erase(it);
    Complete(req, req->truncated ? MC_ERR_TRUNCATED : MC_SUCCESS, req->tag, req->wanted);
  }
  return true;
}

bool Endpoint::HandleFin(const RingRecord& record) {
  FinHeader fin;
  if (!ReadHeader(record, &fin)) return false;
  auto it = awaiting_.find(fin.send_id);
  if (it == awaiting_.end() || it->second->kind != Request::Kind::kSend || !IsResultCode(fin.status)) return false;
  Request* req = it->second;
  awaiting_.erase(it);
  auto status = static_cast<mc_result_t>(fin.status);
  Complete(req, status, req->tag, status == MC_SUCCESS ? req->len : 0);
  return true;
}

bool Endpoint::HandlePut(const RingRecord& record) {
  PutHeader put;
  if (!ReadHeader(record, &put)) return false;
  size_t bytes = record.body_bytes - sizeof(put);
  bool ok = !refused_puts_.contains(put.put_id);
  if (ok) {
    // The target's check: the whole put inside a live registration, and this
    // record's bytes inside the put.
    const Registration* reg = ctx_->registrations().Find(put.key_id);
    ok = reg != nullptr && reg->Covers(put.addr, put.total_bytes) &&
         RangeInside(put.offset, bytes, 0, put.total_bytes);
    if (ok && bytes > 0) {
      std::memcpy(reinterpret_cast<void*>(static_cast<uintptr_t>(put.addr + put.offset)), record.body + sizeof(put),
                  bytes);
    }
  }
  if ((put.flags & kPutLast) == 0) {
    if (!ok) refused_puts_.insert(put.put_id);
    return true;
  }
  refused_puts_.erase(put.put_id);
  if (ok) {
    notifications_.push_back(mc_notification_v1_t{put.notify, put.addr, static_cast<size_t>(put.total_bytes)});
  } else {
    ctx_->Log(MC_LOG_WARN, absl::StrCat("shm: refused a put of ", put.total_bytes, " bytes at 0x", absl::Hex(put.addr),
                                        " under key ", put.key_id, ": not inside memory registered here"));
  }
  PutAckHeader ack{put.put_id, static_cast<uint32_t>(ok ? MC_SUCCESS : MC_ERR_ACCESS), 0};
  QueueControl(kRecordPutAck, &ack, sizeof(ack));
  return true;
}

bool Endpoint::HandlePutAck(const RingRecord& record) {
  PutAckHeader ack;
  if (!ReadHeader(record, &ack)) return false;
  auto it = awaiting_.find(ack.put_id);
  if (it == awaiting_.end() || it->second->kind != Request::Kind::kPut || !IsResultCode(ack.status)) return false;
  Request* req = it->second;
  awaiting_.erase(it);
  auto status = static_cast<mc_result_t>(ack.status);
  Complete(req, status, 0, status == MC_SUCCESS ? req->len : 0);
  return true;
}

}  // namespace mc::shm
