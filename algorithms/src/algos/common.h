// Small pieces the algorithms share: splitting a buffer into segments and
// chunks, binomial trees, and waiting for a batch of operations.
#ifndef MOONCOMM_ALGORITHMS_ALGOS_COMMON_H_
#define MOONCOMM_ALGORITHMS_ALGOS_COMMON_H_

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <vector>

#include "absl/status/status.h"
#include "algos/args.h"
#include "engine/attempt.h"

namespace mc::algo {

// Propagates an error status out of an algorithm.
#define MC_ALGO_RETURN_IF_ERROR(expr)                \
  do {                                               \
    if (absl::Status _s = (expr); !_s.ok()) return _s; \
  } while (0)
// Posts an operation and appends its id to `ops`.
#define MC_ALGO_POST(ops, expr)                     \
  do {                                              \
    auto _op = (expr);                              \
    if (!_op.ok()) return _op.status();             \
    (ops).push_back(*_op);                          \
  } while (0)

// memmove that accepts null pointers with a zero size (count-0 collectives).
inline void CopyBytes(void* dst, const void* src, size_t bytes) {
  if (bytes > 0 && dst != src) std::memmove(dst, src, bytes);
}

// Part `i` of `total` elements cut into `parts` near-equal pieces.
struct Range {
  size_t offset = 0;  // elements
  size_t count = 0;
};
inline Range Segment(size_t total, int parts, int i) {
  size_t base = total / parts, extra = total % parts;
  size_t off = i * base + std::min<size_t>(i, extra);
  return {off, base + (static_cast<size_t>(i) < extra ? 1 : 0)};
}

// Elements per chunk for a chunked transfer of `count` elements (at least 1).
inline size_t ChunkElems(const CollArgs& args, size_t count) {
  if (args.chunk_bytes == 0 || count == 0) return std::max<size_t>(count, 1);
  return std::max<size_t>(args.chunk_bytes / args.elem, 1);
}
inline size_t NumChunks(size_t count, size_t chunk) { return count == 0 ? 1 : (count + chunk - 1) / chunk; }

// A binomial tree over `n` members rooted at index `root`. Children are
// listed in the order data flows: for a reduction, the order they are combined.
struct BinomialNode {
  int parent = -1;            // group index, -1 at the root
  std::vector<int> children;  // group indices, nearest subtree first
  int subtree = 1;            // members in my subtree (me included)
};
inline BinomialNode Binomial(int n, int root, int me) {
  BinomialNode node;
  const int v = (me - root + n) % n;
  int mask = 1;
  for (; mask < n; mask <<= 1) {
    if (v & mask) {
      node.parent = (v - mask + root) % n;
      break;
    }
  }
  // Children are v + m for every m below the bit that links us to our parent.
  for (int m = 1; m < mask && v + m < n; m <<= 1) node.children.push_back((v + m + root) % n);
  node.subtree = std::min(mask, n - v);
  return node;
}

inline absl::Status WaitAndClear(Attempt& a, std::vector<Attempt::Op>& ops) {
  absl::Status s = a.WaitAll(ops);
  ops.clear();
  return s;
}

}  // namespace mc::algo

#endif  // MOONCOMM_ALGORITHMS_ALGOS_COMMON_H_
