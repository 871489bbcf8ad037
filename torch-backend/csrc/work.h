// The Work a mooncomm operation returns. Collectives run to completion in
// the calling thread (PyTorch releases the GIL around them), so their Work is
// finished when it is returned; point-to-point operations are posted and
// finish later, driven by wait() or by the backend's progress thread
// (p2p_progress.h), which also completes get_future() without a wait().
#ifndef MOONCOMM_TORCH_WORK_H_
#define MOONCOMM_TORCH_WORK_H_

#include <ATen/ATen.h>
#include <ATen/core/ivalue.h>
#include <torch/csrc/distributed/c10d/Work.hpp>

#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "mooncomm/communicator.h"

namespace mc::torch_backend {

class P2PProgress;

class MoonCommWork : public c10d::Work {
 public:
  MoonCommWork(int rank, c10d::OpType type, std::vector<at::Tensor> outputs);

  // Marks the work done: outputs are final, `participants` (group ranks,
  // ascending) took part. Or done with an error.
  void Finish(std::vector<int> participants);
  void Fail(std::exception_ptr error);

  bool isCompleted() override;
  bool wait(std::chrono::milliseconds timeout = kNoTimeout) override;
  std::vector<at::Tensor> result() override;
  // For a posted point-to-point work, asking for the future has the
  // backend's thread finish it (nobody may call wait()).
  c10::intrusive_ptr<c10::ivalue::Future> getFuture() override;
  // The same future, without that.
  const c10::intrusive_ptr<c10::ivalue::Future>& future() const { return future_; }

  // The group ranks whose data took part; empty until finished.
  std::vector<int> participants() const;
  bool finished() const;

  // Point-to-point only: the posted requests, and what to do once they are
  // all complete (copy a staged receive back). The backend's progress thread
  // and wait() both drive them; whoever takes p2p_mu_ does.
  void SetRequests(Communicator* comm, std::vector<Request> requests, std::vector<int> peers,
                   std::function<void()> on_done, std::function<void(const absl::Status&)> on_failure,
                   std::weak_ptr<P2PProgress> progress);
  // Tests the requests once (blocking=false) or waits for them; finishes the
  // work when they are done. Returns true when the work is finished.
  bool Progress(bool blocking);
  // Drops the requests (before the Communicator goes) and fails the work
  // with `why` unless it has finished.
  void Abandon(const std::string& why);

 private:
  std::vector<at::Tensor> outputs_;
  c10::intrusive_ptr<c10::ivalue::Future> future_;
  std::vector<int> participants_;

  std::mutex p2p_mu_;
  Communicator* comm_ = nullptr;
  std::vector<Request> requests_;
  std::vector<int> peers_;
  absl::Status first_error_;
  std::function<void()> on_done_;
  std::function<void(const absl::Status&)> on_failure_;
  std::weak_ptr<P2PProgress> progress_;  // finishes the work once its future is asked for
};

}  // namespace mc::torch_backend

#endif  // MOONCOMM_TORCH_WORK_H_
