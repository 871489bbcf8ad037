// Memory registration, remote keys, and one-sided puts with notification.
#include <sched.h>

#include "absl/strings/str_cat.h"
#include "comm/communicator_impl.h"
#include "mooncomm/memory_kind.h"
#include "mooncomm/status.h"

namespace mc {

MemoryRegistration::~MemoryRegistration() {
  std::lock_guard<std::mutex> lock(impl_->op_mu);
  for (auto& [transport, mr] : mrs_) transport->mem().dereg(transport->ctx(), mr);
}

void* MemoryRegistration::mr_for(const Transport* transport) const {
  for (const auto& [t, mr] : mrs_)
    if (t == transport) return mr;
  return nullptr;
}

RemoteKeyImpl::~RemoteKeyImpl() {
  std::lock_guard<std::mutex> lock(impl_->op_mu);
  transport_->mem().release_rkey(rkey_);
}

absl::StatusOr<MemoryHandle> Communicator::RegisterMemory(void* ptr, size_t len, mc_mem_kind_t kind) {
  if (ptr == nullptr || len == 0) return absl::InvalidArgumentError("RegisterMemory: empty or null region");
  if (mc_mem_kind_t actual = MemoryKindOf(ptr); actual != kind) {
    return absl::InvalidArgumentError(absl::StrCat("RegisterMemory: the region is ", MemoryKindName(actual),
                                                   " memory but was registered as ", MemoryKindName(kind)));
  }
  auto reg = std::make_shared<MemoryRegistration>(impl_.get(), ptr, len);
  std::lock_guard<std::mutex> lock(impl_->op_mu);
  for (const auto& t : impl_->transports) {
    void* mr = nullptr;
    mc_result_t rc = t->mem().reg(t->ctx(), ptr, len, kind, &mr);
    if (rc != MC_SUCCESS) {
      // Undo what was registered, then report; the lock is held, so do it here.
      for (auto& [done, done_mr] : reg->mrs_) done->mem().dereg(done->ctx(), done_mr);
      reg->mrs_.clear();
      return StatusFromResult(rc, absl::StrCat("RegisterMemory of ", len, " bytes with ", t->name()));
    }
    reg->mrs_.emplace_back(t.get(), mr);
  }
  return reg;
}

absl::StatusOr<std::string> Communicator::PackRemoteKey(const MemoryHandle& mem, int peer) {
  if (mem == nullptr) return absl::InvalidArgumentError("PackRemoteKey: null memory handle");
  if (absl::Status s = impl_->CheckPeer(peer, "PackRemoteKey"); !s.ok()) return s;
  Transport* t = impl_->peers[peer].transport;
  void* mr = mem->mr_for(t);
  if (mr == nullptr) return absl::InternalError("memory is not registered with the peer's transport");
  char buf[MC_MAX_RKEY_BYTES];
  size_t len = sizeof(buf);
  std::lock_guard<std::mutex> lock(impl_->op_mu);
  mc_result_t rc = t->mem().pack_rkey(t->ctx(), mr, buf, &len);
  if (rc != MC_SUCCESS) return StatusFromResult(rc, absl::StrCat("PackRemoteKey for rank ", peer));
  return std::string(buf, len);
}

absl::StatusOr<RemoteKey> Communicator::ImportRemoteKey(int peer, std::string_view packed) {
  if (absl::Status s = impl_->CheckPeer(peer, "ImportRemoteKey"); !s.ok()) return s;
  Impl::Peer& p = impl_->peers[peer];
  void* rkey = nullptr;
  std::lock_guard<std::mutex> lock(impl_->op_mu);
  mc_result_t rc = p.transport->mem().unpack_rkey(p.ep, packed.data(), packed.size(), &rkey);
  if (rc != MC_SUCCESS) return StatusFromResult(rc, absl::StrCat("ImportRemoteKey from rank ", peer));
  return std::make_shared<RemoteKeyImpl>(impl_.get(), p.transport, rkey, peer);
}

absl::Status Communicator::Iput(int peer, const void* src, size_t len, const MemoryHandle& src_mem,
                                uint64_t remote_addr, const RemoteKey& key, uint64_t notify, Request* req) {
  if (src == nullptr && len > 0) return absl::InvalidArgumentError("Iput: null source with a non-zero length");
  if (key == nullptr || key->peer() != peer) {
    return absl::InvalidArgumentError(absl::StrCat("Iput: the remote key is not one imported from rank ", peer));
  }
  return Post(peer, "Iput", req, [&](void** handle) {
    Impl::Peer& p = impl_->peers[peer];
    void* mr = src_mem ? src_mem->mr_for(p.transport) : nullptr;
    return p.transport->ops().iput(p.ep, src, len, mr, remote_addr, key->rkey(), notify, handle);
  });
}

absl::StatusOr<std::optional<Notification>> Communicator::PollNotification(int peer) {
  if (absl::Status s = impl_->CheckPeer(peer, "PollNotification"); !s.ok()) return s;
  Impl::Peer& p = impl_->peers[peer];
  std::lock_guard<std::mutex> lock(impl_->op_mu);
  mc_notification_v1_t n{};
  mc_result_t rc = p.transport->ops().poll_notification(p.ep, &n);
  if (rc == MC_AGAIN) {
    impl_->ProgressLocked();
    rc = p.transport->ops().poll_notification(p.ep, &n);
  }
  if (rc == MC_AGAIN) return std::optional<Notification>();
  if (rc != MC_SUCCESS) {
    if (rc == MC_ERR_PEER_LOST || rc == MC_ERR_CLOSED) return PeerFailedError(peer, "lost while waiting for a put");
    return StatusFromResult(rc, absl::StrCat("PollNotification from rank ", peer));
  }
  return std::optional<Notification>(Notification{n.value, n.addr, n.bytes});
}

absl::StatusOr<Notification> Communicator::WaitNotification(int peer) {
  const absl::Time deadline = absl::Now() + impl_->timeout;
  for (int spins = 0;; ++spins) {
    absl::StatusOr<std::optional<Notification>> n = PollNotification(peer);
    if (!n.ok()) return n.status();
    if (n->has_value()) return **n;
    if (spins > 2000) sched_yield();
    if ((spins & 63) == 0 && absl::Now() > deadline) {
      impl_->MarkFailed(peer, impl_->peers[peer].transport->name(),
                        absl::StrCat("no notification within ", absl::ToInt64Milliseconds(impl_->timeout),
                                     " ms (MC_TIMEOUT_MS)"));
      return PeerFailedError(peer, "no notification before the deadline");
    }
  }
}

}  // namespace mc
