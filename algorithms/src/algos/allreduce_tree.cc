// Tree allreduces. "tree": one binomial tree rooted at group index 0.
// "dbtree": two binary trees, each carrying half of the buffer; a member
// that is a leaf in one tree is interior in the other, so every member's
// links carry about the same load. Both reduce in a fixed order and copy the
// root's result down, so all ranks end with bitwise the same result.
#include <cstring>

#include "algos/common.h"
#include "algos/registry.h"
#include "algos/tree_allreduce.h"
#include "reduce/reduce_kernels.h"

namespace mc::algo {
namespace {

TreeLinks BinomialLinks(int n, int me) {
  BinomialNode node = Binomial(n, 0, me);
  return {node.parent, node.children};
}

// A heap-shaped binary tree over positions (children of p: 2p+1, 2p+2);
// `mirror` maps position p to member n-1-p instead of p. Leaves are the upper
// half of positions, so the two trees' leaves are complementary.
TreeLinks HeapLinks(int n, int me, bool mirror) {
  auto member = [&](int p) { return mirror ? n - 1 - p : p; };
  const int p = mirror ? n - 1 - me : me;
  TreeLinks links;
  if (p > 0) links.parent = member((p - 1) / 2);
  for (int c : {2 * p + 1, 2 * p + 2}) {
    if (c < n) links.children.push_back(member(c));
  }
  return links;
}

absl::Status RunTrees(Attempt& a, std::vector<TreeAllreduce>& trees) {
  size_t chunks = 0;
  for (auto& t : trees) chunks = std::max(chunks, t.chunks());
  for (auto& t : trees) MC_ALGO_RETURN_IF_ERROR(t.PostClimb(0));
  for (size_t c = 0; c < chunks; ++c) {
    for (auto& t : trees) MC_ALGO_RETURN_IF_ERROR(t.PostClimb(c + 1));
    for (auto& t : trees) {
      if (c < t.chunks()) MC_ALGO_RETURN_IF_ERROR(t.Reduce(c));
    }
  }
  for (auto& t : trees) MC_ALGO_RETURN_IF_ERROR(t.FinishClimb());
  for (auto& t : trees) MC_ALGO_RETURN_IF_ERROR(t.PostDescent());
  for (size_t c = 0; c < chunks; ++c) {
    for (auto& t : trees) {
      if (c < t.chunks()) MC_ALGO_RETURN_IF_ERROR(t.Descend(c));
    }
  }
  for (auto& t : trees) MC_ALGO_RETURN_IF_ERROR(t.Finish());
  (void)a;
  return absl::OkStatus();
}

absl::Status CopyIfAlone(Attempt& a, const CollArgs& args, bool* done) {
  *done = a.size() == 1;
  if (*done && args.send != args.recv) CopyBytes(args.recv, args.send, args.count * args.elem);
  return absl::OkStatus();
}

}  // namespace

absl::Status AllreduceTree(Attempt& a, const CollArgs& args) {
  bool done;
  MC_ALGO_RETURN_IF_ERROR(CopyIfAlone(a, args, &done));
  if (done) return absl::OkStatus();
  std::vector<TreeAllreduce> trees;
  trees.emplace_back(a, args, BinomialLinks(a.size(), a.me()), Range{0, args.count}, 0);
  return RunTrees(a, trees);
}

absl::Status AllreduceDoubleTree(Attempt& a, const CollArgs& args) {
  bool done;
  MC_ALGO_RETURN_IF_ERROR(CopyIfAlone(a, args, &done));
  if (done) return absl::OkStatus();
  std::vector<TreeAllreduce> trees;
  trees.reserve(2);
  trees.emplace_back(a, args, HeapLinks(a.size(), a.me(), false), Segment(args.count, 2, 0), 0);
  trees.emplace_back(a, args, HeapLinks(a.size(), a.me(), true), Segment(args.count, 2, 1), 2);
  return RunTrees(a, trees);
}

// Every member sends its whole buffer to every other member, and each
// reduces all n in group order.
absl::Status AllreduceDirect(Attempt& a, const CollArgs& args) {
  const int n = a.size(), me = a.me();
  const size_t bytes = args.count * args.elem;
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
  for (int i = 0; i < n; ++i) {
    if (i != me) MC_ALGO_POST(ops, a.Isend(i, 0, args.send, bytes));
  }
  MC_ALGO_RETURN_IF_ERROR(WaitAndClear(a, ops));
  inputs[me] = args.send_bytes();
  if (args.send == args.recv && me >= 2) {
    // The reduction below writes recv before it reads my input.
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
