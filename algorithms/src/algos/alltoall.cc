// Alltoall and alltoallv: every member sends one block to every other member.
// Direct posts everything at once; pairwise walks the ring in n-1 steps (step
// k: send to me+k, receive from me-k) with a few steps in flight.
#include <algorithm>
#include <cstring>
#include <deque>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "algos/common.h"
#include "algos/registry.h"

namespace mc::algo {
namespace {

// Steps of the pairwise exchange in flight at once.
constexpr size_t kPairwiseWindow = 4;
constexpr uint32_t kDirectStep = 0;

// Where each communicator rank's blocks sit in send and recv, in bytes.
class BlockLayout {
 public:
  explicit BlockLayout(const CollArgs& args)
      : args_(args), vector_(args.kind == CollectiveKind::kAlltoallv), block_(args.count * args.elem) {}

  size_t SendOffset(int rank) const {
    return vector_ ? args_.send_displs[rank] * args_.elem : static_cast<size_t>(rank) * block_;
  }
  size_t SendBytes(int rank) const { return vector_ ? args_.send_counts[rank] * args_.elem : block_; }
  size_t RecvOffset(int rank) const {
    return vector_ ? args_.recv_displs[rank] * args_.elem : static_cast<size_t>(rank) * block_;
  }
  size_t RecvBytes(int rank) const { return vector_ ? args_.recv_counts[rank] * args_.elem : block_; }

  // Alltoall of empty blocks moves nothing, and every member knows it.
  // (Alltoallv always exchanges a message per pair, even an empty one, so
  // that counts that disagree between two ranks fail instead of hanging.)
  bool Empty() const { return !vector_ && block_ == 0; }

  // Alltoallv's tables must cover every member's rank.
  absl::Status Check(const Group& group) const {
    if (!vector_) return absl::OkStatus();
    const size_t need = static_cast<size_t>(group.ranks.back()) + 1;
    for (absl::Span<const size_t> t : {args_.send_counts, args_.send_displs, args_.recv_counts, args_.recv_displs}) {
      if (t.size() < need) {
        return absl::InvalidArgumentError(
            absl::StrCat("alltoallv: counts and displacements need ", need, " entries, got ", t.size()));
      }
    }
    return absl::OkStatus();
  }

