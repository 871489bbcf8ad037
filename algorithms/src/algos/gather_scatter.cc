// Gather and scatter of one block per member. Direct: the root exchanges a
// message with every member. Tree: a binomial tree rooted at the root, in
// which each edge carries the blocks of the child's whole subtree in one
// message.
//
// Tree layout: a member at root-relative index v (v = me - root mod n) has
// the subtree of relative indices [v, v + subtree). Its subtree's blocks
// travel in that relative order (group-index order, rotated to start at the
// root), so a child at v + m occupies the blocks from m on of its parent's
// buffer. Only the root maps blocks to communicator-rank offsets.
#include <algorithm>
#include <cstring>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "algos/common.h"
#include "algos/registry.h"

namespace mc::algo {
namespace {

constexpr uint32_t kDirectStep = 0;

size_t BlockBytes(const CollArgs& args) { return args.count * args.elem; }

// The root's group index; an error when the root is not a member.
absl::StatusOr<int> RootIndex(const Attempt& a, const CollArgs& args) {
  const int index = a.group().index_of(args.root);
  if (index < 0) {
    return absl::InvalidArgumentError(absl::StrCat("root rank ", args.root, " is not a member of the collective"));
  }
  return index;
}

// Rank `rank`'s block of a buffer laid out by communicator rank.
char* RankBlock(void* buf, int rank, size_t block) { return static_cast<char*>(buf) + rank * block; }
const char* RankBlock(const void* buf, int rank, size_t block) { return static_cast<const char*>(buf) + rank * block; }

// Copies `block` bytes unless source and destination coincide (in place).
void CopyBlock(void* dst, const void* src, size_t block) {
  if (dst != src && block > 0) CopyBytes(dst, src, block);
}

// A binomial tree rooted at the root, seen from one member.
struct TreeView {
  int n = 1;
  int root = 0;  // group index
  int v = 0;     // my root-relative index
  BinomialNode node;

