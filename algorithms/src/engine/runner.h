// Runs one collective to completion over the survivors: an attempt over the
// agreed-alive ranks, the agreement, and again over fewer ranks if a member
// failed (MC_COLL_RETRY). Every survivor returns the same participants or
// the same error.
#ifndef MOONCOMM_ALGORITHMS_ENGINE_RUNNER_H_
#define MOONCOMM_ALGORITHMS_ENGINE_RUNNER_H_

#include <cstdint>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "engine/agreement_state.h"
#include "engine/attempt.h"
#include "engine/scratch_pool.h"
#include "mooncomm/communicator.h"

namespace mc::algo {

class Runner {
 public:
  Runner(Communicator& comm, bool retry_after_failure);

  // Runs `body` over the agreed-alive ranks until an attempt finishes
  // everywhere; returns the ranks that took part. `root` >= 0: a failed root
  // ends the collective with a PeerFailedError naming it. `call` is compared
  // across ranks: a difference is a FailedPrecondition error on every rank.
  absl::StatusOr<std::vector<int>> Run(const char* what, int root, const CallSignature& call,
                                       absl::FunctionRef<absl::Status(Attempt&)> body);

  // The ranks not known (agreed) to have failed.
  std::vector<int> alive_ranks() const;
  Communicator& comm() { return comm_; }
  ScratchPool& scratch() { return scratch_; }

 private:
  Group AliveGroup() const;

  Communicator& comm_;
  const bool retry_;
  AgreementState agreed_;  // its failed set is what every survivor agreed on
  uint32_t next_seq_ = 0;
  ScratchPool scratch_;
};

}  // namespace mc::algo

#endif  // MOONCOMM_ALGORITHMS_ENGINE_RUNNER_H_
