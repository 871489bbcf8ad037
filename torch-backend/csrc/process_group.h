// The c10d backend "mooncomm": PyTorch's collectives on CPU tensors over the
// algorithm library (mooncomm/collectives.h) on one Communicator per group,
// bootstrapped through the c10d Store of the group.
//
// Failures. When ranks die, collectives finish over the survivors (see
// collectives.h); after every operation the backend writes the group's
// state into `active_ranks` (int32, one entry per group rank: 1 alive, 0
// failed), and each Work knows the ranks that took part.
#ifndef MOONCOMM_TORCH_PROCESS_GROUP_H_
#define MOONCOMM_TORCH_PROCESS_GROUP_H_

#include <torch/csrc/distributed/c10d/Backend.hpp>
#include <torch/csrc/distributed/c10d/Store.hpp>

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "c10d_store.h"
#include "mooncomm/collectives.h"
#include "mooncomm/communicator.h"
#include "p2p_progress.h"
#include "work.h"

namespace mc::torch_backend {

class ProcessGroupMoonComm : public c10d::Backend {
 public:
  // `active_ranks`: an int32 CPU tensor of `size` entries that the backend
  // keeps up to date; undefined: the backend makes its own.
  ProcessGroupMoonComm(const c10::intrusive_ptr<c10d::Store>& store, int rank, int size,
                       std::chrono::milliseconds timeout, at::Tensor active_ranks);
  ~ProcessGroupMoonComm() override;

  const std::string getBackendName() const override { return "mooncomm"; }
  bool supportsCoalescing() const override { return true; }
  void shutdown() override;
  void abort() override { shutdown(); }

  c10::intrusive_ptr<c10d::Work> broadcast(std::vector<at::Tensor>& tensors,
                                           const c10d::BroadcastOptions& opts = c10d::BroadcastOptions()) override;
  c10::intrusive_ptr<c10d::Work> allreduce(std::vector<at::Tensor>& tensors,
                                           const c10d::AllreduceOptions& opts = c10d::AllreduceOptions()) override;
  c10::intrusive_ptr<c10d::Work> allreduce_coalesced(
      std::vector<at::Tensor>& tensors,
      const c10d::AllreduceCoalescedOptions& opts = c10d::AllreduceCoalescedOptions()) override;
  c10::intrusive_ptr<c10d::Work> reduce(std::vector<at::Tensor>& tensors,
                                        const c10d::ReduceOptions& opts = c10d::ReduceOptions()) override;
  c10::intrusive_ptr<c10d::Work> allgather(std::vector<std::vector<at::Tensor>>& outputs,
                                           std::vector<at::Tensor>& inputs,
                                           const c10d::AllgatherOptions& opts = c10d::AllgatherOptions()) override;
  c10::intrusive_ptr<c10d::Work> _allgather_base(at::Tensor& output, at::Tensor& input,
                                                 const c10d::AllgatherOptions& opts = c10d::AllgatherOptions()) override;
  c10::intrusive_ptr<c10d::Work> allgather_coalesced(
      std::vector<std::vector<at::Tensor>>& outputs, std::vector<at::Tensor>& inputs,
      const c10d::AllgatherOptions& opts = c10d::AllgatherOptions()) override;
  c10::intrusive_ptr<c10d::Work> allgather_into_tensor_coalesced(
      std::vector<at::Tensor>& outputs, std::vector<at::Tensor>& inputs,
      const c10d::AllgatherOptions& opts = c10d::AllgatherOptions()) override;
  c10::intrusive_ptr<c10d::Work> gather(std::vector<std::vector<at::Tensor>>& outputs,
                                        std::vector<at::Tensor>& inputs,
                                        const c10d::GatherOptions& opts = c10d::GatherOptions()) override;
  c10::intrusive_ptr<c10d::Work> scatter(std::vector<at::Tensor>& outputs,
                                         std::vector<std::vector<at::Tensor>>& inputs,
                                         const c10d::ScatterOptions& opts = c10d::ScatterOptions()) override;
  c10::intrusive_ptr<c10d::Work> reduce_scatter(
      std::vector<at::Tensor>& outputs, std::vector<std::vector<at::Tensor>>& inputs,
      const c10d::ReduceScatterOptions& opts = c10d::ReduceScatterOptions()) override;
  c10::intrusive_ptr<c10d::Work> _reduce_scatter_base(
      at::Tensor& output, at::Tensor& input,
      const c10d::ReduceScatterOptions& opts = c10d::ReduceScatterOptions()) override;
  c10::intrusive_ptr<c10d::Work> reduce_scatter_tensor_coalesced(
      std::vector<at::Tensor>& outputs, std::vector<at::Tensor>& inputs,
      const c10d::ReduceScatterOptions& opts = c10d::ReduceScatterOptions()) override;
  c10::intrusive_ptr<c10d::Work> alltoall_base(at::Tensor& output, at::Tensor& input,
                                               std::vector<int64_t>& output_split_sizes,
                                               std::vector<int64_t>& input_split_sizes,
                                               const c10d::AllToAllOptions& opts = c10d::AllToAllOptions()) override;
  c10::intrusive_ptr<c10d::Work> alltoall(std::vector<at::Tensor>& outputs, std::vector<at::Tensor>& inputs,
                                          const c10d::AllToAllOptions& opts = c10d::AllToAllOptions()) override;
  c10::intrusive_ptr<c10d::Work> barrier(const c10d::BarrierOptions& opts = c10d::BarrierOptions()) override;
  c10::intrusive_ptr<c10d::Work> send(std::vector<at::Tensor>& tensors, int dst, int tag) override;
  c10::intrusive_ptr<c10d::Work> recv(std::vector<at::Tensor>& tensors, int src, int tag) override;
  c10::intrusive_ptr<c10d::Work> recvAnysource(std::vector<at::Tensor>& tensors, int tag) override;
  void startCoalescing() override;
  c10::intrusive_ptr<c10d::Work> endCoalescing() override;

