#include "work.h"

#include <c10/util/Exception.h>

#include <chrono>
#include <thread>

#include "absl/strings/str_cat.h"
#include "mooncomm/status.h"
#include "p2p_progress.h"

namespace mc::torch_backend {

MoonCommWork::MoonCommWork(int rank, c10d::OpType type, std::vector<at::Tensor> outputs)
    : c10d::Work(rank, type),
      outputs_(std::move(outputs)),
      future_(c10::make_intrusive<c10::ivalue::Future>(c10::ListType::create(c10::TensorType::get()))) {}

void MoonCommWork::Finish(std::vector<int> participants) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    participants_ = std::move(participants);
  }
  finish();
  future_->markCompleted(c10::IValue(outputs_));
}

void MoonCommWork::Fail(std::exception_ptr error) {
  finish(error);
  future_->setError(error);
}

bool MoonCommWork::isCompleted() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (completed_) return true;
  }
  return Progress(/*blocking=*/false);
}

bool MoonCommWork::wait(std::chrono::milliseconds timeout) {
  // Point-to-point: drive the requests here rather than wait for the
  // progress thread to notice (a thread hand-off per message).
  if (timeout == kNoTimeout) {
    Progress(/*blocking=*/true);  // the Communicator's timeout applies
  } else {
    // The caller's timeout: a late peer is an error of this wait, not a failed rank.
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!Progress(/*blocking=*/false)) {
      if (std::chrono::steady_clock::now() > deadline) {
        C10_THROW_ERROR(DistBackendError, absl::StrCat("mooncomm ", c10d::opTypeToString(opType_),
                                                       ": wait timed out after ", timeout.count(), " ms"));
      }
      std::this_thread::yield();
    }
  }
  return c10d::Work::wait(timeout);
}

std::vector<at::Tensor> MoonCommWork::result() { return outputs_; }

c10::intrusive_ptr<c10::ivalue::Future> MoonCommWork::getFuture() {
  std::shared_ptr<P2PProgress> progress;
  {
    std::lock_guard<std::mutex> lock(p2p_mu_);
    if (comm_ != nullptr) progress = progress_.lock();  // posted, not finished
  }
  if (progress) progress->Poll(c10::intrusive_ptr<MoonCommWork>::reclaim_copy(this));
  return future_;
}

bool MoonCommWork::finished() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return completed_;
}

std::vector<int> MoonCommWork::participants() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return participants_;
}

void MoonCommWork::SetRequests(Communicator* comm, std::vector<Request> requests, std::vector<int> peers,
                               std::function<void()> on_done, std::function<void(const absl::Status&)> on_failure,
                               std::weak_ptr<P2PProgress> progress) {
  std::lock_guard<std::mutex> lock(p2p_mu_);
  comm_ = comm;
  requests_ = std::move(requests);
  peers_ = std::move(peers);
  on_done_ = std::move(on_done);
  on_failure_ = std::move(on_failure);
  progress_ = std::move(progress);
}

bool MoonCommWork::Progress(bool blocking) {
  std::unique_lock<std::mutex> lock(p2p_mu_, std::defer_lock);
  if (blocking) {
    lock.lock();
  } else if (!lock.try_lock()) {
    return false;
  }
  if (comm_ == nullptr) {
    std::lock_guard<std::mutex> state(mutex_);
    return completed_;
  }
  bool all_done = true;
  for (size_t i = 0; i < requests_.size(); ++i) {
    Request& req = requests_[i];
    if (!req.pending()) continue;
    absl::Status s;
    if (blocking) {
      s = comm_->Wait(req);  // the Communicator's timeout applies (MC_TIMEOUT_MS)
    } else if (!comm_->Test(req, &s)) {
      all_done = false;
      continue;
    }
    if (!s.ok() && first_error_.ok()) first_error_ = s;
  }
  if (!all_done) return false;
  comm_ = nullptr;  // finished exactly once
  requests_.clear();
  if (first_error_.ok()) {
    if (on_done_) on_done_();
    Finish(peers_);
  } else {
    if (on_failure_) on_failure_(first_error_);
    const std::optional<int> peer = FailedPeerOf(first_error_);
    std::string message = absl::StrCat("mooncomm ", c10d::opTypeToString(opType_), ": ", first_error_.message());
    std::exception_ptr error;
    if (peer.has_value()) {
      error = std::make_exception_ptr(c10::DistBackendError(
          {__func__, __FILE__, static_cast<uint32_t>(__LINE__)}, message));
    } else {
      error = std::make_exception_ptr(c10::Error({__func__, __FILE__, static_cast<uint32_t>(__LINE__)}, message));
    }
    Fail(error);
  }
  return true;
}

void MoonCommWork::Abandon(const std::string& why) {
  std::lock_guard<std::mutex> lock(p2p_mu_);
  if (comm_ == nullptr) return;
  comm_ = nullptr;
  requests_.clear();  // a pending Request is finished in the background by the Communicator
  Fail(std::make_exception_ptr(c10::DistBackendError({__func__, __FILE__, static_cast<uint32_t>(__LINE__)},
                                                     absl::StrCat("mooncomm ", c10d::opTypeToString(opType_), ": ", why))));
}

}  // namespace mc::torch_backend
