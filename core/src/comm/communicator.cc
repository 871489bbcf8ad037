// Point-to-point operations and the wait loop that enforces the deadline.
#include "mooncomm/communicator.h"

#include <sched.h>

#include "absl/strings/str_cat.h"
#include "comm/communicator_impl.h"
#include "comm/local_store.h"
#include "common/log.h"
#include "mooncomm/status.h"

namespace mc {
namespace {

// Busy-poll this many rounds before yielding the CPU to other ranks (which
// matters when ranks outnumber cores).
constexpr int kSpinsBeforeYield = 2000;

}  // namespace

Request::Request(Request&& other) noexcept { *this = std::move(other); }

Request& Request::operator=(Request&& other) noexcept {
  if (this != &other) {
    if (handle_ != nullptr && comm_ != nullptr) comm_->Abandon(*this);
    comm_ = other.comm_;
    handle_ = other.handle_;
    peer_ = other.peer_;
    bytes_ = other.bytes_;
    other.handle_ = nullptr;
    other.comm_ = nullptr;
  }
  return *this;
}

Request::~Request() {
  if (handle_ != nullptr && comm_ != nullptr) comm_->Abandon(*this);
}

Communicator::Communicator(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Communicator::~Communicator() = default;

int Communicator::rank() const { return impl_->rank; }
int Communicator::size() const { return impl_->size; }
absl::Duration Communicator::timeout() const { return impl_->timeout; }

std::string Communicator::transport_name(int peer) const {
  if (peer < 0 || peer >= impl_->size) return "";
  if (peer == impl_->rank) return "self";
  return impl_->peers[peer].transport ? impl_->peers[peer].transport->name() : "";
}

absl::StatusOr<mc_device_props_v1_t> Communicator::peer_device_props(int peer) const {
  if (peer < 0 || peer >= impl_->size || peer == impl_->rank) {
    return absl::InvalidArgumentError(absl::StrCat("rank ", peer, " is not a peer of rank ", impl_->rank));
  }
  return impl_->peers[peer].transport->DeviceProps(0);
}

const std::string& Communicator::store_prefix() const { return impl_->prefix; }

Store& Communicator::store() {
  if (impl_->store == nullptr) {
    impl_->owned_store = std::make_unique<LocalStore>();
    impl_->store = impl_->owned_store.get();
  }
  return *impl_->store;
}

absl::Status Communicator::Impl::CheckPeer(int peer, const char* op) const {
  if (peer < 0 || peer >= size) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": rank ", peer, " is outside the communicator (size ", size, ")"));
  }
  if (peer == rank) {
    return absl::InvalidArgumentError(absl::StrCat(op, " to or from oneself (rank ", rank, ") is not supported"));
  }
  if (peers[peer].state.load(std::memory_order_acquire) == PeerState::kFailed) {
    return PeerFailedError(peer, "the peer failed earlier");
  }
  return absl::OkStatus();
}

absl::Status Communicator::Impl::CompletionStatus(int peer, const mc_completion_v1_t& completion) const {
  switch (completion.status) {
    case MC_SUCCESS:
      return absl::OkStatus();
    case MC_ERR_PEER_LOST:
      return PeerFailedError(peer, absl::StrCat("lost by ", peers[peer].transport->name()));
    case MC_ERR_CLOSED:
    case MC_ERR_TIMEOUT:
      if (peers[peer].state.load() == PeerState::kFailed) return PeerFailedError(peer, "operation cancelled");
      return StatusFromResult(completion.status, absl::StrCat("operation with rank ", peer));
    case MC_ERR_TRUNCATED:
      return absl::OutOfRangeError(absl::StrCat("message from rank ", peer, " with tag ", completion.tag,
                                                " is larger than the posted receive buffer"));
    default:
      return StatusFromResult(completion.status, absl::StrCat("operation with rank ", peer, " over ",
                                                               peers[peer].transport->name()));
  }
}

void Communicator::Impl::ProgressLocked() {
  CloseFailedEndpointsLocked();
  for (const auto& t : transports) t->ops().progress(t->ctx());
  for (size_t i = 0; i < orphans.size();) {
    int done = 0;
    mc_completion_v1_t completion{};
    mc_result_t rc = orphan_transports[i]->ops().test(orphans[i], &done, &completion);
    if (done || rc != MC_SUCCESS) {
      orphans[i] = orphans.back();
      orphans.pop_back();
      orphan_transports[i] = orphan_transports.back();
      orphan_transports.pop_back();
    } else {
      ++i;
    }
  }
  NoteProgress();
}

void Communicator::Impl::CloseFailedEndpointsLocked() {
  if (!has_unclosed_failures.load(std::memory_order_relaxed) || !has_unclosed_failures.exchange(false)) return;
  for (int r = 0; r < size; ++r) {
    Peer& p = peers[r];
    if (p.state.load() == PeerState::kFailed && p.ep != nullptr && !p.ep_closed) {
      // Completes whatever is still pending on it with MC_ERR_CLOSED.
      p.transport->ops().close(p.ep);
      p.ep_closed = true;
    }
  }
}

void Communicator::Abandon(Request& req) {
  std::lock_guard<std::mutex> lock(impl_->op_mu);
  impl_->orphans.push_back(req.handle_);
  impl_->orphan_transports.push_back(impl_->peers[req.peer_].transport);
  req.handle_ = nullptr;
}

