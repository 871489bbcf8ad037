// The ranks one attempt of a collective runs over: the communicator's ranks
// that the survivors agreed are alive, in ascending order. Algorithms work in
// group indices; buffers stay laid out by communicator rank.
#ifndef MOONCOMM_ALGORITHMS_ENGINE_GROUP_H_
#define MOONCOMM_ALGORITHMS_ENGINE_GROUP_H_

#include <algorithm>
#include <vector>

namespace mc::algo {

struct Group {
  std::vector<int> ranks;  // communicator ranks, ascending
  int me = 0;              // my index in ranks

  int size() const { return static_cast<int>(ranks.size()); }
  int rank_of(int index) const { return ranks[index]; }
  // The group index of a communicator rank, or -1 when it is not a member.
  int index_of(int rank) const {
    auto it = std::lower_bound(ranks.begin(), ranks.end(), rank);
    return it != ranks.end() && *it == rank ? static_cast<int>(it - ranks.begin()) : -1;
  }
  // Index `offset` places after me around the ring (offset may be negative).
  int ring(int offset) const {
    int n = size();
    return ((me + offset) % n + n) % n;
  }
};

}  // namespace mc::algo

#endif  // MOONCOMM_ALGORITHMS_ENGINE_GROUP_H_
