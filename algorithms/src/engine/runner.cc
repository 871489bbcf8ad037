#include "engine/runner.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "mooncomm/status.h"

namespace mc::algo {

Runner::Runner(Communicator& comm, bool retry_after_failure)
    : comm_(comm), retry_(retry_after_failure), agreed_(comm.size()) {}

Group Runner::AliveGroup() const {
  Group g;
  for (int r = 0; r < comm_.size(); ++r) {
    if (r == comm_.rank()) g.me = g.size();
    if (r == comm_.rank() || !agreed_.failed(r)) g.ranks.push_back(r);
  }
  return g;
}

std::vector<int> Runner::alive_ranks() const { return AliveGroup().ranks; }

absl::StatusOr<std::vector<int>> Runner::Run(const char* what, int root, const CallSignature& call,
                                             absl::FunctionRef<absl::Status(Attempt&)> body) {
  // Each attempt either finishes or loses at least one rank, so this bounds
  // the loop; the extra room covers attempts given up for a stall.
  const int max_attempts = comm_.size() + 3;
  for (int attempt_no = 0;; ++attempt_no) {
    if (root >= 0 && agreed_.failed(root)) {
      return PeerFailedError(root, absl::StrCat("the root of ", what, " (rank ", root, ") has failed"));
    }
    Group group = AliveGroup();
    Attempt attempt(comm_, group, next_seq_++, scratch_);
    attempt.set_call(call);
    AgreementState mine(comm_.size());
    mine.Merge(agreed_);
    absl::Status local;
    for (int r : group.ranks) {
      if (r != comm_.rank() && comm_.peer_state(r) == PeerState::kFailed) {
        mine.AddFailed(r);
        mine.RaiseVerdict(Verdict::kRetry);
      }
    }
    if (mine.verdict() == Verdict::kOk) {
      local = attempt.Begin();
      if (local.ok()) local = body(attempt);
      if (!local.ok()) {
        if (absl::IsAborted(local) || FailedPeerOf(local).has_value()) {
          mine.RaiseVerdict(Verdict::kRetry);
        } else {
          mine.SetError(comm_.rank(), std::string(local.message()));
        }
      }
    }
    AgreementState decided = attempt.Agree(std::move(mine));
    attempt.Drain();
    std::vector<int> newly_failed;
    for (int r : decided.failed_ranks()) {
      if (!agreed_.failed(r)) newly_failed.push_back(r);
    }
    AgreementState failed_only(comm_.size());
    for (int r : decided.failed_ranks()) failed_only.AddFailed(r);
    agreed_ = failed_only;

    switch (decided.verdict()) {
      case Verdict::kOk:
        return group.ranks;
      case Verdict::kError:
        if (decided.error_class() == ErrorClass::kLocal && decided.error_rank() == comm_.rank() && !local.ok()) {
          return local;
        }
        if (decided.error_class() == ErrorClass::kCallMismatch) {
          return absl::FailedPreconditionError(absl::StrCat(what, ": ", decided.error()));
        }
        return absl::FailedPreconditionError(
            absl::StrCat(what, " failed on rank ", decided.error_rank(), ": ", decided.error()));
      case Verdict::kRetry:
        break;
    }
    if (!retry_ && !newly_failed.empty()) {
      return PeerFailedError(newly_failed.front(), absl::StrCat(what, " lost rank(s) ", absl::StrJoin(newly_failed, ","),
                                                                " (MC_COLL_RETRY=0: not run again)"));
    }
    if (attempt_no + 1 >= max_attempts) {
      return absl::DeadlineExceededError(
          absl::StrCat(what, " did not complete in ", max_attempts, " attempts; last: ", local.message()));
    }
  }
}

}  // namespace mc::algo
