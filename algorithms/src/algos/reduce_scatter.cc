// Reduce-scatter: send holds one block per communicator rank; member i ends
// with the reduction of every member's block rank_of(i).
#include <cstring>

#include "algos/common.h"
#include "algos/registry.h"
#include "reduce/reduce_kernels.h"

namespace mc::algo {
namespace {

const char* InputBlock(const Attempt& a, const CollArgs& args, int index) {
  return args.send_bytes() + static_cast<size_t>(a.group().rank_of(index)) * args.count * args.elem;
}

}  // namespace

// n-1 steps around the ring: step k receives the partial reduction of block
// me-k-2, adds this member's input for it, and passes it on; at the last
// step the block is this member's own.
absl::Status ReduceScatterRing(Attempt& a, const CollArgs& args) {
  const int n = a.size(), me = a.me();
  const size_t E = args.elem, bytes = args.count * E;
  char* out = args.recv_bytes();
  if (n == 1) {
    const char* in = InputBlock(a, args, me);
    if (in != out) CopyBytes(out, in, bytes);
    return absl::OkStatus();
  }
  const int next = a.group().ring(1), prev = a.group().ring(-1);
  const size_t chunk = ChunkElems(args, args.count);
  const size_t chunks = NumChunks(args.count, chunk);
  auto len_of = [&](size_t c) { return std::min(chunk, args.count - std::min(args.count, c * chunk)); };
  char* tmp[2] = {static_cast<char*>(a.Scratch(bytes)), static_cast<char*>(a.Scratch(bytes))};
  char* acc[2] = {static_cast<char*>(a.Scratch(bytes)), static_cast<char*>(a.Scratch(bytes))};

  // sends[p]: what went out of acc[p]; waited for before acc[p] is reused.
  std::vector<Attempt::Op> sends[2], first_sends, cur, upcoming;
  auto post_recvs = [&](int k, std::vector<Attempt::Op>& recvs) -> absl::Status {
    for (size_t c = 0; c < chunks; ++c) MC_ALGO_POST(recvs, a.Irecv(prev, k, tmp[k % 2] + c * chunk * E, len_of(c) * E));
    return absl::OkStatus();
  };
  const char* first = InputBlock(a, args, a.group().ring(-1));
  for (size_t c = 0; c < chunks; ++c) MC_ALGO_POST(first_sends, a.Isend(next, 0, first + c * chunk * E, len_of(c) * E));
  MC_ALGO_RETURN_IF_ERROR(post_recvs(0, cur));
  for (int k = 0; k <= n - 2; ++k) {
    if (k + 1 <= n - 2) MC_ALGO_RETURN_IF_ERROR(post_recvs(k + 1, upcoming));
    const bool last = k == n - 2;
    const char* mine = InputBlock(a, args, a.group().ring(-k - 2));
    char* dst = last ? out : acc[k % 2];
    MC_ALGO_RETURN_IF_ERROR(WaitAndClear(a, sends[k % 2]));
    for (size_t c = 0; c < cur.size(); ++c) {
      MC_ALGO_RETURN_IF_ERROR(a.Wait(cur[c]));
      size_t off = c * chunk * E;
      Reduce2(dst + off, mine + off, tmp[k % 2] + off, len_of(c), args.type, args.op);
      if (last) {
        if (args.op == ReduceOp::kAvg) DivideBy(dst + off, len_of(c), args.type, n);
      } else {
        MC_ALGO_POST(sends[k % 2], a.Isend(next, k + 1, dst + off, len_of(c) * E));
      }
    }
    cur.swap(upcoming);
    upcoming.clear();
  }
  MC_ALGO_RETURN_IF_ERROR(WaitAndClear(a, first_sends));
  MC_ALGO_RETURN_IF_ERROR(WaitAndClear(a, sends[0]));
  return WaitAndClear(a, sends[1]);
}

// Each member sends block rank_of(i) to member i and reduces the n copies of
// its own block in group order.
absl::Status ReduceScatterDirect(Attempt& a, const CollArgs& args) {
  const int n = a.size(), me = a.me();
  const size_t bytes = args.count * args.elem;
  std::vector<const char*> inputs(n);
  std::vector<Attempt::Op> ops;
  for (int i = 0; i < n; ++i) {
    if (i == me) continue;
    char* buf = static_cast<char*>(a.Scratch(bytes));
    inputs[i] = buf;
    MC_ALGO_POST(ops, a.Irecv(i, 0, buf, bytes));
  }
  for (int i = 1; i < n; ++i) {
    int to = (me + i) % n;
    MC_ALGO_POST(ops, a.Isend(to, 0, InputBlock(a, args, to), bytes));
  }
  MC_ALGO_RETURN_IF_ERROR(WaitAndClear(a, ops));
  inputs[me] = InputBlock(a, args, me);
  if (n == 1) {
    if (inputs[0] != args.recv) CopyBytes(args.recv, inputs[0], bytes);
    return absl::OkStatus();
  }
  if (inputs[me] == args.recv && me >= 2) {
    char* copy = static_cast<char*>(a.Scratch(bytes));
    CopyBytes(copy, inputs[me], bytes);
    inputs[me] = copy;
  }
  Reduce2(args.recv, inputs[0], inputs[1], args.count, args.type, args.op);
  for (int i = 2; i < n; ++i) ReduceInto(args.recv, inputs[i], args.count, args.type, args.op);
  if (args.op == ReduceOp::kAvg) DivideBy(args.recv, args.count, args.type, n);
  return absl::OkStatus();
}

}  // namespace mc::algo
