// The (collective, algorithm) pairs the cost model knows. The engine passes
// the pairs it implements to the Tuner; this list is what the model can
// predict, and what tests and mc_tune iterate over.
#ifndef MOONCOMM_ALGORITHMS_TUNER_ALGORITHM_CATALOG_H_
#define MOONCOMM_ALGORITHMS_TUNER_ALGORITHM_CATALOG_H_

#include <string>
#include <string_view>
#include <vector>

#include "mooncomm/collectives.h"

namespace mc::algo {

struct AlgorithmDesc {
  CollectiveKind coll;
  std::string name;

  bool operator==(const AlgorithmDesc&) const = default;
};

// Every pair the cost model predicts, per collective in order of preference
// when predictions tie (the simpler algorithm first).
const std::vector<AlgorithmDesc>& ModelAlgorithms();

// Whether the algorithm cuts transfers into chunks and may use several
// channels, so the model picks chunk_bytes and channels for it.
bool IsChunkedAlgorithm(std::string_view name);

}  // namespace mc::algo

#endif  // MOONCOMM_ALGORITHMS_TUNER_ALGORITHM_CATALOG_H_
