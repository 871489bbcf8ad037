#include "algos/tree_allreduce.h"

#include <cstring>

#include "reduce/reduce_kernels.h"

namespace mc::algo {

TreeAllreduce::TreeAllreduce(Attempt& a, const CollArgs& args, TreeLinks links, Range range, uint32_t step_base)
    : a_(a), args_(args), links_(std::move(links)), range_(range), step_base_(step_base) {
  chunk_ = ChunkElems(args, range.count);
  chunks_ = NumChunks(range.count, chunk_);
  const size_t bytes = std::min(chunk_, std::max<size_t>(range.count, 1)) * args.elem;
  for (auto& buffers : tmp_) {
    for (size_t i = 0; i < links_.children.size(); ++i) buffers.push_back(static_cast<char*>(a.Scratch(bytes)));
  }
  climb_recvs_.resize(chunks_);
}

Range TreeAllreduce::ChunkRange(size_t c) const {
  size_t begin = std::min(range_.count, c * chunk_);
  return {range_.offset + begin, std::min(chunk_, range_.count - begin)};
}

absl::Status TreeAllreduce::PostClimb(size_t c) {
  if (c >= chunks_) return absl::OkStatus();
  Range r = ChunkRange(c);
  for (size_t i = 0; i < links_.children.size(); ++i) {
    MC_ALGO_POST(climb_recvs_[c], a_.Irecv(links_.children[i], step_base_, tmp_[c % 2][i], r.count * args_.elem));
  }
  return absl::OkStatus();
}

absl::Status TreeAllreduce::Reduce(size_t c) {
  const size_t E = args_.elem;
  Range r = ChunkRange(c);
  char* acc = args_.recv_bytes() + r.offset * E;
  const char* mine = args_.send_bytes() + r.offset * E;
  MC_ALGO_RETURN_IF_ERROR(a_.WaitAll(climb_recvs_[c]));
  const char* up = mine;  // a leaf sends its input as it is
  if (!links_.children.empty()) {
    Reduce2(acc, mine, tmp_[c % 2][0], r.count, args_.type, args_.op);
    for (size_t i = 1; i < links_.children.size(); ++i) {
      ReduceInto(acc, tmp_[c % 2][i], r.count, args_.type, args_.op);
    }
    up = acc;
  }
  if (links_.parent >= 0) {
    MC_ALGO_POST(sends_, a_.Isend(links_.parent, step_base_, up, r.count * E));
  } else {
    if (links_.children.empty() && acc != mine) CopyBytes(acc, mine, r.count * E);
    if (args_.op == ReduceOp::kAvg) DivideBy(acc, r.count, args_.type, a_.size());
  }
  return absl::OkStatus();
}

absl::Status TreeAllreduce::FinishClimb() { return WaitAndClear(a_, sends_); }

absl::Status TreeAllreduce::PostDescent() {
  if (links_.parent < 0) return absl::OkStatus();
  for (size_t c = 0; c < chunks_; ++c) {
    Range r = ChunkRange(c);
    MC_ALGO_POST(descent_recvs_,
                 a_.Irecv(links_.parent, step_base_ + 1, args_.recv_bytes() + r.offset * args_.elem,
                          r.count * args_.elem));
  }
  return absl::OkStatus();
}

absl::Status TreeAllreduce::Descend(size_t c) {
  Range r = ChunkRange(c);
  if (links_.parent >= 0) MC_ALGO_RETURN_IF_ERROR(a_.Wait(descent_recvs_[c]));
  // Largest subtree first: its descent takes longest.
  for (auto it = links_.children.rbegin(); it != links_.children.rend(); ++it) {
    MC_ALGO_POST(sends_, a_.Isend(*it, step_base_ + 1, args_.recv_bytes() + r.offset * args_.elem,
                                  r.count * args_.elem));
  }
  return absl::OkStatus();
}

absl::Status TreeAllreduce::Finish() { return WaitAndClear(a_, sends_); }

}  // namespace mc::algo