 private:
  const CollArgs& args_;
  const bool vector_;
  const size_t block_;
};

// Whether my own block already sits where it belongs (alltoall in place).
bool OwnBlockInPlace(const Attempt& a, const CollArgs& args, const BlockLayout& layout) {
  const int r = a.group().rank_of(a.me());
  return args.send_bytes() + layout.SendOffset(r) == args.recv_bytes() + layout.RecvOffset(r);
}

// The buffer to send from. In place, the receives overwrite blocks that are
// still to be sent, so they are sent from a copy in scratch, laid out like
// send (my own block too, unless it is already in its place).
const char* SendSource(Attempt& a, const CollArgs& args, const BlockLayout& layout) {
  if (args.send != args.recv) return args.send_bytes();
  const Group& g = a.group();
  const bool skip_own = OwnBlockInPlace(a, args, layout);
  size_t extent = 0;
  for (int i = 0; i < g.size(); ++i) {
    if (i == g.me && skip_own) continue;
    extent = std::max(extent, layout.SendOffset(g.rank_of(i)) + layout.SendBytes(g.rank_of(i)));
  }
  char* copy = static_cast<char*>(a.Scratch(extent));
  for (int i = 0; i < g.size(); ++i) {
    const int r = g.rank_of(i);
    if ((i == g.me && skip_own) || layout.SendBytes(r) == 0) continue;
    CopyBytes(copy + layout.SendOffset(r), args.send_bytes() + layout.SendOffset(r), layout.SendBytes(r));
  }
  return copy;
}

// My own block is a local copy, from `send` (see SendSource).
absl::Status CopyOwnBlock(const Attempt& a, const CollArgs& args, const BlockLayout& layout, const char* send) {
  const int r = a.group().rank_of(a.me());
  if (layout.SendBytes(r) != layout.RecvBytes(r)) {
    return absl::InvalidArgumentError(absl::StrCat("alltoallv: rank ", r, " sends itself ", layout.SendBytes(r),
                                                   " bytes but expects ", layout.RecvBytes(r)));
  }
  if (OwnBlockInPlace(a, args, layout) || layout.RecvBytes(r) == 0) return absl::OkStatus();
  CopyBytes(args.recv_bytes() + layout.RecvOffset(r), send + layout.SendOffset(r), layout.RecvBytes(r));
  return absl::OkStatus();
}

// The receive from the member k places before me (ring step k).
absl::Status PostRecv(Attempt& a, const CollArgs& args, const BlockLayout& layout, int k, uint32_t step,
                      std::vector<Attempt::Op>& ops) {
  const int from = a.group().ring(-k);
  const int rank = a.group().rank_of(from);
  MC_ALGO_POST(ops, a.Irecv(from, step, args.recv_bytes() + layout.RecvOffset(rank), layout.RecvBytes(rank)));
  return absl::OkStatus();
}

// The send to the member k places after me (ring step k).
absl::Status PostSend(Attempt& a, const BlockLayout& layout, const char* send, int k, uint32_t step,
                      std::vector<Attempt::Op>& ops) {
  const int to = a.group().ring(k);
  const int rank = a.group().rank_of(to);
  MC_ALGO_POST(ops, a.Isend(to, step, send + layout.SendOffset(rank), layout.SendBytes(rank)));
  return absl::OkStatus();
}

}  // namespace

absl::Status AlltoallvDirect(Attempt& a, const CollArgs& args) {
  const BlockLayout layout(args);
  MC_ALGO_RETURN_IF_ERROR(layout.Check(a.group()));
  if (layout.Empty()) return absl::OkStatus();
  const char* send = SendSource(a, args, layout);
  MC_ALGO_RETURN_IF_ERROR(CopyOwnBlock(a, args, layout, send));
  // Each pair exchanges one message each way, so one step serves them all.
  std::vector<Attempt::Op> ops;
  for (int k = 1; k < a.size(); ++k) MC_ALGO_RETURN_IF_ERROR(PostRecv(a, args, layout, k, kDirectStep, ops));
  for (int k = 1; k < a.size(); ++k) MC_ALGO_RETURN_IF_ERROR(PostSend(a, layout, send, k, kDirectStep, ops));
  return WaitAndClear(a, ops);
}

absl::Status AlltoallvPairwise(Attempt& a, const CollArgs& args) {
  const BlockLayout layout(args);
  MC_ALGO_RETURN_IF_ERROR(layout.Check(a.group()));
  if (layout.Empty()) return absl::OkStatus();
  const char* send = SendSource(a, args, layout);
  MC_ALGO_RETURN_IF_ERROR(CopyOwnBlock(a, args, layout, send));
  // A sliding window: step k is posted once step k - kPairwiseWindow is
  // done. Every member posts the steps in the same order, so the oldest step
  // in flight always has its peers' matching operations posted too.
  std::deque<std::vector<Attempt::Op>> in_flight;
  for (int k = 1; k < a.size(); ++k) {
    if (in_flight.size() == kPairwiseWindow) {
      MC_ALGO_RETURN_IF_ERROR(WaitAndClear(a, in_flight.front()));
      in_flight.pop_front();
    }
    const auto step = static_cast<uint32_t>(k);
    std::vector<Attempt::Op>& ops = in_flight.emplace_back();
    MC_ALGO_RETURN_IF_ERROR(PostRecv(a, args, layout, k, step, ops));
    MC_ALGO_RETURN_IF_ERROR(PostSend(a, layout, send, k, step, ops));
  }
  for (; !in_flight.empty(); in_flight.pop_front()) {
    MC_ALGO_RETURN_IF_ERROR(WaitAndClear(a, in_flight.front()));
  }
  return absl::OkStatus();
}

}  // namespace mc::algo
