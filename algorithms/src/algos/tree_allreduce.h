// Allreduce over one tree and one range of the buffer: the data climbs to
// the tree's root chunk by chunk, reduced at every level, and comes back down
// the same tree. The binomial ("tree") and the double binary tree ("dbtree")
// algorithms drive one or two of these, chunk by chunk.
#ifndef MOONCOMM_ALGORITHMS_ALGOS_TREE_ALLREDUCE_H_
#define MOONCOMM_ALGORITHMS_ALGOS_TREE_ALLREDUCE_H_

#include <vector>

#include "algos/common.h"

namespace mc::algo {

struct TreeLinks {
  int parent = -1;            // group index, -1 at the root
  std::vector<int> children;  // group indices, in the order they are reduced
};

class TreeAllreduce {
 public:
  // `step_base`: this tree's two step numbers (climb, descent).
  TreeAllreduce(Attempt& a, const CollArgs& args, TreeLinks links, Range range, uint32_t step_base);

  size_t chunks() const { return chunks_; }
  // Climb: post the receives of chunk c (call for c+1 before Reduce(c) to overlap).
  absl::Status PostClimb(size_t c);
  // Waits for chunk c's children, reduces, sends it up (the root divides for avg).
  absl::Status Reduce(size_t c);
  absl::Status FinishClimb();  // waits for the sends up
  // Descent: post every receive from the parent, then pass each chunk down.
  absl::Status PostDescent();
  absl::Status Descend(size_t c);
  absl::Status Finish();

 private:
  Range ChunkRange(size_t c) const;

  Attempt& a_;
  const CollArgs& args_;
  TreeLinks links_;
  Range range_;
  uint32_t step_base_;
  size_t chunk_;
  size_t chunks_;
  std::vector<char*> tmp_[2];  // per child, double-buffered by chunk parity
  std::vector<std::vector<Attempt::Op>> climb_recvs_;
  std::vector<Attempt::Op> descent_recvs_;
  std::vector<Attempt::Op> sends_;
};

}  // namespace mc::algo

#endif  // MOONCOMM_ALGORITHMS_ALGOS_TREE_ALLREDUCE_H_
