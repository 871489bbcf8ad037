#include "process_group.h"

#include <c10/util/Exception.h>

#include <algorithm>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "mooncomm/config.h"
#include "mooncomm/status.h"
#include "tensor_args.h"

namespace mc::torch_backend {
namespace {

c10::SourceLocation Here(const char* func) { return {func, __FILE__, static_cast<uint32_t>(__LINE__)}; }

// A library error as the Python exception a user expects: a lost peer or a
// timeout is torch.distributed.DistBackendError, a call that does not match
// across ranks a ValueError, anything else a RuntimeError.
std::exception_ptr ToException(const char* what, const absl::Status& s) {
  const std::string message = absl::StrCat("mooncomm ", what, ": ", s.message());
  if (FailedPeerOf(s).has_value() || absl::IsUnavailable(s) || absl::IsDeadlineExceeded(s)) {
    return std::make_exception_ptr(c10::DistBackendError(Here(__func__), message));
  }
  if (absl::IsInvalidArgument(s) || absl::IsFailedPrecondition(s)) {
    return std::make_exception_ptr(c10::ValueError(Here(__func__), message));
  }
  return std::make_exception_ptr(c10::Error(Here(__func__), message));
}

void CheckOne(const std::vector<at::Tensor>& tensors, const char* what) {
  TORCH_CHECK_VALUE(tensors.size() == 1, "mooncomm ", what, ": takes one tensor per call (got ", tensors.size(), ")");
  CheckCpu(tensors[0], what);
}

void CheckRoot(int64_t root, int size, const char* what) {
  TORCH_CHECK_VALUE(root >= 0 && root < size, "mooncomm ", what, ": root rank ", root, " is outside the group (size ",
                    size, ")");
}

// Copies tensors into one flat buffer, block after block.
at::Tensor Pack(const std::vector<at::Tensor>& ts, const at::Tensor& like, int64_t total) {
  at::Tensor flat = at::empty({total}, like.options());
  int64_t at = 0;
  for (const at::Tensor& t : ts) {
    flat.narrow(0, at, t.numel()).copy_(t.reshape({-1}));
    at += t.numel();
  }
  return flat;
}

// The reverse of Pack.
void Unpack(const at::Tensor& flat, std::vector<at::Tensor>& ts) {
  int64_t at = 0;
  for (at::Tensor& t : ts) {
    t.copy_(flat.narrow(0, at, t.numel()).view(t.sizes()));
    at += t.numel();
  }
}

int64_t TotalNumel(const std::vector<at::Tensor>& ts) {
  int64_t n = 0;
  for (const at::Tensor& t : ts) n += t.numel();
  return n;
}

}  // namespace

ProcessGroupMoonComm::ProcessGroupMoonComm(const c10::intrusive_ptr<c10d::Store>& store, int rank, int size,
                                           std::chrono::milliseconds timeout, at::Tensor active_ranks)
    : c10d::Backend(rank, size) {
  if (active_ranks.defined()) {
    TORCH_CHECK_VALUE(active_ranks.device().is_cpu() && active_ranks.scalar_type() == at::kInt &&
                          active_ranks.dim() == 1 && active_ranks.numel() == size && active_ranks.is_contiguous(),
                      "mooncomm: active_ranks must be a contiguous int32 CPU tensor of ", size,
                      " elements (the group's size); got ", active_ranks.scalar_type(), " of shape ",
                      active_ranks.sizes(), " on ", active_ranks.device());
    active_ranks_ = active_ranks;
  } else {
    active_ranks_ = at::empty({size}, at::TensorOptions().dtype(at::kInt));
  }
  active_ranks_.fill_(1);

  absl::StatusOr<absl::Duration> mc_timeout = config::Timeout();
  TORCH_CHECK_VALUE(mc_timeout.ok(), "mooncomm: ", mc_timeout.status().message());
  store_ = std::make_unique<C10dStore>(store);
  CommunicatorOptions options;
  options.rank = rank;
  options.world_size = size;
  options.store = store_.get();
  options.store_prefix = "mooncomm";
  // The smaller of the group's timeout and MC_TIMEOUT_MS: PyTorch's default
  // (30 minutes) would otherwise keep a survivor waiting for a dead peer.
  options.timeout = std::min(absl::Milliseconds(timeout.count()), *mc_timeout);
  absl::StatusOr<std::unique_ptr<Communicator>> comm = Communicator::Create(options);
  if (!comm.ok()) {
    C10_THROW_ERROR(DistBackendError, absl::StrCat("mooncomm: cannot connect the group (rank ", rank, " of ", size,
                                                   "): ", comm.status().message()));
  }
  comm_ = std::move(*comm);
  absl::StatusOr<std::unique_ptr<Collectives>> coll = Collectives::Create(comm_.get());
  TORCH_CHECK(coll.ok(), "mooncomm: ", coll.status().message());
  coll_ = std::move(*coll);
  progress_ = std::make_shared<P2PProgress>();
}

ProcessGroupMoonComm::~ProcessGroupMoonComm() { shutdown(); }

void ProcessGroupMoonComm::shutdown() {
  std::lock_guard<std::mutex> lock(op_mu_);
  if (shut_down_) return;
  shut_down_ = true;
  if (progress_) progress_->Stop();  // fails what is still pending, before the Communicator goes
  coll_.reset();
  comm_.reset();
  progress_.reset();
}

Collectives& ProcessGroupMoonComm::coll() {
  TORCH_CHECK(!shut_down_ && coll_ != nullptr, "mooncomm: the process group has been shut down");
  return *coll_;
}

std::string ProcessGroupMoonComm::describe_tuning() {
  std::lock_guard<std::mutex> lock(op_mu_);
  return coll().DescribeTuning();
}

void ProcessGroupMoonComm::SetActiveRanks(const std::vector<int>& alive) {
  int32_t* out = active_ranks_.data_ptr<int32_t>();
  std::fill(out, out + size_, 0);
  for (int r : alive) out[r] = 1;
}

c10::intrusive_ptr<c10d::Work> ProcessGroupMoonComm::CoalescedWork(c10d::OpType type, std::vector<at::Tensor> outputs,
                                                                   const c10::intrusive_ptr<c10d::Work>& last) {
  auto work = c10::make_intrusive<MoonCommWork>(rank_, type, std::move(outputs));
  work->Finish(last ? static_cast<MoonCommWork*>(last.get())->participants() : std::vector<int>{});
  return work;
}

c10::intrusive_ptr<c10d::Work> ProcessGroupMoonComm::RunCollective(c10d::OpType type, std::vector<at::Tensor> outputs,
                                                                   const char* what,
                                                                   const std::function<Collectives::Result()>& body) {
  auto work = c10::make_intrusive<MoonCommWork>(rank_, type, std::move(outputs));
  Collectives::Result result;
  {
    std::lock_guard<std::mutex> lock(op_mu_);
    (void)coll();
    result = body();
    // The participants are the same on every survivor: so is active_ranks.
    SetActiveRanks(result.ok() ? result->participants : coll_->active_ranks());
  }
  if (result.ok()) {
    work->Finish(result->participants);
  } else {
    work->Fail(ToException(what, result.status()));
  }
  return work;
}

// ---- collectives ----

c10::intrusive_ptr<c10d::Work> ProcessGroupMoonComm::broadcast(std::vector<at::Tensor>& tensors,
                                                               const c10d::BroadcastOptions& opts) {
  CheckOne(tensors, "broadcast");
  CheckRoot(opts.rootRank, size_, "broadcast");
  at::Tensor t = tensors[0];
  const DataType type = ToDataType(t, "broadcast");
  return RunCollective(c10d::OpType::BROADCAST, tensors, "broadcast", [&]() -> Collectives::Result {
    Staged buf(t, /*copy_in=*/rank_ == opts.rootRank);
    auto r = coll().Broadcast(buf.data(), buf.numel(), type, static_cast<int>(opts.rootRank));
    if (r.ok()) buf.CopyBack();
    return r;
  });
}

c10::intrusive_ptr<c10d::Work> ProcessGroupMoonComm::allreduce(std::vector<at::Tensor>& tensors,
                                                               const c10d::AllreduceOptions& opts) {
  CheckOne(tensors, "all_reduce");
  TORCH_CHECK_VALUE(!opts.sparseIndices.has_value(), "mooncomm all_reduce: sparse tensors are not supported");
  at::Tensor t = tensors[0];
  const DataType type = ToDataType(t, "all_reduce");
  const ReduceOp op = ToReduceOp(opts.reduceOp, "all_reduce");
  return RunCollective(c10d::OpType::ALLREDUCE, tensors, "all_reduce", [&]() -> Collectives::Result {
    Staged buf(t);
    auto r = coll().Allreduce(buf.data(), buf.data(), buf.numel(), type, op);
    if (r.ok()) buf.CopyBack();
    return r;
  });
}

c10::intrusive_ptr<c10d::Work> ProcessGroupMoonComm::allreduce_coalesced(std::vector<at::Tensor>& tensors,
                                                                         const c10d::AllreduceCoalescedOptions& opts) {
  TORCH_CHECK_VALUE(!tensors.empty(), "mooncomm all_reduce_coalesced: no tensors");
  for (const at::Tensor& t : tensors) CheckCpu(t, "all_reduce_coalesced");
  for (size_t i = 1; i < tensors.size(); ++i) {
    TORCH_CHECK_VALUE(tensors[i].scalar_type() == tensors[0].scalar_type(), "mooncomm all_reduce_coalesced: tensor ",
                      i, " is ", tensors[i].scalar_type(), " where tensor 0 is ", tensors[0].scalar_type(),
                      " (one dtype per call)");
  }
  const DataType type = ToDataType(tensors[0], "all_reduce_coalesced");
  const ReduceOp op = ToReduceOp(opts.reduceOp, "all_reduce_coalesced");
  return RunCollective(c10d::OpType::ALLREDUCE_COALESCED, tensors, "all_reduce_coalesced",
                       [&]() -> Collectives::Result {
                         // One collective over the tensors laid end to end.
                         at::Tensor flat = Pack(tensors, tensors[0], TotalNumel(tensors));
                         auto r = coll().Allreduce(flat.data_ptr(), flat.data_ptr(), flat.numel(), type, op);
                         if (r.ok()) Unpack(flat, tensors);
                         return r;
                       });
}

c10::intrusive_ptr<c10d::Work> ProcessGroupMoonComm::reduce(std::vector<at::Tensor>& tensors,
                                                            const c10d::ReduceOptions& opts) {
  CheckOne(tensors, "reduce");
  CheckRoot(opts.rootRank, size_, "reduce");
  at::Tensor t = tensors[0];
  const DataType type = ToDataType(t, "reduce");
  const ReduceOp op = ToReduceOp(opts.reduceOp, "reduce");
  const int root = static_cast<int>(opts.rootRank);
  return RunCollective(c10d::OpType::REDUCE, tensors, "reduce", [&]() -> Collectives::Result {
    Staged buf(t);
    auto r = coll().Reduce(buf.data(), buf.data(), buf.numel(), type, op, root);
    if (r.ok() && rank_ == root) buf.CopyBack();
    return r;
  });
}

c10::intrusive_ptr<c10d::Work> ProcessGroupMoonComm::allgather(std::vector<std::vector<at::Tensor>>& outputs,
                                                               std::vector<at::Tensor>& inputs,
                                                               const c10d::AllgatherOptions& /*opts*/) {
  CheckOne(inputs, "all_gather");
  TORCH_CHECK_VALUE(outputs.size() == 1, "mooncomm all_gather: takes one output list per call (got ", outputs.size(),
                    ")");
  CheckCount(outputs[0], size_, "all_gather", "the output list");
  CheckSameAs(outputs[0], inputs[0], "all_gather", "output");
  at::Tensor in = inputs[0];
  std::vector<at::Tensor>& outs = outputs[0];
  const DataType type = ToDataType(in, "all_gather");
  return RunCollective(c10d::OpType::ALLGATHER, outs, "all_gather", [&]() -> Collectives::Result {
    Staged src(in);
    at::Tensor flat = at::empty({static_cast<int64_t>(size_) * in.numel()}, in.options());
    auto r = coll().Allgather(src.data(), flat.data_ptr(), src.numel(), type);
    if (r.ok()) Unpack(flat, outs);
    return r;
  });
}

c10::intrusive_ptr<c10d::Work> ProcessGroupMoonComm::_allgather_base(at::Tensor& output, at::Tensor& input,
                                                                     const c10d::AllgatherOptions& /*opts*/) {
  CheckCpu(input, "all_gather_into_tensor");
  CheckCpu(output, "all_gather_into_tensor");
  TORCH_CHECK_VALUE(output.scalar_type() == input.scalar_type(), "mooncomm all_gather_into_tensor: output is ",
                    output.scalar_type(), " where the input is ", input.scalar_type());
  TORCH_CHECK_VALUE(output.numel() == input.numel() * size_, "mooncomm all_gather_into_tensor: output has ",
                    output.numel(), " elements where ", size_, " x ", input.numel(), " were expected");
  const DataType type = ToDataType(input, "all_gather_into_tensor");
  return RunCollective(c10d::OpType::_ALLGATHER_BASE, {output}, "all_gather_into_tensor", [&]() -> Collectives::Result {
    Staged src(input);
    Staged dst(output, /*copy_in=*/false);
    auto r = coll().Allgather(src.data(), dst.data(), src.numel(), type);
    if (r.ok()) dst.CopyBack();
    return r;
  });
}

c10::intrusive_ptr<c10d::Work> ProcessGroupMoonComm::allgather_coalesced(
    std::vector<std::vector<at::Tensor>>& outputs, std::vector<at::Tensor>& inputs, const c10d::AllgatherOptions& opts) {
  // outputs[rank][i] receives rank's inputs[i] (torch.distributed's layout).
  TORCH_CHECK_VALUE(outputs.size() == static_cast<size_t>(size_), "mooncomm all_gather_coalesced: ", outputs.size(),
                    " output lists where the group has ", size_, " ranks");
  for (int r = 0; r < size_; ++r) {
    TORCH_CHECK_VALUE(outputs[r].size() == inputs.size(), "mooncomm all_gather_coalesced: output list ", r, " has ",
                      outputs[r].size(), " tensors for ", inputs.size(), " inputs");
  }
  c10::intrusive_ptr<c10d::Work> last;
  std::vector<at::Tensor> all;
  for (size_t i = 0; i < inputs.size(); ++i) {
    std::vector<at::Tensor> one{inputs[i]};
    std::vector<std::vector<at::Tensor>> out(1);
    for (int r = 0; r < size_; ++r) out[0].push_back(outputs[r][i]);
    last = allgather(out, one, opts);
    last->wait();  // finished already (collectives run in the calling thread); throws its error
  }
  for (auto& list : outputs) all.insert(all.end(), list.begin(), list.end());
  return CoalescedWork(c10d::OpType::ALLGATHER_COALESCED, all, last);
}

c10::intrusive_ptr<c10d::Work> ProcessGroupMoonComm::allgather_into_tensor_coalesced(
    std::vector<at::Tensor>& outputs, std::vector<at::Tensor>& inputs, const c10d::AllgatherOptions& opts) {
  TORCH_CHECK_VALUE(outputs.size() == inputs.size(), "mooncomm all_gather_into_tensor_coalesced: ", outputs.size(),
                    " outputs for ", inputs.size(), " inputs");
  c10::intrusive_ptr<c10d::Work> last;
  for (size_t i = 0; i < inputs.size(); ++i) {
    last = _allgather_base(outputs[i], inputs[i], opts);
    last->wait();
  }
  return CoalescedWork(c10d::OpType::COALESCED, outputs, last);
}

c10::intrusive_ptr<c10d::Work> ProcessGroupMoonComm::gather(std::vector<std::vector<at::Tensor>>& outputs,
                                                            std::vector<at::Tensor>& inputs,
                                                            const c10d::GatherOptions& opts) {
  CheckOne(inputs, "gather");
  CheckRoot(opts.rootRank, size_, "gather");
  const int root = static_cast<int>(opts.rootRank);
  at::Tensor in = inputs[0];
  if (rank_ == root) {
    TORCH_CHECK_VALUE(outputs.size() == 1, "mooncomm gather: the root takes one output list (got ", outputs.size(),
                      ")");
    CheckCount(outputs[0], size_, "gather", "the root's output list");
    CheckSameAs(outputs[0], in, "gather", "output");
  } else {
    TORCH_CHECK_VALUE(outputs.empty() || (outputs.size() == 1 && outputs[0].empty()),
                      "mooncomm gather: only the root (rank ", root, ") passes an output list");
  }
  const DataType type = ToDataType(in, "gather");
  std::vector<at::Tensor> outs = rank_ == root ? outputs[0] : std::vector<at::Tensor>{};
  return RunCollective(c10d::OpType::GATHER, outs, "gather", [&]() -> Collectives::Result {
    Staged src(in);
    at::Tensor flat = rank_ == root ? at::empty({static_cast<int64_t>(size_) * in.numel()}, in.options()) : at::Tensor();
    auto r = coll().Gather(src.data(), flat.defined() ? flat.data_ptr() : nullptr, src.numel(), type, root);
    if (r.ok() && rank_ == root) Unpack(flat, outs);
    return r;
  });
}

c10::intrusive_ptr<c10d::Work> ProcessGroupMoonComm::scatter(std::vector<at::Tensor>& outputs,
                                                             std::vector<std::vector<at::Tensor>>& inputs,
                                                             const c10d::ScatterOptions& opts) {
  CheckOne(outputs, "scatter");
  CheckRoot(opts.rootRank, size_, "scatter");
  const int root = static_cast<int>(opts.rootRank);
  at::Tensor out = outputs[0];
  if (rank_ == root) {
    TORCH_CHECK_VALUE(inputs.size() == 1, "mooncomm scatter: the root takes one input list (got ", inputs.size(), ")");
    CheckCount(inputs[0], size_, "scatter", "the root's input list");
    CheckSameAs(inputs[0], out, "scatter", "input");
  } else {
    TORCH_CHECK_VALUE(inputs.empty() || (inputs.size() == 1 && inputs[0].empty()),
                      "mooncomm scatter: only the root (rank ", root, ") passes an input list");
  }
  const DataType type = ToDataType(out, "scatter");
  return RunCollective(c10d::OpType::SCATTER, outputs, "scatter", [&]() -> Collectives::Result {
    at::Tensor flat = rank_ == root ? Pack(inputs[0], out, static_cast<int64_t>(size_) * out.numel()) : at::Tensor();
    Staged dst(out, /*copy_in=*/false);
    auto r = coll().Scatter(flat.defined() ? flat.data_ptr() : nullptr, dst.data(), dst.numel(), type, root);
    if (r.ok()) dst.CopyBack();
    return r;
  });
}

c10::intrusive_ptr<c10d::Work> ProcessGroupMoonComm::reduce_scatter(std::vector<at::Tensor>& outputs,
                                                                    std::vector<std::vector<at::Tensor>>& inputs,
                                                                    const c10d::ReduceScatterOptions& opts) {
  CheckOne(outputs, "reduce_scatter");
  TORCH_CHECK_VALUE(inputs.size() == 1, "mooncomm reduce_scatter: takes one input list per call (got ", inputs.size(),
                    ")");
  at::Tensor out = outputs[0];
  CheckCount(inputs[0], size_, "reduce_scatter", "the input list");
  CheckSameAs(inputs[0], out, "reduce_scatter", "input");
  const DataType type = ToDataType(out, "reduce_scatter");
  const ReduceOp op = ToReduceOp(opts.reduceOp, "reduce_scatter");
  return RunCollective(c10d::OpType::REDUCE_SCATTER, outputs, "reduce_scatter", [&]() -> Collectives::Result {
    at::Tensor flat = Pack(inputs[0], out, static_cast<int64_t>(size_) * out.numel());
    Staged dst(out, /*copy_in=*/false);
    auto r = coll().ReduceScatter(flat.data_ptr(), dst.data(), dst.numel(), type, op);
    if (r.ok()) dst.CopyBack();
    return r;
  });
}

c10::intrusive_ptr<c10d::Work> ProcessGroupMoonComm::_reduce_scatter_base(at::Tensor& output, at::Tensor& input,
                                                                          const c10d::ReduceScatterOptions& opts) {
  CheckCpu(input, "reduce_scatter_tensor");
  CheckCpu(output, "reduce_scatter_tensor");
  TORCH_CHECK_VALUE(output.scalar_type() == input.scalar_type(), "mooncomm reduce_scatter_tensor: output is ",
                    output.scalar_type(), " where the input is ", input.scalar_type());
  TORCH_CHECK_VALUE(input.numel() == output.numel() * size_, "mooncomm reduce_scatter_tensor: input has ",
                    input.numel(), " elements where ", size_, " x ", output.numel(), " were expected");
  const DataType type = ToDataType(input, "reduce_scatter_tensor");
  const ReduceOp op = ToReduceOp(opts.reduceOp, "reduce_scatter_tensor");
  return RunCollective(c10d::OpType::_REDUCE_SCATTER_BASE, {output}, "reduce_scatter_tensor",
                       [&]() -> Collectives::Result {
                         Staged src(input);
                         Staged dst(output, /*copy_in=*/false);
                         auto r = coll().ReduceScatter(src.data(), dst.data(), dst.numel(), type, op);
                         if (r.ok()) dst.CopyBack();
                         return r;
                       });
}

c10::intrusive_ptr<c10d::Work> ProcessGroupMoonComm::reduce_scatter_tensor_coalesced(
    std::vector<at::Tensor>& outputs, std::vector<at::Tensor>& inputs, const c10d::ReduceScatterOptions& opts) {
  TORCH_CHECK_VALUE(outputs.size() == inputs.size(), "mooncomm reduce_scatter_tensor_coalesced: ", outputs.size(),
                    " outputs for ", inputs.size(), " inputs");
  c10::intrusive_ptr<c10d::Work> last;
  for (size_t i = 0; i < inputs.size(); ++i) {
    last = _reduce_scatter_base(outputs[i], inputs[i], opts);
    last->wait();
  }
  return CoalescedWork(c10d::OpType::COALESCED, outputs, last);
}

c10::intrusive_ptr<c10d::Work> ProcessGroupMoonComm::alltoall_base(at::Tensor& output, at::Tensor& input,
                                                                   std::vector<int64_t>& output_split_sizes,
                                                                   std::vector<int64_t>& input_split_sizes,
                                                                   const c10d::AllToAllOptions& /*opts*/) {
  CheckCpu(input, "all_to_all_single");
  CheckCpu(output, "all_to_all_single");
  TORCH_CHECK_VALUE(output.scalar_type() == input.scalar_type(), "mooncomm all_to_all_single: output is ",
                    output.scalar_type(), " where the input is ", input.scalar_type());
  const DataType type = ToDataType(input, "all_to_all_single");
  if (output_split_sizes.empty() && input_split_sizes.empty()) {
    TORCH_CHECK_VALUE(input.numel() == output.numel(), "mooncomm all_to_all_single: input has ", input.numel(),
                      " elements and output ", output.numel(), "; without split sizes they must be equal");
    TORCH_CHECK_VALUE(input.numel() % size_ == 0, "mooncomm all_to_all_single: ", input.numel(),
                      " elements do not split evenly over ", size_, " ranks; pass split sizes");
    return RunCollective(c10d::OpType::ALLTOALL_BASE, {output}, "all_to_all_single", [&]() -> Collectives::Result {
      Staged src(input);
      Staged dst(output, /*copy_in=*/false);
      auto r = coll().Alltoall(src.data(), dst.data(), src.numel() / size_, type);
      if (r.ok()) dst.CopyBack();
      return r;
    });
  }
  // Split sizes count rows (the first dimension); an empty list splits evenly.
  auto counts = [&](const at::Tensor& t, const std::vector<int64_t>& splits, const char* which) {
    const int64_t rows = t.dim() == 0 ? 1 : t.size(0);
    const int64_t row = rows == 0 ? 0 : t.numel() / rows;
    std::vector<size_t> c(size_);
    if (splits.empty()) {
      TORCH_CHECK_VALUE(rows % size_ == 0, "mooncomm all_to_all_single: ", which, " has ", rows,
                        " rows, which do not split evenly over ", size_, " ranks");
      std::fill(c.begin(), c.end(), static_cast<size_t>(rows / size_ * row));
      return c;
    }
    TORCH_CHECK_VALUE(splits.size() == static_cast<size_t>(size_), "mooncomm all_to_all_single: ", which,
                      " split sizes have ", splits.size(), " entries where the group has ", size_, " ranks");
    int64_t sum = 0;
    for (int i = 0; i < size_; ++i) {
      TORCH_CHECK_VALUE(splits[i] >= 0, "mooncomm all_to_all_single: negative ", which, " split size ", splits[i]);
      sum += splits[i];
      c[i] = static_cast<size_t>(splits[i] * row);
    }
    TORCH_CHECK_VALUE(sum == rows, "mooncomm all_to_all_single: ", which, " split sizes add up to ", sum, " rows but ",
                      which, " has ", rows);
    return c;
  };
  std::vector<size_t> send_counts = counts(input, input_split_sizes, "input");
  std::vector<size_t> recv_counts = counts(output, output_split_sizes, "output");
  std::vector<size_t> send_displs(size_, 0), recv_displs(size_, 0);
  std::exclusive_scan(send_counts.begin(), send_counts.end(), send_displs.begin(), size_t{0});
  std::exclusive_scan(recv_counts.begin(), recv_counts.end(), recv_displs.begin(), size_t{0});
  return RunCollective(c10d::OpType::ALLTOALL_BASE, {output}, "all_to_all_single", [&]() -> Collectives::Result {
    Staged src(input);
    Staged dst(output, /*copy_in=*/false);
    auto r = coll().Alltoallv(src.data(), send_counts, send_displs, dst.data(), recv_counts, recv_displs, type);
    if (r.ok()) dst.CopyBack();
    return r;
  });
}

c10::intrusive_ptr<c10d::Work> ProcessGroupMoonComm::alltoall(std::vector<at::Tensor>& outputs,
                                                              std::vector<at::Tensor>& inputs,
                                                              const c10d::AllToAllOptions& /*opts*/) {
  CheckCount(inputs, size_, "all_to_all", "the input list");
  CheckCount(outputs, size_, "all_to_all", "the output list");
  for (const at::Tensor& t : inputs) CheckCpu(t, "all_to_all");
  for (const at::Tensor& t : outputs) CheckCpu(t, "all_to_all");
  for (int i = 0; i < size_; ++i) {
    TORCH_CHECK_VALUE(inputs[i].scalar_type() == inputs[0].scalar_type() &&
                          outputs[i].scalar_type() == inputs[0].scalar_type(),
                      "mooncomm all_to_all: every tensor must have one dtype (input 0 is ", inputs[0].scalar_type(),
                      ", input ", i, " ", inputs[i].scalar_type(), ", output ", i, " ", outputs[i].scalar_type(), ")");
  }
  const DataType type = ToDataType(inputs[0], "all_to_all");
  std::vector<size_t> send_counts(size_), recv_counts(size_), send_displs(size_), recv_displs(size_);
  for (int i = 0; i < size_; ++i) {
    send_counts[i] = static_cast<size_t>(inputs[i].numel());
    recv_counts[i] = static_cast<size_t>(outputs[i].numel());
  }
  std::exclusive_scan(send_counts.begin(), send_counts.end(), send_displs.begin(), size_t{0});
  std::exclusive_scan(recv_counts.begin(), recv_counts.end(), recv_displs.begin(), size_t{0});
  return RunCollective(c10d::OpType::ALLTOALL, outputs, "all_to_all", [&]() -> Collectives::Result {
    at::Tensor src = Pack(inputs, inputs[0], TotalNumel(inputs));
    at::Tensor dst = at::empty({TotalNumel(outputs)}, inputs[0].options());
    auto r = coll().Alltoallv(src.data_ptr(), send_counts, send_displs, dst.data_ptr(), recv_counts, recv_displs, type);
    if (r.ok()) Unpack(dst, outputs);
    return r;
  });
}

c10::intrusive_ptr<c10d::Work> ProcessGroupMoonComm::barrier(const c10d::BarrierOptions& /*opts*/) {
  return RunCollective(c10d::OpType::BARRIER, {}, "barrier", [&]() { return coll().Barrier(); });
}

// ---- point-to-point ----

ProcessGroupMoonComm::PendingP2P ProcessGroupMoonComm::MakeP2P(bool is_send, std::vector<at::Tensor>& tensors,
                                                              int peer, int tag) {
  const char* what = is_send ? "send" : "recv";
  CheckOne(tensors, what);
  TORCH_CHECK_VALUE(peer >= 0 && peer < size_, "mooncomm ", what, ": rank ", peer, " is outside the group (size ",
                    size_, ")");
  TORCH_CHECK_VALUE(peer != rank_, "mooncomm ", what, ": rank ", peer, " is this rank; copy the tensor instead");
  PendingP2P op;
  op.is_send = is_send;
  op.peer = peer;
  op.tag = static_cast<uint32_t>(tag);  // user tags stay far below the collectives' (bit 63)
  op.user = tensors[0];
  op.buffer = op.user.is_contiguous() ? op.user : (is_send ? op.user.contiguous() : at::empty_like(op.user, at::MemoryFormat::Contiguous));
  return op;
}

c10::intrusive_ptr<c10d::Work> ProcessGroupMoonComm::PostP2P(c10d::OpType type, std::vector<PendingP2P> ops) {
  std::vector<at::Tensor> outputs;
  std::vector<int> members{rank_};
  for (const PendingP2P& op : ops) {
    if (!op.is_send) outputs.push_back(op.user);
    members.push_back(op.peer);
  }
  std::sort(members.begin(), members.end());
  members.erase(std::unique(members.begin(), members.end()), members.end());
  auto work = c10::make_intrusive<MoonCommWork>(rank_, type, outputs);

  std::vector<Request> requests(ops.size());
  absl::Status posted;
  {
    std::lock_guard<std::mutex> lock(op_mu_);
    (void)coll();
    // Every operation is posted before any is waited on: no posting order
    // across ranks can deadlock.
    for (size_t i = 0; i < ops.size() && posted.ok(); ++i) {
      const PendingP2P& op = ops[i];
      const size_t bytes = op.buffer.numel() * op.buffer.element_size();
      posted = op.is_send ? comm_->Isend(op.peer, op.tag, op.buffer.data_ptr(), bytes, &requests[i])
                          : comm_->Irecv(op.peer, op.tag, op.buffer.data_ptr(), bytes, &requests[i]);
    }
  }
  at::Tensor active = active_ranks_;
  auto on_failure = [active](const absl::Status& s) mutable {
    if (std::optional<int> peer = FailedPeerOf(s); peer.has_value()) active.data_ptr<int32_t>()[*peer] = 0;
  };
  if (!posted.ok()) {
    on_failure(posted);
    requests.clear();  // the posted ones finish in the background
    work->Fail(ToException(c10d::opTypeToString(type).c_str(), posted));
    return work;
  }
  auto on_done = [ops]() mutable {
    for (PendingP2P& op : ops) {
      if (!op.is_send && !op.buffer.is_same(op.user)) op.user.copy_(op.buffer);
    }
  };
  work->SetRequests(comm_.get(), std::move(requests), members, on_done, on_failure, progress_);
  progress_->Track(work);
  return work;
}

c10::intrusive_ptr<c10d::Work> ProcessGroupMoonComm::send(std::vector<at::Tensor>& tensors, int dst, int tag) {
  PendingP2P op = MakeP2P(/*is_send=*/true, tensors, dst, tag);
  if (coalescing_) {
    coalesced_p2p_.push_back(std::move(op));
    return coalesced_work();
  }
  return PostP2P(c10d::OpType::SEND, {std::move(op)});
}

c10::intrusive_ptr<c10d::Work> ProcessGroupMoonComm::recv(std::vector<at::Tensor>& tensors, int src, int tag) {
  PendingP2P op = MakeP2P(/*is_send=*/false, tensors, src, tag);
  if (coalescing_) {
    coalesced_p2p_.push_back(std::move(op));
    return coalesced_work();
  }
  return PostP2P(c10d::OpType::RECV, {std::move(op)});
}

c10::intrusive_ptr<c10d::Work> ProcessGroupMoonComm::recvAnysource(std::vector<at::Tensor>& /*tensors*/, int /*tag*/) {
  TORCH_CHECK_VALUE(false, "mooncomm recv: receiving from any source is not supported; name the source rank");
}

void ProcessGroupMoonComm::startCoalescing() {
  TORCH_CHECK_VALUE(!coalescing_, "mooncomm: coalescing has already started (nested coalescing managers?)");
  coalescing_ = true;
  coalesced_p2p_.clear();
  coalesced_placeholder_.reset();
}

c10::intrusive_ptr<c10d::Work> ProcessGroupMoonComm::coalesced_work() {
  // Inside a coalescing block each send/recv returns a Work that finishes
  // with the whole batch; torch.distributed keeps the one endCoalescing returns.
  if (!coalesced_placeholder_) {
    coalesced_placeholder_ = c10::make_intrusive<MoonCommWork>(rank_, c10d::OpType::COALESCED, std::vector<at::Tensor>{});
  }
  return coalesced_placeholder_;
}

c10::intrusive_ptr<c10d::Work> ProcessGroupMoonComm::endCoalescing() {
  TORCH_CHECK_VALUE(coalescing_, "mooncomm: endCoalescing without startCoalescing");
  coalescing_ = false;
  std::vector<PendingP2P> ops = std::move(coalesced_p2p_);
  coalesced_p2p_.clear();
  c10::intrusive_ptr<MoonCommWork> placeholder = std::move(coalesced_placeholder_);
  coalesced_placeholder_.reset();
  if (ops.empty()) {
    auto work = c10::make_intrusive<MoonCommWork>(rank_, c10d::OpType::COALESCED, std::vector<at::Tensor>{});
    work->Finish({rank_});
    return work;
  }
  c10::intrusive_ptr<c10d::Work> work = PostP2P(c10d::OpType::COALESCED, std::move(ops));
  if (placeholder) {
    // The placeholder follows the batch.
    auto batch = c10::static_intrusive_pointer_cast<MoonCommWork>(work);
    batch->future()->addCallback([placeholder, batch](c10::ivalue::Future& f) {
      if (f.hasError()) {
        placeholder->Fail(f.exception_ptr());
      } else {
        placeholder->Finish(batch->participants());
      }
    });
  }
  return work;
}

}  // namespace mc::torch_backend
