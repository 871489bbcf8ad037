// Peer health: transports report, the Communicator decides. A peer is
// failed once a transport says it is lost or an operation with it misses
// the deadline; it never comes back. A watchdog keeps the transports moving
// while the application is not calling us, so failures are seen promptly.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "comm/communicator_impl.h"
#include "common/log.h"
#include "mooncomm/plugin_abi.h"
#include "mooncomm/status.h"

namespace mc {

void Communicator::Impl::MarkFailed(int peer, const std::string& transport, const std::string& detail) {
  FailureEvent event{peer, transport, detail, absl::Now()};
  std::vector<std::function<void(const FailureEvent&)>> to_call;
  {
    // The state flips and the event is recorded in one critical section, so
    // whoever sees the peer failed and then asks for the events finds it.
    std::lock_guard<std::mutex> lock(events_mu);
    PeerState expected = PeerState::kAlive;
    if (!peers[peer].state.compare_exchange_strong(expected, PeerState::kFailed)) return;
    events.push_back(event);
    to_call = failure_listeners;
  }
  has_unclosed_failures.store(true);
  MC_LOG(WARN) << "peer rank " << peer << " failed (" << transport << "): " << detail;
  for (const auto& listener : to_call) listener(event);
}

void Communicator::Impl::OnTransportFailure(Transport* transport, void* ep, mc_result_t reason,
                                            const std::string& detail) {
  int peer = -1;
  {
    std::lock_guard<std::mutex> lock(ep_mu);
    auto it = ep_rank.find(ep);
    if (it != ep_rank.end()) peer = it->second;
  }
  if (peer < 0) {
    MC_LOG(DEBUG) << transport->name() << " reported a failure on an endpoint that is not a peer's: " << detail;
    return;
  }
  MarkFailed(peer, transport->name(), absl::StrCat(detail, " (", ResultName(reason), ")"));
}

void Communicator::Impl::StartWatchdog() {
  if (size <= 1) return;
  // Often enough to report a dead peer well inside the timeout, rarely enough to cost nothing.
  const absl::Duration interval = std::clamp(timeout / 20, absl::Milliseconds(1), absl::Milliseconds(50));
  watchdog_ = std::thread([this, interval] {
    std::unique_lock<std::mutex> lock(watchdog_mu_);
    uint64_t seen = progress_count_.load(std::memory_order_relaxed);
    while (!watchdog_cv_.wait_for(lock, absl::ToChronoMilliseconds(interval), [this] { return watchdog_stop_; })) {
      uint64_t now = progress_count_.load(std::memory_order_relaxed);
      bool application_is_progressing = now != seen;
      seen = now;
      if (application_is_progressing) continue;
      std::unique_lock<std::mutex> op_lock(op_mu, std::try_to_lock);
      if (op_lock.owns_lock()) ProgressLocked();
    }
  });
}

void Communicator::Impl::StopWatchdog() {
  {
    std::lock_guard<std::mutex> lock(watchdog_mu_);
    watchdog_stop_ = true;
  }
  watchdog_cv_.notify_all();
  if (watchdog_.joinable()) watchdog_.join();
}

PeerState Communicator::peer_state(int peer) const {
  if (peer < 0 || peer >= impl_->size) return PeerState::kFailed;
  return impl_->peers[peer].state.load(std::memory_order_acquire);
}

std::vector<int> Communicator::failed_ranks() const {
  std::vector<int> failed;
  for (int r = 0; r < impl_->size; ++r) {
    if (impl_->peers[r].state.load() == PeerState::kFailed) failed.push_back(r);
  }
  return failed;
}

std::vector<FailureEvent> Communicator::failure_events() const {
  std::lock_guard<std::mutex> lock(impl_->events_mu);
  return impl_->events;
}

void Communicator::DeclareFailed(int peer, std::string_view reason) {
  if (peer < 0 || peer >= impl_->size || peer == impl_->rank) return;
  impl_->MarkFailed(peer, impl_->peers[peer].transport ? impl_->peers[peer].transport->name() : "none",
                    std::string(reason));
}

void Communicator::AddFailureListener(std::function<void(const FailureEvent&)> listener) {
  std::lock_guard<std::mutex> lock(impl_->events_mu);
  impl_->failure_listeners.push_back(std::move(listener));
}

}  // namespace mc
