// How an endpoint ends: closed by the core, failed because the peer is gone,
// or torn down by finalize.
#include <vector>

#include "context.h"
#include "endpoint.h"
#include "listener.h"

namespace mc::ucx {
namespace {

// How long a closed endpoint's side connection stays open while UCX flushes.
constexpr auto kCloseLinger = std::chrono::seconds(5);

}  // namespace

void Endpoint::DetachRequests(mc_result_t status, bool detach) {
  std::vector<Request*> requests;
  for (Request* r = unfinished_; r != nullptr; r = r->ep_next) requests.push_back(r);
  if (detach) {
    // The endpoint goes away before these requests do: they must not point to it.
    for (Request* r : requests) {
      r->ep_prev = r->ep_next = nullptr;
      r->ep = nullptr;
    }
    unfinished_ = nullptr;
  }
  waiting_ = RequestQueue();
  held_recvs_.clear();
  for (Request* r : requests) {
    if (r->stage == Request::Stage::kWaiting) {
      ctx_->Finish(r, status, 0);
      continue;
    }
    if (r->fail_status == MC_SUCCESS) r->fail_status = status;
    if (r->kind == Request::Kind::kRecv) {
      // A receive nobody matched yet is cancelled now (its callback may run
      // inside the cancel); a matched one finishes or fails on its own.
      if (r->ucx != nullptr) ucp_request_cancel(ctx_->worker(), r->ucx);
    } else if (err_mode_ == UCP_ERR_HANDLING_MODE_NONE && r->ucx != nullptr) {
      // Without error handling UCX can neither cancel a send nor purge it by
      // closing: abandon it (no callback comes after ucp_request_free).
      ucp_request_free(r->ucx);
      r->ucx = nullptr;
      ctx_->Finish(r, status, 0);
    }
    // In peer mode sends and puts end when the UCP endpoint is closed by force.
  }
}

void Endpoint::CloseUcpEndpoint(bool force) {
  if (ucp_ep_ == nullptr) return;
  ucp_request_param_t param{};
  param.op_attr_mask = UCP_OP_ATTR_FIELD_FLAGS;
  // UCX allows a forced close only with peer error handling.
  param.flags = force && err_mode_ == UCP_ERR_HANDLING_MODE_PEER ? UCP_EP_CLOSE_FLAG_FORCE : 0;
  ucp_ep_h ep = ucp_ep_;
  ucp_ep_ = nullptr;
  ucs_status_ptr_t sp = ucp_ep_close_nbx(ep, &param);
  if (UCS_PTR_IS_PTR(sp)) {
    close_request_ = sp;
  } else if (UCS_PTR_STATUS(sp) != UCS_OK) {
    ctx_->Log(MC_LOG_DEBUG, std::string("ucx: closing the UCP endpoint to ") + peer_name_ + ": " +
                                ucs_status_string(UCS_PTR_STATUS(sp)));
  }
}

void Endpoint::Close() {
  if (closed_) return;
  closed_ = true;
  ctx_->QueueTeardown(this);
  if (listener_ != nullptr) {
    Listener* listener = listener_;
    listener_ = nullptr;
    listener->Forget(this);
  }
  SetHandshaking(false);
  // A send or put still with UCX may never finish (a rendezvous the peer
  // never receives). In peer mode the UCP endpoint is then closed by force,
  // which ends them; without error handling they are abandoned (DetachRequests).
  bool stuck = false;
  for (Request* r = unfinished_; r != nullptr; r = r->ep_next) {
    stuck = stuck || (r->kind != Request::Kind::kRecv && r->stage != Request::Stage::kWaiting);
  }
  const bool force = stuck && err_mode_ == UCP_ERR_HANDLING_MODE_PEER;
  DetachRequests(MC_ERR_CLOSED, /*detach=*/true);
  if (state_ == State::kOpen && ucp_ep_ != nullptr && !force) {
    // BYE goes after everything sent before: the peer fails its pending
    // receives only once it has seen our last messages.
    bye_ = ControlMessage{};
    bye_.type = ControlMessage::kBye;
    ucp_request_param_t param{};
    ucs_status_ptr_t sp =
        ucp_tag_send_nbx(ucp_ep_, &bye_, sizeof(bye_), MakeUcpTag(peer_id_, TagKind::kControl, 0), &param);
    if (UCS_PTR_IS_PTR(sp)) ucp_request_free(sp);
    CloseUcpEndpoint(/*force=*/false);
  } else {
    CloseUcpEndpoint(/*force=*/true);
  }
  // The side connection closes once UCX is done (TeardownDone), after the
  // BYE, or after kCloseLinger if UCX never finishes.
  close_deadline_ = Clock::now() + kCloseLinger;
  if (close_request_ == nullptr) CloseSocket();
}

void Endpoint::Fail(const std::string& detail) {
  if (state_ == State::kFailed || closed_) return;
  state_ = State::kFailed;
  failure_detail_ = detail;
  SetHandshaking(false);
  DetachRequests(MC_ERR_PEER_LOST, /*detach=*/false);
  CloseUcpEndpoint(/*force=*/true);
  CloseSocket();
  if (!handed_out_) {
    // Nobody holds it yet: a connection that failed before accept() is dropped.
    ctx_->Log(MC_LOG_DEBUG, "ucx: dropping an incoming connection: " + detail);
    if (listener_ != nullptr) {
      Listener* listener = listener_;
      listener_ = nullptr;
      listener->Forget(this);
    } else {
      Close();
    }
    return;
  }
  ctx_->Log(MC_LOG_INFO, "ucx: lost peer: " + detail);
  report_due_ = true;
  ctx_->QueueReport(this);
}

bool Endpoint::TakeFailureReport(std::string* detail) {
  if (!report_due_ || reported_ || closed_) return false;
  report_due_ = false;
  reported_ = true;
  *detail = failure_detail_;
  return true;
}

bool Endpoint::TeardownDone() {
  if (!closed_) return false;
  if (close_request_ != nullptr) {
    if (ucp_request_check_status(close_request_) == UCS_INPROGRESS) {
      // A flush the peer never answers: let the peer see the close anyway.
      if (fd_ >= 0 && Clock::now() >= close_deadline_) CloseSocket();
      return false;
    }
    ucp_request_free(close_request_);
    close_request_ = nullptr;
  }
  CloseSocket();
  return true;
}

void Endpoint::ForceTeardown() {
  closed_ = true;
  listener_ = nullptr;
  SetHandshaking(false);
  DetachRequests(MC_ERR_CLOSED, /*detach=*/true);
  CloseUcpEndpoint(/*force=*/true);
}

void Endpoint::AbandonUcx() {
  if (close_request_ != nullptr) ucp_request_free(close_request_);
  close_request_ = nullptr;
}

}  // namespace mc::ucx