  // 1 alive / 0 failed per group rank, as of the last operation.
  at::Tensor active_ranks() const { return active_ranks_; }
  // The size-to-algorithm map in force (what MC_LOG_LEVEL=info prints).
  std::string describe_tuning();

 private:
  struct PendingP2P {
    bool is_send;
    int peer;
    uint64_t tag;
    at::Tensor user;    // what the caller passed
    at::Tensor buffer;  // contiguous: `user` itself, or a staging copy
  };

  Collectives& coll();  // throws once shut down
  // Runs one collective in this thread and returns its finished Work.
  c10::intrusive_ptr<c10d::Work> RunCollective(c10d::OpType type, std::vector<at::Tensor> outputs, const char* what,
                                               const std::function<Collectives::Result()>& body);
  void SetActiveRanks(const std::vector<int>& alive);
  // The Work of a coalesced call whose parts ran one by one, `last` the last part's.
  c10::intrusive_ptr<c10d::Work> CoalescedWork(c10d::OpType type, std::vector<at::Tensor> outputs,
                                               const c10::intrusive_ptr<c10d::Work>& last);
  c10::intrusive_ptr<c10d::Work> PostP2P(c10d::OpType type, std::vector<PendingP2P> ops);
  PendingP2P MakeP2P(bool is_send, std::vector<at::Tensor>& tensors, int peer, int tag);
  c10::intrusive_ptr<c10d::Work> coalesced_work();

  std::unique_ptr<C10dStore> store_;
  std::unique_ptr<Communicator> comm_;
  std::unique_ptr<Collectives> coll_;
  std::shared_ptr<P2PProgress> progress_;
  at::Tensor active_ranks_;
  std::mutex op_mu_;  // one collective at a time, in call order
  bool coalescing_ = false;
  std::vector<PendingP2P> coalesced_p2p_;
  c10::intrusive_ptr<MoonCommWork> coalesced_placeholder_;
  bool shut_down_ = false;
};

}  // namespace mc::torch_backend

#endif  // MOONCOMM_TORCH_PROCESS_GROUP_H_
