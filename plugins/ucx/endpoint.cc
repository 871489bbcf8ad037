// Tagged messages, puts and notifications on an endpoint.
#include "endpoint.h"

#include <cstring>

#include "context.h"
#include "ucx_status.h"

namespace mc::ucx {
namespace {

// UCX wants a valid pointer even for 0 bytes.
char g_empty_buffer[1];

void* NonNull(void* buf) { return buf != nullptr ? buf : g_empty_buffer; }

void SendDone(void* request, ucs_status_t status, void* user_data) {
  auto* r = static_cast<Request*>(user_data);
  r->ucx = nullptr;
  r->ucx_called_back = true;
  ucp_request_free(request);
  r->ctx->OnUcxDone(r, status);
}

void RecvDone(void* request, ucs_status_t status, const ucp_tag_recv_info_t* info, void* user_data) {
  auto* r = static_cast<Request*>(user_data);
  if (info != nullptr) r->info = *info;  // before the free: info lives in the request
  r->ucx = nullptr;
  r->ucx_called_back = true;
  ucp_request_free(request);
  r->ctx->OnUcxDone(r, status);
}

}  // namespace

void Endpoint::Track(Request* r, ucs_status_ptr_t sp) {
  if (UCS_PTR_IS_PTR(sp)) {
    // UCX may have run the callback (and freed the request) inside the call.
    if (!r->ucx_called_back) r->ucx = sp;
    return;
  }
  ctx_->OnUcxDone(r, UCS_PTR_STATUS(sp));  // done at once: no callback comes
}

Endpoint::Endpoint(UcxContext* ctx, uint32_t id, uint64_t serial) : ctx_(ctx), id_(id), serial_(serial) {}

Endpoint::~Endpoint() {
  SetHandshaking(false);
  CloseSocket();
  magic_ = 0;
}

Request* Endpoint::NewRequest(Request::Kind kind) {
  Request* r = ctx_->NewRequest(kind, this);
  r->ep_prev = nullptr;
  r->ep_next = unfinished_;
  if (unfinished_ != nullptr) unfinished_->ep_prev = r;
  unfinished_ = r;
  return r;
}

void Endpoint::Unlink(Request* r) {
  if (r->ep_prev != nullptr) {
    r->ep_prev->ep_next = r->ep_next;
  } else if (unfinished_ == r) {
    unfinished_ = r->ep_next;
  }
  if (r->ep_next != nullptr) r->ep_next->ep_prev = r->ep_prev;
  r->ep_prev = r->ep_next = nullptr;
}

// ---- sends ----

mc_result_t Endpoint::Send(uint64_t tag, const void* buf, size_t len, Request** out) {
  if (state_ == State::kFailed) return MC_ERR_PEER_LOST;
  Request* r = NewRequest(Request::Kind::kSend);
  r->buf = const_cast<void*>(buf);
  r->len = len;
  r->tag = tag;
  *out = r;
  if (state_ == State::kOpen && waiting_.empty()) {
    PostSend(r);
  } else {
    waiting_.Push(r);
  }
  return MC_SUCCESS;
}

uint64_t Endpoint::OutgoingTag(uint64_t user_tag) {
  if (FitsDirect(user_tag)) return MakeUcpTag(peer_id_, TagKind::kDirect, user_tag);
  auto it = out_index_.find(user_tag);
  if (it == out_index_.end()) {
    // First use of this large tag: tell the peer which index stands for it.
    it = out_index_.emplace(user_tag, next_out_index_++).first;
    ControlMessage m;
    m.type = ControlMessage::kTagIndex;
    m.a = it->second;
    m.b = user_tag;
    SendControl(m);
  }
  return MakeUcpTag(peer_id_, TagKind::kIndexed, it->second);
}

void Endpoint::PostSend(Request* r) {
  ucp_request_param_t param{};
  param.op_attr_mask = UCP_OP_ATTR_FIELD_CALLBACK | UCP_OP_ATTR_FIELD_USER_DATA;
  param.cb.send = &SendDone;
  param.user_data = r;
  const uint64_t ucp_tag = OutgoingTag(r->tag);
  r->stage = Request::Stage::kRunning;
  r->ucx_called_back = false;
  Track(r, ucp_tag_send_nbx(ucp_ep_, NonNull(r->buf), r->len, ucp_tag, &param));
}

void Endpoint::SendControl(const ControlMessage& message) {
  ctx_->SendControl(ucp_ep_, peer_id_, message);
}

// ---- receives ----

mc_result_t Endpoint::Recv(uint64_t tag, void* buf, size_t len, Request** out) {
  if (state_ == State::kFailed) return MC_ERR_PEER_LOST;
  Request* r = NewRequest(Request::Kind::kRecv);
  r->buf = buf;
  r->len = len;
  r->tag = tag;
  *out = r;
  if (FitsDirect(tag)) {
    PostRecv(r, MakeUcpTag(id_, TagKind::kDirect, tag));
    return MC_SUCCESS;
  }
  auto index = in_index_.find(tag);
  auto held = held_recvs_.find(tag);
  if (index != in_index_.end() && held == held_recvs_.end()) {
    PostRecv(r, MakeUcpTag(id_, TagKind::kIndexed, index->second));
  } else {
    // The peer has not told us its index for this tag yet.
    held_recvs_[tag].Push(r);
  }
  return MC_SUCCESS;
}

void Endpoint::PostRecv(Request* r, uint64_t ucp_tag) {
  ucp_request_param_t param{};
  // UCX 1.13 does not fill recv_info on immediate completion, so the
  // callback always runs (maybe inside this call) and fills r->info.
  param.op_attr_mask = UCP_OP_ATTR_FIELD_CALLBACK | UCP_OP_ATTR_FIELD_USER_DATA | UCP_OP_ATTR_FLAG_NO_IMM_CMPL;
  param.cb.recv = &RecvDone;
  param.user_data = r;
  r->stage = Request::Stage::kRunning;
  r->ucx_called_back = false;
  Track(r, ucp_tag_recv_nbx(ctx_->worker(), NonNull(r->buf), r->len, ucp_tag, kFullMask, &param));
}

// ---- puts ----

mc_result_t Endpoint::UnpackKey(const void* bytes, size_t len, RemoteKey** out) {
  KeyContents contents;
  std::string why;
  if (!DecodeKey(bytes, len, &contents, &why)) {
    ctx_->Log(MC_LOG_WARN, "ucx: unpack_rkey refused a key: " + why);
    return MC_ERR_INVALID_ARG;
  }
  RemoteKey* key = ctx_->NewRemoteKey(serial_, std::move(contents));
  mc_result_t error = MC_SUCCESS;
  if (state_ == State::kOpen && !EnsureKeyUnpacked(key, &error)) {
    ctx_->ReleaseKey(key);
    return error;
  }
  *out = key;
  return MC_SUCCESS;
}

bool Endpoint::EnsureKeyUnpacked(RemoteKey* key, mc_result_t* error) {
  if (key->handle != nullptr) return true;
  const ucs_status_t status = ucp_ep_rkey_unpack(ucp_ep_, key->contents.ucx_key.data(), &key->handle);
  if (status != UCS_OK) {
    key->handle = nullptr;
    ctx_->Log(MC_LOG_WARN, std::string("ucx: ucp_ep_rkey_unpack failed: ") + ucs_status_string(status));
    *error = MC_ERR_ACCESS;
    return false;
  }
  return true;
}

mc_result_t Endpoint::Put(const void* buf, size_t len, uint64_t remote_addr, RemoteKey* key, uint64_t notify,
                          Request** out) {
  if (key->endpoint_serial != serial_) {
    ctx_->Log(MC_LOG_WARN, "ucx: iput with a remote key unpacked on another endpoint");
    return MC_ERR_INVALID_ARG;
  }
  if (!KeyCovers(key->contents, remote_addr, len)) return MC_ERR_ACCESS;
  if (state_ == State::kFailed) return MC_ERR_PEER_LOST;
  mc_result_t error = MC_SUCCESS;
  if (state_ == State::kOpen && !EnsureKeyUnpacked(key, &error)) return error;
  Request* r = NewRequest(Request::Kind::kPut);
  r->buf = const_cast<void*>(buf);
  r->len = len;
  r->remote_addr = remote_addr;
  r->rkey = key;
  ++key->puts_in_flight;
  r->notify = notify;
  *out = r;
  if (state_ == State::kOpen && waiting_.empty()) {
    PostPut(r);
  } else {
    waiting_.Push(r);
  }
  return MC_SUCCESS;
}

void Endpoint::PostPut(Request* r) {
  mc_result_t error = MC_SUCCESS;
  if (!EnsureKeyUnpacked(r->rkey, &error)) {
    ctx_->Finish(r, error, 0);
    return;
  }
  r->stage = Request::Stage::kRunning;
  if (r->len > 0) {
    // The put's own request is released at once; the flush below completes
    // only after it, so the flush's completion covers both.
    ucp_request_param_t put_param{};
    ucs_status_ptr_t sp = ucp_put_nbx(ucp_ep_, r->buf, r->len, r->remote_addr, r->rkey->handle, &put_param);
    if (UCS_PTR_IS_ERR(sp)) {
      ctx_->OnUcxDone(r, UCS_PTR_STATUS(sp));
      return;
    }
    if (sp != nullptr) ucp_request_free(sp);
  }
  // The notification must not overtake the data: flush, then notify.
  ucp_request_param_t param{};
  param.op_attr_mask = UCP_OP_ATTR_FIELD_CALLBACK | UCP_OP_ATTR_FIELD_USER_DATA;
  param.cb.send = &SendDone;
  param.user_data = r;
  r->ucx_called_back = false;
  Track(r, ucp_ep_flush_nbx(ucp_ep_, &param));
}

void Endpoint::OnPutFlushed(Request* r) {
  r->stage = Request::Stage::kNotifying;
  r->notice = ControlMessage{};
  r->notice.type = ControlMessage::kNotify;
  r->notice.a = r->notify;
  r->notice.b = r->remote_addr;
  r->notice.c = r->len;
  ucp_request_param_t param{};
  param.op_attr_mask = UCP_OP_ATTR_FIELD_CALLBACK | UCP_OP_ATTR_FIELD_USER_DATA;
  param.cb.send = &SendDone;
  param.user_data = r;
  r->ucx_called_back = false;
  Track(r, ucp_tag_send_nbx(ucp_ep_, &r->notice, sizeof(r->notice), MakeUcpTag(peer_id_, TagKind::kControl, 0),
                            &param));
}

void Endpoint::PostWaiting() {
  while (state_ == State::kOpen && !waiting_.empty()) {
    Request* r = waiting_.Pop();
    if (r->kind == Request::Kind::kPut) {
      PostPut(r);
    } else {
      PostSend(r);
    }
  }
}

// ---- control messages and notifications ----

void Endpoint::OnControl(const ControlMessage& message) {
  if (state_ == State::kFailed || closed_) return;
  switch (message.type) {
    case ControlMessage::kTagIndex: {
      const uint64_t user_tag = message.b;
      if (message.a > kMaxTagIndex || FitsDirect(user_tag)) {
        Fail("protocol error: a bad tag index message from " + peer_name_);
        return;
      }
      in_index_[user_tag] = message.a;
      auto held = held_recvs_.find(user_tag);
      if (held == held_recvs_.end()) return;
      RequestQueue queue = held->second;
      held_recvs_.erase(held);
      while (Request* r = queue.Pop()) PostRecv(r, MakeUcpTag(id_, TagKind::kIndexed, message.a));
      return;
    }
    case ControlMessage::kNotify:
      notifications_.push_back(mc_notification_v1_t{message.a, message.b, static_cast<size_t>(message.c)});
      return;
    case ControlMessage::kBye:
      Fail("the peer " + peer_name_ + " closed the endpoint");
      return;
    default:
      Fail("protocol error: control message of unknown type " + std::to_string(message.type) + " from " +
           peer_name_);
      return;
  }
}

mc_result_t Endpoint::PollNotification(mc_notification_v1_t* notification) {
  if (notifications_.empty()) {
    ctx_->Progress();
    if (notifications_.empty()) return state_ == State::kFailed ? MC_ERR_PEER_LOST : MC_AGAIN;
  }
  *notification = notifications_.front();
  notifications_.pop_front();
  return MC_SUCCESS;
}

void Endpoint::OnUcxError(ucs_status_t status) { ctx_->QueueUcxError(this, status); }

}  // namespace mc::ucx
