// One attempt of one collective over one group. The algorithm posts its
// messages through the attempt, which owns every request, so that when the
// attempt is abandoned (a member failed, or signalled that it gave up) the
// survivors can agree, drain what is still in flight, and run again.
//
// Contract for algorithms: between two members, the receiver posts its
// receives in the order the sender posts the matching sends. (Draining an
// abandoned attempt counts messages per peer in that order.)
#ifndef MOONCOMM_ALGORITHMS_ENGINE_ATTEMPT_H_
#define MOONCOMM_ALGORITHMS_ENGINE_ATTEMPT_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "engine/agreement_state.h"
#include "engine/group.h"
#include "engine/scratch_pool.h"
#include "mooncomm/communicator.h"

namespace mc::algo {

class Attempt {
 public:
  using Op = uint32_t;

  // `scratch` hands out the attempt's temporary buffers; they are reused
  // only after Drain(), so nothing in flight can write into them later.
  Attempt(Communicator& comm, Group group, uint32_t seq, ScratchPool& scratch);
  ~Attempt();
  Attempt(const Attempt&) = delete;
  Attempt& operator=(const Attempt&) = delete;

  // What this rank was asked to run; compared with the other members' in
  // the agreement (and as their first agreement messages arrive).
  void set_call(const CallSignature& call) { call_ = call; }

  const Group& group() const { return group_; }
  int size() const { return group_.size(); }
  int me() const { return group_.me; }
  uint32_t seq() const { return seq_; }

  // Listens for the other members' agreement messages, so that a member
  // that gives up stops this one too. Call before the algorithm runs.
  absl::Status Begin();

  // Point-to-point with group member `index`; `step` tells messages apart
  // (see the ordering contract above).
  absl::StatusOr<Op> Isend(int index, uint32_t step, const void* buf, size_t len);
  absl::StatusOr<Op> Irecv(int index, uint32_t step, void* buf, size_t len);
  // Waits for the operations. An error means the attempt is over: a member
  // failed or gave up (Aborted), or a real error (e.g. a size mismatch).
  absl::Status WaitAll(absl::Span<const Op> ops);
  absl::Status Wait(Op op) { return WaitAll({&op, 1}); }

  // After the algorithm: agree with the other survivors on `mine` (my
  // verdict and the failures I know of). Every survivor returns the same state.
  AgreementState Agree(AgreementState mine);
  // Finishes or drops what is still in flight so that nothing of this
  // attempt writes into the caller's buffers after it returns.
  void Drain();

  // A temporary buffer of at least `bytes` (64-byte aligned), valid until
  // the attempt is destroyed. Receive into these, not into stack or heap
  // memory the algorithm frees: an abandoned attempt may be drained later.
  void* Scratch(size_t bytes);

  // Failures this attempt saw (communicator ranks), and whether a member gave up.
  const std::vector<int>& seen_failed() const { return seen_failed_; }

 private:
  struct PendingOp {
    Request req;
    int peer = -1;  // communicator rank
    bool is_recv = false;
    bool done = false;
    uint32_t index_in_peer = 0;  // among the data messages with this peer, in posting order
    size_t expected_bytes = 0;   // receives: what the algorithm posted for
  };
  struct PeerChannel {
    std::string round0;        // buffer of the round-0 agreement receive
    Request round0_req;
    bool round0_done = false;
    std::optional<DecodedAgreement> round0_msg;
    uint32_t sent = 0;         // data messages posted to this peer
    uint32_t received = 0;     // receives posted from this peer
    uint32_t peer_sent = 0;    // data messages the peer says it posted to us
    bool peer_sent_known = false;
  };

  absl::Status PollRound0(bool* gave_up);
  void NoteFailed(int rank);
  bool AnyMemberFailedLocally();

  Communicator& comm_;
  Group group_;
  uint32_t seq_;
  absl::Duration stall_limit_;
  CallSignature call_;
  std::deque<PendingOp> ops_;  // deque: stable addresses as ops are added
  std::vector<PeerChannel> channels_;  // by group index
  std::vector<int> seen_failed_;
  ScratchPool& scratch_;
  int scratch_used_ = 0;
  bool begun_ = false;
  bool drained_ = false;
  int polls_ = 0;
};

}  // namespace mc::algo

#endif  // MOONCOMM_ALGORITHMS_ENGINE_ATTEMPT_H_
