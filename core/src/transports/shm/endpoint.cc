#include "transports/shm/endpoint.h"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "transports/shm/cma.h"
#include "transports/shm/context.h"
#include "transports/shm/unix_socket.h"

namespace mc::shm {
namespace {

constexpr int kMaxRecordsPerProgress = 64;
constexpr size_t kMaxStreamChunk = 256 << 10;

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

Endpoint::Endpoint(Context* ctx, UniqueFd sock) : ctx_(ctx), sock_(std::move(sock)) {}

Endpoint::~Endpoint() {
  if (outstanding_ != nullptr) FailAll(MC_ERR_CLOSED);
}

absl::Status Endpoint::CreateTxRing() {
  uint64_t capacity = ctx_->params().ring_bytes;
  absl::StatusOr<SharedRegion> region = SharedRegion::Create(RingRegionBytes(capacity), "mooncomm-shm-ring");
  if (!region.ok()) return region.status();
  tx_region_ = std::move(*region);
  InitRing(tx_region_.data(), capacity);
  tx_.Attach(tx_region_.data(), capacity);
  return absl::OkStatus();
}

absl::Status Endpoint::MapRxRing(UniqueFd fd) {
  absl::StatusOr<SharedRegion> region =
      SharedRegion::Map(std::move(fd), RingRegionBytes(4096), RingRegionBytes(uint64_t{1} << 30));
  if (!region.ok()) return region.status();
  rx_region_ = std::move(*region);
  rx_region_.CloseFd();
  return rx_.Attach(rx_region_.data(), rx_region_.size());
}

// ---------------------------------------------------------------------------
// Handshake

absl::StatusOr<std::unique_ptr<Endpoint>> Endpoint::StartConnect(Context* ctx, const AddressWire& addr,
                                                                 const void* hello, size_t hello_len) {
  std::unique_ptr<Endpoint> ep(new Endpoint(ctx, UniqueFd()));
  ep->peer_name_.assign(addr.name, strnlen(addr.name, sizeof(addr.name)));
  absl::Status status = ep->CreateTxRing();
  if (!status.ok()) return status;
  ep->hello_.magic = kHelloMagic;
  ep->hello_.version = kProtocolVersion;
  ep->hello_.hello_bytes = static_cast<uint32_t>(hello_len);
  ep->hello_.nonce = ctx->nonce();
  if (hello_len > 0) std::memcpy(ep->hello_.hello, hello, hello_len);
  ep->handshake_ = Handshake::kConnect;
  int err = ConnectAbstract(ep->peer_name_, &ep->sock_);
  if (err == 0) {
    ep->handshake_ = Handshake::kSendHello;
    err = SendMessage(ep->sock_.get(), &ep->hello_, sizeof(ep->hello_), ep->tx_region_.fd());
    if (err == 0) {
      ep->handshake_ = Handshake::kAwaitReply;
      ep->tx_region_.CloseFd();
    } else if (err != EAGAIN) {
      ep->deferred_failure_ = absl::StrCat("cannot send the shm hello to @", ep->peer_name_, ": ", std::strerror(err));
    }
  } else if (err != EAGAIN) {
    ep->deferred_failure_ = absl::StrCat("cannot connect to shm peer @", ep->peer_name_, ": ", std::strerror(err));
  }
  return ep;
}

absl::StatusOr<std::unique_ptr<Endpoint>> Endpoint::FromHello(Context* ctx, UniqueFd sock, const HelloMsg& hello,
                                                              UniqueFd peer_ring) {
  std::unique_ptr<Endpoint> ep(new Endpoint(ctx, std::move(sock)));
  absl::Status status = ep->MapRxRing(std::move(peer_ring));
  if (!status.ok()) return status;
  status = ep->CreateTxRing();
  if (!status.ok()) return status;
  ep->peer_nonce_ = hello.nonce;
  ep->peer_pid_ = PeerPid(ep->sock_.get());
  ep->handshake_ = Handshake::kDone;
  ep->state_ = State::kConnected;
  return ep;
}

mc_result_t Endpoint::SendReply() {
  ReplyMsg reply{kReplyMagic, kProtocolVersion, kReplyAccepted, ctx_->nonce()};
  int err = SendMessage(sock_.get(), &reply, sizeof(reply), tx_region_.fd());
  if (err == EAGAIN) return MC_AGAIN;
  if (err != 0) return MC_ERR_PEER_LOST;
  tx_region_.CloseFd();
  return MC_SUCCESS;
}

void Endpoint::FailHandshake(const std::string& detail) { Lose(detail, /*drain=*/false); }

void Endpoint::AdvanceHandshake() {
  if (!deferred_failure_.empty()) {
    FailHandshake(deferred_failure_);
    return;
  }
  if (handshake_ == Handshake::kConnect) {
    int err = sock_.valid() ? ConnectAgain(sock_.get(), peer_name_) : ConnectAbstract(peer_name_, &sock_);
    if (err == EAGAIN) return;
    if (err != 0) {
      FailHandshake(absl::StrCat("cannot connect to shm peer @", peer_name_, ": ", std::strerror(err)));
      return;
    }
    handshake_ = Handshake::kSendHello;
  }
  if (handshake_ == Handshake::kSendHello) {
    int err = SendMessage(sock_.get(), &hello_, sizeof(hello_), tx_region_.fd());
    if (err == EAGAIN) return;
    if (err != 0) {
      FailHandshake(absl::StrCat("cannot send the shm hello to @", peer_name_, ": ", std::strerror(err)));
      return;
    }
    tx_region_.CloseFd();
    handshake_ = Handshake::kAwaitReply;
  }
  ReplyMsg reply{};
  size_t bytes = 0;
  UniqueFd ring_fd;
  int err = ReceiveMessage(sock_.get(), &reply, sizeof(reply), &bytes, &ring_fd);
  if (err == EAGAIN) return;
  if (err != 0) {
    FailHandshake(absl::StrCat("shm handshake with @", peer_name_, " failed: ", std::strerror(err)));
    return;
  }
  if (bytes == 0) {
    FailHandshake(absl::StrCat("shm peer @", peer_name_, " closed the connection during the handshake"));
    return;
  }
  if (bytes != sizeof(reply) || reply.magic != kReplyMagic) {
    FailHandshake(absl::StrCat("shm peer @", peer_name_, " sent a malformed handshake reply"));
    return;
  }
  if (reply.status == kReplyBadVersion || reply.version != kProtocolVersion) {
    FailHandshake(absl::StrCat("shm protocol version mismatch: this process speaks ", kProtocolVersion,
                               ", the peer ", reply.version));
    return;
  }
  if (reply.status != kReplyAccepted || !ring_fd.valid()) {
    FailHandshake(absl::StrCat("shm peer @", peer_name_, " sent a handshake reply without its ring"));
    return;
  }
  absl::Status status = MapRxRing(std::move(ring_fd));
  if (!status.ok()) {
    FailHandshake(absl::StrCat("cannot map the ring of shm peer @", peer_name_, ": ", status.message()));
    return;
  }
  peer_nonce_ = reply.nonce;
  peer_pid_ = PeerPid(sock_.get());
  handshake_ = Handshake::kDone;
  state_ = State::kConnected;
}

// ---------------------------------------------------------------------------
// Posting

Request* Endpoint::NewRequest(Request::Kind kind) {
  Request* req = ctx_->NewRequest();
  req->ep = this;
  req->kind = kind;
  req->next = outstanding_;
  if (outstanding_ != nullptr) outstanding_->prev = req;
  outstanding_ = req;
  return req;
}

void Endpoint::Complete(Request* req, mc_result_t status, uint64_t tag, size_t bytes) {
  if (req->prev != nullptr) {
    req->prev->next = req->next;
  } else {
    outstanding_ = req->next;
  }
  if (req->next != nullptr) req->next->prev = req->prev;
  req->prev = req->next = nullptr;
  req->ep = nullptr;
  req->tx_step = TxStep::kNone;
  req->done = true;
  req->completion = mc_completion_v1_t{status, tag, bytes};
}

mc_result_t Endpoint::PostSend(uint64_t tag, const void* buf, size_t len, Request** out) {
  if (state_ == State::kLost) return MC_ERR_PEER_LOST;
  Request* req = NewRequest(Request::Kind::kSend);
  req->tag = tag;
  req->src = static_cast<const uint8_t*>(buf);
  req->len = len;
  if (len <= ctx_->params().eager_limit) {
    req->tx_step = TxStep::kEager;
  } else {
    req->tx_step = TxStep::kRts;
    req->id = next_id_++;
  }
  *out = req;
  // Straight into the ring when nothing is queued ahead of it.
  if (backlog_.empty() && state_ == State::kConnected && StepTx(req)) return MC_SUCCESS;
  backlog_.push_back(req);
  return MC_SUCCESS;
}

mc_result_t Endpoint::PostRecv(uint64_t tag, void* buf, size_t len, Request** out) {
  for (auto it = unexpected_.begin(); it != unexpected_.end(); ++it) {
    if (it->tag != tag) continue;
    Unexpected message = std::move(*it);
    unexpected_.erase(it);
    if (message.is_rts && state_ == State::kLost) return MC_ERR_PEER_LOST;  // its buffer went with the peer
    Request* req = NewRequest(Request::Kind::kRecv);
    req->tag = tag;
    req->dst = static_cast<uint8_t*>(buf);
    req->len = len;
    *out = req;
    if (message.is_rts) {
      StartRendezvousRecv(req, message.rts);
    } else {
      DeliverEager(req, message.data.data(), message.data.size(), tag);
    }
    return MC_SUCCESS;
  }
  if (state_ == State::kLost) return MC_ERR_PEER_LOST;
  Request* req = NewRequest(Request::Kind::kRecv);
  req->tag = tag;
  req->dst = static_cast<uint8_t*>(buf);
  req->len = len;
  posted_.push_back(req);
  *out = req;
  return MC_SUCCESS;
}

mc_result_t Endpoint::PostPut(const void* buf, size_t len, uint64_t remote_addr, const RemoteKey& key,
                              uint64_t notify, Request** out) {
  if (state_ == State::kLost) return MC_ERR_PEER_LOST;
  // The initiator's check: the range must lie inside what the key covers,
  // and the key must come from this endpoint's peer. The target checks
  // again against its live registrations.
  if (!key.Covers(remote_addr, len)) {
    ctx_->Log(MC_LOG_WARN, absl::StrCat("shm: put of ", len, " bytes at 0x", absl::Hex(remote_addr),
                                        " is outside the remote key's range [0x", absl::Hex(key.base), ", +",
                                        key.length, ")"));
    return MC_ERR_ACCESS;
  }
  if (peer_nonce_ != 0 && key.nonce != peer_nonce_) return MC_ERR_ACCESS;
  Request* req = NewRequest(Request::Kind::kPut);
  req->id = next_id_++;
  req->src = static_cast<const uint8_t*>(buf);
  req->len = len;
  req->remote_addr = remote_addr;
  req->key_id = key.key_id;
  req->key_nonce = key.nonce;
  req->notify = notify;
  req->tx_step = len <= ctx_->params().eager_limit ? TxStep::kPutInline : TxStep::kPutCma;
  *out = req;
  // A CMA put may have written its first chunk; it goes to the (empty) queue's front.
  if (backlog_.empty() && state_ == State::kConnected && StepTx(req)) return MC_SUCCESS;
  backlog_.push_back(req);
  return MC_SUCCESS;
}

mc_result_t Endpoint::PollNotification(mc_notification_v1_t* notification) {
  if (notifications_.empty() && state_ != State::kLost) Progress();
  if (!notifications_.empty()) {
    *notification = notifications_.front();
    notifications_.pop_front();
    return MC_SUCCESS;
  }
  return state_ == State::kLost ? MC_ERR_PEER_LOST : MC_AGAIN;
}

// ---------------------------------------------------------------------------
// Progress

void Endpoint::Progress() {
  if (closed_) return;
  if (state_ == State::kConnecting) {
    AdvanceHandshake();
    if (state_ != State::kConnected) return;
  }
  if (state_ != State::kConnected) return;
  if (!DrainRx(kMaxRecordsPerProgress)) {
    Lose("the shm peer wrote a malformed record into the shared ring", /*drain=*/false);
    return;
  }
  FlushControl();
  AdvanceBacklog();
  AdvancePulls();
  FlushControl();
}

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

// ---------------------------------------------------------------------------
// Transmit

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
    if (!StepTx(backlog_.front())) return;
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

// ---------------------------------------------------------------------------
// Failure and close

void Endpoint::FailAll(mc_result_t status) {
  posted_.clear();
  backlog_.clear();
  control_.clear();
  pulls_.clear();
  awaiting_.clear();
  streams_.clear();
  refused_puts_.clear();
  while (outstanding_ != nullptr) Complete(outstanding_, status, outstanding_->tag, 0);
}

void Endpoint::Lose(const std::string& detail, bool drain) {
  if (state_ == State::kLost || closed_) return;
  // Messages the peer finished writing before it went are still good.
  if (drain && state_ == State::kConnected) DrainRx(std::numeric_limits<int>::max());
  state_ = State::kLost;
  FailAll(MC_ERR_PEER_LOST);
  ctx_->QueuePeerFailure(this, detail);
}

bool Endpoint::PeerStillThere() {
  pollfd pfd{sock_.get(), POLLIN | POLLRDHUP, 0};
  if (::poll(&pfd, 1, 0) > 0) OnSocketEvents(pfd.revents);
  return state_ == State::kConnected;
}

void Endpoint::OnSocketEvents(short revents) {
  if (state_ != State::kConnected || closed_) return;
  bool gone = (revents & (POLLHUP | POLLRDHUP | POLLERR | POLLNVAL)) != 0;
  if ((revents & POLLIN) != 0) {
    for (;;) {
      uint8_t buf[16];
      ssize_t got = ::recv(sock_.get(), buf, sizeof(buf), MSG_DONTWAIT);
      if (got > 0) {
        if (buf[0] == kByeByte) peer_said_bye_ = true;
        continue;
      }
      if (got < 0 && errno == EINTR) continue;
      if (got == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) gone = true;
      break;
    }
  }
  if (gone) Lose(peer_said_bye_ ? "peer closed the endpoint" : "peer process exited", /*drain=*/true);
}

void Endpoint::Close() {
  if (closed_) return;
  if (sock_.valid()) {
    uint8_t bye = kByeByte;
    (void)::send(sock_.get(), &bye, 1, MSG_DONTWAIT | MSG_NOSIGNAL);  // fails harmlessly if not connected
    // Before completing our sends: see FinishPull.
    ::shutdown(sock_.get(), SHUT_RDWR);
  }
  FailAll(MC_ERR_CLOSED);
  closed_ = true;
}

}  // namespace mc::shm
