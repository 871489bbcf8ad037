// Broadcast from args.root (a communicator rank) to the group.
#include "algos/common.h"
#include "algos/registry.h"

namespace mc::algo {
namespace {

struct Chunking {
  size_t bytes, chunk, chunks;
  size_t len(size_t c) const { return std::min(chunk, bytes - std::min(bytes, c * chunk)); }
};

Chunking ChunksOf(const CollArgs& args) {
  size_t bytes = args.count * args.elem;
  size_t chunk = args.chunk_bytes ? args.chunk_bytes : std::max<size_t>(bytes, 1);
  return {bytes, chunk, bytes == 0 ? 1 : (bytes + chunk - 1) / chunk};
}

// Receives every chunk from `from` (unless this member is the root) and
// passes each on to `to`, in order, as soon as it is in.
absl::Status Relay(Attempt& a, const CollArgs& args, int from, const std::vector<int>& to, uint32_t step) {
  Chunking ch = ChunksOf(args);
  char* buf = args.recv_bytes();
  std::vector<Attempt::Op> recvs, sends;
  if (from >= 0) {
    for (size_t c = 0; c < ch.chunks; ++c) MC_ALGO_POST(recvs, a.Irecv(from, step, buf + c * ch.chunk, ch.len(c)));
  }
  for (size_t c = 0; c < ch.chunks; ++c) {
    if (from >= 0) MC_ALGO_RETURN_IF_ERROR(a.Wait(recvs[c]));
    for (int dst : to) MC_ALGO_POST(sends, a.Isend(dst, step, buf + c * ch.chunk, ch.len(c)));
  }
  return WaitAndClear(a, sends);
}

}  // namespace

// Binomial tree rooted at the root; the largest subtree is served first.
absl::Status BroadcastTree(Attempt& a, const CollArgs& args) {
  BinomialNode node = Binomial(a.size(), a.group().index_of(args.root), a.me());
  std::vector<int> to(node.children.rbegin(), node.children.rend());
  return Relay(a, args, node.parent, to, 0);
}

// A chain from the root around the group, chunk by chunk: every link is busy
// at once, so large buffers move at close to one link's bandwidth.
absl::Status BroadcastPipelined(Attempt& a, const CollArgs& args) {
  const int n = a.size(), root = a.group().index_of(args.root);
  const int pos = (a.me() - root + n) % n;
  int from = pos == 0 ? -1 : a.group().ring(-1);
  std::vector<int> to;
  if (pos + 1 < n) to.push_back(a.group().ring(1));
  return Relay(a, args, from, to, 0);
}

// The root sends the whole buffer to every member.
absl::Status BroadcastDirect(Attempt& a, const CollArgs& args) {
  const int n = a.size(), root = a.group().index_of(args.root);
  const size_t bytes = args.count * args.elem;
  if (a.me() != root) {
    auto op = a.Irecv(root, 0, args.recv, bytes);
    return op.ok() ? a.Wait(*op) : op.status();
  }
  std::vector<Attempt::Op> sends;
  for (int i = 1; i < n; ++i) MC_ALGO_POST(sends, a.Isend((root + i) % n, 0, args.recv, bytes));
  return WaitAndClear(a, sends);
}

}  // namespace mc::algo
