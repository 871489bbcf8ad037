// Reduce to args.root (a communicator rank); recv is used at the root only.
#include <cstring>

#include "algos/common.h"
#include "algos/registry.h"
#include "algos/tree_allreduce.h"
#include "reduce/reduce_kernels.h"

namespace mc::algo {

// The climb of a tree allreduce over a binomial tree rooted at the root:
// interior members accumulate in scratch, the root in recv.
absl::Status ReduceTree(Attempt& a, const CollArgs& args) {
  const int root = a.group().index_of(args.root);
  CollArgs local = args;
  if (a.me() != root) local.recv = a.Scratch(args.count * args.elem);
  BinomialNode node = Binomial(a.size(), root, a.me());
  TreeAllreduce tree(a, local, TreeLinks{node.parent, node.children}, Range{0, args.count}, 0);
  MC_ALGO_RETURN_IF_ERROR(tree.PostClimb(0));
  for (size_t c = 0; c < tree.chunks(); ++c) {
    MC_ALGO_RETURN_IF_ERROR(tree.PostClimb(c + 1));
    MC_ALGO_RETURN_IF_ERROR(tree.Reduce(c));
  }
  return tree.FinishClimb();
}

// Everyone sends to the root, which reduces the n buffers in group order.
absl::Status ReduceDirect(Attempt& a, const CollArgs& args) {
  const int n = a.size(), me = a.me(), root = a.group().index_of(args.root);
  const size_t bytes = args.count * args.elem;
  if (me != root) {
    auto op = a.Isend(root, 0, args.send, bytes);
    return op.ok() ? a.Wait(*op) : op.status();
  }
  if (n == 1) {
    if (args.send != args.recv) CopyBytes(args.recv, args.send, bytes);
    return absl::OkStatus();
  }
  std::vector<const char*> inputs(n);
  std::vector<Attempt::Op> ops;
  for (int i = 0; i < n; ++i) {
    if (i == me) continue;
    char* buf = static_cast<char*>(a.Scratch(bytes));
    inputs[i] = buf;
    MC_ALGO_POST(ops, a.Irecv(i, 0, buf, bytes));
  }
  MC_ALGO_RETURN_IF_ERROR(WaitAndClear(a, ops));
  inputs[me] = args.send_bytes();
  if (args.send == args.recv && me >= 2) {
    char* copy = static_cast<char*>(a.Scratch(bytes));
    CopyBytes(copy, args.send, bytes);
    inputs[me] = copy;
  }
  Reduce2(args.recv, inputs[0], inputs[1], args.count, args.type, args.op);
  for (int i = 2; i < n; ++i) ReduceInto(args.recv, inputs[i], args.count, args.type, args.op);
  if (args.op == ReduceOp::kAvg) DivideBy(args.recv, args.count, args.type, n);
  return absl::OkStatus();
}

}  // namespace mc::algo
