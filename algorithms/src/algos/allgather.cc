// Allgather and allgatherv. Blocks are laid out by communicator rank; for
// allgather block r is at r * count, for allgatherv at recv_displs[r].
#include <cstring>

#include "algos/common.h"
#include "algos/registry.h"

namespace mc::algo {
namespace {

struct Block {
  char* ptr;
  size_t bytes;
};

Block BlockOf(const Attempt& a, const CollArgs& args, int index) {
  const int rank = a.group().rank_of(index);
  const bool v = args.kind == CollectiveKind::kAllgatherv;
  size_t displ = v ? args.recv_displs[rank] : rank * args.count;
  size_t count = v ? args.recv_counts[rank] : args.count;
  return {args.recv_bytes() + displ * args.elem, count * args.elem};
}

void CopyMine(const Attempt& a, const CollArgs& args) {
  Block mine = BlockOf(a, args, a.me());
  if (args.send != mine.ptr) CopyBytes(mine.ptr, args.send, mine.bytes);
}

}  // namespace

// n-1 steps; step k receives block me-k-1 from the previous member, chunk by
// chunk, and passes each chunk on at step k+1.
absl::Status AllgathervRing(Attempt& a, const CollArgs& args) {
  const int n = a.size(), me = a.me();
  CopyMine(a, args);
  if (n == 1) return absl::OkStatus();
  const int next = a.group().ring(1), prev = a.group().ring(-1);
  const size_t chunk_bytes = args.chunk_bytes ? args.chunk_bytes : SIZE_MAX;
  auto chunks = [&](const Block& b) { return b.bytes == 0 ? size_t{1} : (b.bytes + chunk_bytes - 1) / chunk_bytes; };
  auto piece = [&](const Block& b, size_t c) {
    size_t begin = std::min(b.bytes, c * chunk_bytes);
    return Block{b.ptr + begin, std::min(chunk_bytes, b.bytes - begin)};
  };
  std::vector<std::vector<Attempt::Op>> recvs(n - 1);
  for (int k = 0; k <= n - 2; ++k) {
    Block b = BlockOf(a, args, a.group().ring(-k - 1));
    for (size_t c = 0; c < chunks(b); ++c) {
      Block p = piece(b, c);
      MC_ALGO_POST(recvs[k], a.Irecv(prev, k, p.ptr, p.bytes));
    }
  }
  std::vector<Attempt::Op> sends;
  Block mine = BlockOf(a, args, me);
  for (size_t c = 0; c < chunks(mine); ++c) {
    Block p = piece(mine, c);
    MC_ALGO_POST(sends, a.Isend(next, 0, p.ptr, p.bytes));
  }
  for (int k = 0; k <= n - 2; ++k) {
    Block b = BlockOf(a, args, a.group().ring(-k - 1));
    for (size_t c = 0; c < recvs[k].size(); ++c) {
      MC_ALGO_RETURN_IF_ERROR(a.Wait(recvs[k][c]));
      if (k == n - 2) continue;
      Block p = piece(b, c);
      MC_ALGO_POST(sends, a.Isend(next, k + 1, p.ptr, p.bytes));
    }
  }
  return WaitAndClear(a, sends);
}

// Everyone sends its block to everyone at once.
absl::Status AllgathervDirect(Attempt& a, const CollArgs& args) {
  const int n = a.size(), me = a.me();
  CopyMine(a, args);
  std::vector<Attempt::Op> ops;
  for (int i = 0; i < n; ++i) {
    if (i == me) continue;
    Block b = BlockOf(a, args, i);
    MC_ALGO_POST(ops, a.Irecv(i, 0, b.ptr, b.bytes));
  }
  Block mine = BlockOf(a, args, me);
  for (int i = 1; i < n; ++i) {
    // Staggered start: member me+1 first, so not everyone sends to member 0 at once.
    MC_ALGO_POST(ops, a.Isend((me + i) % n, 0, mine.ptr, mine.bytes));
  }
  return WaitAndClear(a, ops);
}

}  // namespace mc::algo