  // Group index of the member `rel` places after the root.
  int IndexAt(int rel) const { return (root + rel) % n; }
  // The relative offset of a child from me: also the step of our edge.
  int ChildOffset(int child) const { return (child - root + n) % n - v; }
  // The step of the edge to my parent (the lowest set bit of v).
  uint32_t ParentStep() const { return static_cast<uint32_t>(v & -v); }
  // Members in the subtree of the child `offset` places after me.
  int ChildSubtree(int offset) const { return std::min(offset, n - (v + offset)); }
};

TreeView MakeTree(const Attempt& a, int root) {
  TreeView t;
  t.n = a.size();
  t.root = root;
  t.v = (a.me() - root + t.n) % t.n;
  t.node = Binomial(t.n, root, a.me());
  return t;
}

// Whether the members at relative indices [rel, rel + count) hold
// consecutive communicator ranks, so that their blocks of a rank-ordered
// buffer are one contiguous range.
bool ConsecutiveRanks(const Group& g, const TreeView& t, int rel, int count) {
  const int first = g.rank_of(t.IndexAt(rel));
  for (int j = 1; j < count; ++j) {
    if (g.rank_of(t.IndexAt(rel + j)) != first + j) return false;
  }
  return true;
}

// Copies blocks between a buffer in relative order (the subtree at `rel`)
// and a buffer laid out by communicator rank.
void UnpackToRanks(const Group& g, const TreeView& t, int rel, int count, const char* packed, void* by_rank,
                   size_t block) {
  for (int j = 0; j < count; ++j) {
    CopyBlock(RankBlock(by_rank, g.rank_of(t.IndexAt(rel + j)), block), packed + j * block, block);
  }
}
void PackFromRanks(const Group& g, const TreeView& t, int rel, int count, const void* by_rank, char* packed,
                   size_t block) {
  for (int j = 0; j < count; ++j) {
    CopyBlock(packed + j * block, RankBlock(by_rank, g.rank_of(t.IndexAt(rel + j)), block), block);
  }
}

// ---- Gather ----

// The root of the gather tree: each child's subtree goes straight into recv
// when its ranks are consecutive, else through scratch and then into place.
absl::Status GatherTreeRoot(Attempt& a, const CollArgs& args, const TreeView& t, size_t block) {
  const Group& g = a.group();
  struct Staged {
    int rel, count;
    const char* buf;
  };
  std::vector<Staged> staged;
  std::vector<Attempt::Op> ops;
  for (int child : t.node.children) {
    const int m = t.ChildOffset(child), count = t.ChildSubtree(m);
    char* dst;
    if (ConsecutiveRanks(g, t, m, count)) {
      dst = RankBlock(args.recv, g.rank_of(child), block);
    } else {
      dst = static_cast<char*>(a.Scratch(count * block));
      staged.push_back({m, count, dst});
    }
    MC_ALGO_POST(ops, a.Irecv(child, static_cast<uint32_t>(m), dst, count * block));
  }
  CopyBlock(RankBlock(args.recv, g.rank_of(a.me()), block), args.send, block);
  MC_ALGO_RETURN_IF_ERROR(WaitAndClear(a, ops));
  for (const Staged& s : staged) UnpackToRanks(g, t, s.rel, s.count, s.buf, args.recv, block);
  return absl::OkStatus();
}

// Any other member: collect my subtree (my block first), send it up.
absl::Status GatherTreeForward(Attempt& a, const CollArgs& args, const TreeView& t, size_t block) {
  const void* out = args.send;
  std::vector<Attempt::Op> ops;
  if (!t.node.children.empty()) {
    char* buf = static_cast<char*>(a.Scratch(t.node.subtree * block));
    for (int child : t.node.children) {
      const int m = t.ChildOffset(child);
      MC_ALGO_POST(ops, a.Irecv(child, static_cast<uint32_t>(m), buf + m * block, t.ChildSubtree(m) * block));
    }
    CopyBlock(buf, args.send, block);
    MC_ALGO_RETURN_IF_ERROR(WaitAndClear(a, ops));
    out = buf;
  }
  MC_ALGO_POST(ops, a.Isend(t.node.parent, t.ParentStep(), out, t.node.subtree * block));
  return WaitAndClear(a, ops);
}

// ---- Scatter ----

// The root of the scatter tree: each child gets its subtree's blocks, sent
// straight from send when their ranks are consecutive, else packed in scratch.
absl::Status ScatterTreeRoot(Attempt& a, const CollArgs& args, const TreeView& t, size_t block) {
  const Group& g = a.group();
  std::vector<Attempt::Op> ops;
  // Largest subtree first: it has the longest way to go.
  for (auto it = t.node.children.rbegin(); it != t.node.children.rend(); ++it) {
    const int m = t.ChildOffset(*it), count = t.ChildSubtree(m);
    const char* src;
    if (ConsecutiveRanks(g, t, m, count)) {
      src = RankBlock(args.send, g.rank_of(*it), block);
    } else {
      char* packed = static_cast<char*>(a.Scratch(count * block));
      PackFromRanks(g, t, m, count, args.send, packed, block);
      src = packed;
    }
    MC_ALGO_POST(ops, a.Isend(*it, static_cast<uint32_t>(m), src, count * block));
  }
  CopyBlock(args.recv, RankBlock(args.send, g.rank_of(a.me()), block), block);
  return WaitAndClear(a, ops);
}

// Any other member: receive my subtree's blocks (mine first), keep mine,
// pass the rest down. A leaf receives straight into recv.
absl::Status ScatterTreeForward(Attempt& a, const CollArgs& args, const TreeView& t, size_t block) {
  std::vector<Attempt::Op> ops;
  if (t.node.children.empty()) {
    MC_ALGO_POST(ops, a.Irecv(t.node.parent, t.ParentStep(), args.recv, block));
    return WaitAndClear(a, ops);
  }
  char* buf = static_cast<char*>(a.Scratch(t.node.subtree * block));
  MC_ALGO_POST(ops, a.Irecv(t.node.parent, t.ParentStep(), buf, t.node.subtree * block));
  MC_ALGO_RETURN_IF_ERROR(WaitAndClear(a, ops));
  for (auto it = t.node.children.rbegin(); it != t.node.children.rend(); ++it) {
    const int m = t.ChildOffset(*it);
    MC_ALGO_POST(ops, a.Isend(*it, static_cast<uint32_t>(m), buf + m * block, t.ChildSubtree(m) * block));
  }
  CopyBlock(args.recv, buf, block);
  return WaitAndClear(a, ops);
}

}  // namespace

absl::Status GatherDirect(Attempt& a, const CollArgs& args) {
  absl::StatusOr<int> root = RootIndex(a, args);
  if (!root.ok()) return root.status();
  const size_t block = BlockBytes(args);
  if (block == 0) return absl::OkStatus();
  const Group& g = a.group();
  std::vector<Attempt::Op> ops;
  if (a.me() != *root) {
    MC_ALGO_POST(ops, a.Isend(*root, kDirectStep, args.send, block));
    return WaitAndClear(a, ops);
  }
  for (int i = 0; i < a.size(); ++i) {
    if (i != a.me()) MC_ALGO_POST(ops, a.Irecv(i, kDirectStep, RankBlock(args.recv, g.rank_of(i), block), block));
  }
  CopyBlock(RankBlock(args.recv, g.rank_of(a.me()), block), args.send, block);
  return WaitAndClear(a, ops);
}

absl::Status GatherTree(Attempt& a, const CollArgs& args) {
  absl::StatusOr<int> root = RootIndex(a, args);
  if (!root.ok()) return root.status();
  const size_t block = BlockBytes(args);
  if (block == 0) return absl::OkStatus();
  const TreeView t = MakeTree(a, *root);
  return a.me() == *root ? GatherTreeRoot(a, args, t, block) : GatherTreeForward(a, args, t, block);
}

absl::Status ScatterDirect(Attempt& a, const CollArgs& args) {
  absl::StatusOr<int> root = RootIndex(a, args);
  if (!root.ok()) return root.status();
  const size_t block = BlockBytes(args);
  if (block == 0) return absl::OkStatus();
  const Group& g = a.group();
  std::vector<Attempt::Op> ops;
  if (a.me() != *root) {
    MC_ALGO_POST(ops, a.Irecv(*root, kDirectStep, args.recv, block));
    return WaitAndClear(a, ops);
  }
  for (int i = 0; i < a.size(); ++i) {
    if (i != a.me()) MC_ALGO_POST(ops, a.Isend(i, kDirectStep, RankBlock(args.send, g.rank_of(i), block), block));
  }
  CopyBlock(args.recv, RankBlock(args.send, g.rank_of(a.me()), block), block);
  return WaitAndClear(a, ops);
}

absl::Status ScatterTree(Attempt& a, const CollArgs& args) {
  absl::StatusOr<int> root = RootIndex(a, args);
  if (!root.ok()) return root.status();
  const size_t block = BlockBytes(args);
  if (block == 0) return absl::OkStatus();
  const TreeView t = MakeTree(a, *root);
  return a.me() == *root ? ScatterTreeRoot(a, args, t, block) : ScatterTreeForward(a, args, t, block);
}

}  // namespace mc::algo