absl::Status Communicator::Post(int peer, const char* op, Request* req,
                                absl::FunctionRef<mc_result_t(void** handle)> post) {
  if (req->pending()) return absl::FailedPreconditionError(absl::StrCat(op, ": the request is still pending"));
  if (absl::Status s = impl_->CheckPeer(peer, op); !s.ok()) return s;
  Impl::Peer& p = impl_->peers[peer];
  const absl::Time deadline = absl::Now() + impl_->timeout;
  std::lock_guard<std::mutex> lock(impl_->op_mu);
  while (true) {
    void* handle = nullptr;
    mc_result_t rc = post(&handle);
    if (rc == MC_SUCCESS) {
      *req = Request();
      req->comm_ = this;
      req->handle_ = handle;
      req->peer_ = peer;
      return absl::OkStatus();
    }
    if (rc == MC_ERR_PEER_LOST || rc == MC_ERR_CLOSED) {
      std::string detail = absl::StrCat(op, " refused: peer lost");
      impl_->MarkFailed(peer, p.transport->name(), detail);
      return PeerFailedError(peer, detail);
    }
    if (rc != MC_AGAIN) return StatusFromResult(rc, absl::StrCat(op, " with rank ", peer));
    impl_->ProgressLocked();
    if (absl::Now() > deadline) {
      return absl::ResourceExhaustedError(absl::StrCat(op, " with rank ", peer, ": transport busy"));
    }
  }
}

absl::Status Communicator::Isend(int peer, uint64_t tag, const void* buf, size_t len, Request* req) {
  if (buf == nullptr && len > 0) return absl::InvalidArgumentError("Isend: null buffer with a non-zero length");
  return Post(peer, "Isend", req, [&](void** handle) {
    Impl::Peer& p = impl_->peers[peer];
    return p.transport->ops().isend(p.ep, tag, buf, len, nullptr, handle);
  });
}

absl::Status Communicator::Irecv(int peer, uint64_t tag, void* buf, size_t len, Request* req) {
  if (buf == nullptr && len > 0) return absl::InvalidArgumentError("Irecv: null buffer with a non-zero length");
  return Post(peer, "Irecv", req, [&](void** handle) {
    Impl::Peer& p = impl_->peers[peer];
    return p.transport->ops().irecv(p.ep, tag, buf, len, nullptr, handle);
  });
}

bool Communicator::Test(Request& req, absl::Status* status) {
  if (!req.pending()) {
    *status = absl::FailedPreconditionError("Test: the request is not pending");
    return true;
  }
  Impl::Peer& p = impl_->peers[req.peer_];
  int done = 0;
  mc_completion_v1_t completion{};
  mc_result_t rc;
  {
    std::lock_guard<std::mutex> lock(impl_->op_mu);
    impl_->CloseFailedEndpointsLocked();
    rc = p.transport->ops().test(req.handle_, &done, &completion);
    if (rc == MC_SUCCESS && !done) {
      // The request's own transport every time; all of them (and abandoned
      // requests) now and then, so other traffic keeps moving too.
      if ((++impl_->test_calls & 63) == 0) {
        impl_->ProgressLocked();
      } else {
        p.transport->ops().progress(p.transport->ctx());
        impl_->NoteProgress();
      }
    }
  }
  if (rc != MC_SUCCESS) {
    // The plugin refused the handle; it is no longer ours to test.
    req.handle_ = nullptr;
    *status = StatusFromResult(rc, absl::StrCat("test of an operation with rank ", req.peer_));
    return true;
  }
  if (!done) return false;
  req.handle_ = nullptr;
  req.bytes_ = completion.bytes;
  *status = impl_->CompletionStatus(req.peer_, completion);
  return true;
}

absl::Status Communicator::Wait(Request& req) {
  absl::Status status;
  const absl::Time deadline = absl::Now() + impl_->timeout;
  bool declared_failed = false;
  for (int spins = 0;; ++spins) {
    if (Test(req, &status)) return status;
    if (spins >= kSpinsBeforeYield) sched_yield();
    if ((spins & 63) != 0) continue;
    absl::Time now = absl::Now();
    if (!declared_failed && now > deadline) {
      // The deadline is the failure detector of last resort: the peer is
      // declared failed and its endpoint closed, which cancels the request.
      impl_->MarkFailed(req.peer_, impl_->peers[req.peer_].transport->name(),
                        absl::StrCat("no progress within ", absl::ToInt64Milliseconds(impl_->timeout),
                                     " ms (MC_TIMEOUT_MS)"));
      declared_failed = true;
    } else if (declared_failed && now > deadline + absl::Seconds(1)) {
      // The plugin did not cancel on close; give up on the handle.
      int peer = req.peer_;
      Abandon(req);
      return PeerFailedError(peer, "operation did not complete after the peer was declared failed");
    }
  }
}

absl::Status Communicator::WaitAll(absl::Span<Request> reqs) {
  absl::Status first;
  for (Request& req : reqs) {
    if (!req.pending()) continue;
    absl::Status s = Wait(req);
    if (first.ok() && !s.ok()) first = s;
  }
  return first;
}

absl::Status Communicator::Send(int peer, uint64_t tag, const void* buf, size_t len) {
  Request req;
  if (absl::Status s = Isend(peer, tag, buf, len, &req); !s.ok()) return s;
  return Wait(req);
}

absl::Status Communicator::Recv(int peer, uint64_t tag, void* buf, size_t len) {
  Request req;
  if (absl::Status s = Irecv(peer, tag, buf, len, &req); !s.ok()) return s;
  return Wait(req);
}

absl::Status Communicator::Progress() {
  std::lock_guard<std::mutex> lock(impl_->op_mu);
  impl_->ProgressLocked();
  return absl::OkStatus();
}

}  // namespace mc
