// The state behind mc::Collectives: the runner (attempts, agreement, the
// agreed failed set), the tuner, and the buffer that keeps an in-place
// collective's input for a second attempt.
#ifndef MOONCOMM_ALGORITHMS_COLLECTIVES_IMPL_H_
#define MOONCOMM_ALGORITHMS_COLLECTIVES_IMPL_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "algos/args.h"
#include "engine/runner.h"
#include "mooncomm/collectives.h"
#include "tuner/tuner.h"

namespace mc {

class Collectives::Impl {
 public:
  Impl(Communicator& comm, bool retry, algo::Tuner tuner)
      : comm(comm), retry(retry), runner(comm, retry), tuner(std::move(tuner)) {}

  // Chooses the algorithm, runs it over the survivors, and zero-fills the
  // blocks of ranks that did not take part. `bytes`: the tuner's size.
  Result Run(algo::CollArgs args, size_t bytes, const CollectiveOptions& options);
  // Keeps a copy of an in-place input so that a second attempt starts from it.
  const void* KeepInput(const void* input, size_t bytes);

  Communicator& comm;
  const bool retry;
  algo::Runner runner;
  algo::Tuner tuner;
  std::vector<char> kept_input;
  std::vector<int> last_participants;
};

}  // namespace mc

#endif  // MOONCOMM_ALGORITHMS_COLLECTIVES_IMPL_H_
