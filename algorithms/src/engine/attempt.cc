// Posting and waiting within one attempt. Waits give up on the attempt (not
// on a peer) when another member signals that it gave up, when a member is
// known failed, or after MC_TIMEOUT_MS / 2 without progress; deciding who
// failed is left to the agreement (agreement.cc), which has the other half.
#include <sched.h>

#include "absl/strings/str_cat.h"
#include "engine/attempt.h"
#include "engine/tags.h"
#include "mooncomm/status.h"

namespace mc::algo {
namespace {

constexpr int kSpinsBeforeYield = 2000;

}  // namespace

Attempt::Attempt(Communicator& comm, Group group, uint32_t seq, ScratchPool& scratch)
    : comm_(comm),
      group_(std::move(group)),
      seq_(seq),
      stall_limit_(comm.timeout() / 2),
      channels_(group_.size()),
      scratch_(scratch) {}

Attempt::~Attempt() { Drain(); }

void* Attempt::Scratch(size_t bytes) { return scratch_.Get(scratch_used_++, bytes); }

void Attempt::NoteFailed(int rank) {
  for (int r : seen_failed_) {
    if (r == rank) return;
  }
  seen_failed_.push_back(rank);
}

bool Attempt::AnyMemberFailedLocally() {
  bool any = false;
  for (int r : group_.ranks) {
    if (r != group_.rank_of(group_.me) && comm_.peer_state(r) == PeerState::kFailed) {
      NoteFailed(r);
      any = true;
    }
  }
  return any;
}

absl::Status Attempt::Begin() {
  if (begun_) return absl::OkStatus();
  begun_ = true;
  const size_t max_bytes = AgreementState::MaxEncodedBytes(comm_.size());
  for (int i = 0; i < size(); ++i) {
    if (i == me()) continue;
    PeerChannel& ch = channels_[i];
    ch.round0.resize(max_bytes);
    absl::Status s = comm_.Irecv(group_.rank_of(i), AgreementTag(seq_, 0), ch.round0.data(), max_bytes, &ch.round0_req);
    if (!s.ok()) {
      ch.round0_done = true;
      if (FailedPeerOf(s).has_value()) {
        NoteFailed(group_.rank_of(i));
      } else {
        return s;
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Attempt::Op> Attempt::Isend(int index, uint32_t step, const void* buf, size_t len) {
  if (index < 0 || index >= size() || index == me()) {
    return absl::InternalError(absl::StrCat("algorithm sends to group index ", index, " of ", size()));
  }
  const int rank = group_.rank_of(index);
  Request req;
  absl::Status s = comm_.Isend(rank, DataTag(seq_, step), buf, len, &req);
  if (!s.ok()) {
    if (!FailedPeerOf(s).has_value()) return s;
    NoteFailed(rank);
    return absl::AbortedError(absl::StrCat("rank ", rank, " failed"));
  }
  ops_.push_back(PendingOp{std::move(req), rank, /*is_recv=*/false, /*done=*/false, channels_[index].sent++, len});
  return static_cast<Op>(ops_.size() - 1);
}

absl::StatusOr<Attempt::Op> Attempt::Irecv(int index, uint32_t step, void* buf, size_t len) {
  if (index < 0 || index >= size() || index == me()) {
    return absl::InternalError(absl::StrCat("algorithm receives from group index ", index, " of ", size()));
  }
  const int rank = group_.rank_of(index);
  Request req;
  absl::Status s = comm_.Irecv(rank, DataTag(seq_, step), buf, len, &req);
  if (!s.ok()) {
    if (!FailedPeerOf(s).has_value()) return s;
    NoteFailed(rank);
    return absl::AbortedError(absl::StrCat("rank ", rank, " failed"));
  }
  ops_.push_back(PendingOp{std::move(req), rank, /*is_recv=*/true, /*done=*/false, channels_[index].received++, len});
  return static_cast<Op>(ops_.size() - 1);
}

absl::Status Attempt::PollRound0(bool* gave_up) {
  *gave_up = false;
  for (int i = 0; i < size(); ++i) {
    PeerChannel& ch = channels_[i];
    if (i == me() || ch.round0_done || !ch.round0_req.pending()) continue;
    absl::Status s;
    if (!comm_.Test(ch.round0_req, &s)) continue;
    ch.round0_done = true;
    if (!s.ok()) {
      if (FailedPeerOf(s).has_value()) NoteFailed(group_.rank_of(i));
      *gave_up = true;
      continue;
    }
    auto msg = DecodeAgreement(absl::MakeConstSpan(ch.round0.data(), ch.round0_req.bytes()), comm_.size());
    if (!msg.ok()) return msg.status();
    ch.peer_sent = msg->sent_to_receiver;
    ch.peer_sent_known = true;
    if (msg->state.verdict() != Verdict::kOk) *gave_up = true;
    // A member that called something else: the data this one waits for may
    // never come. The agreement reports the difference.
    if (call_.comparable() && msg->call.comparable() && !(msg->call == call_)) *gave_up = true;
    ch.round0_msg = std::move(*msg);
  }
  return absl::OkStatus();
}

absl::Status Attempt::WaitAll(absl::Span<const Op> ops) {
  absl::Time deadline = absl::Now() + stall_limit_;
  for (int spins = 0;; ++spins) {
    bool all_done = true;
    bool progressed = false;
    for (Op id : ops) {
      PendingOp& op = ops_[id];
      if (op.done) continue;
      absl::Status s;
      if (!comm_.Test(op.req, &s)) {
        all_done = false;
        continue;
      }
      op.done = true;
      progressed = true;
      if (!s.ok()) {
        if (auto failed = FailedPeerOf(s); failed.has_value()) {
          NoteFailed(*failed);
          return absl::AbortedError(absl::StrCat("rank ", *failed, " failed"));
        }
        if (absl::IsOutOfRange(s)) {
          return absl::InvalidArgumentError(
              absl::StrCat(s.message(), ": do all ranks pass the same counts, types and roots?"));
        }
        return s;
      }
      if (op.is_recv && op.req.bytes() != op.expected_bytes) {
        return absl::InvalidArgumentError(absl::StrCat(
            "rank ", op.peer, " sent ", op.req.bytes(), " bytes where ", op.expected_bytes,
            " were expected: do all ranks pass the same counts, types and roots?"));
      }
    }
    if (all_done) return absl::OkStatus();
    if ((spins & 15) == 0) {
      bool gave_up = false;
      if (absl::Status s = PollRound0(&gave_up); !s.ok()) return s;
      if (gave_up) return absl::AbortedError("another rank gave up on this collective");
      if (AnyMemberFailedLocally()) return absl::AbortedError("a member of the collective failed");
    }
    if (progressed) {
      deadline = absl::Now() + stall_limit_;
    } else if ((spins & 63) == 0 && absl::Now() > deadline) {
      // Who is at fault is for the agreement to find out: a member blocked
      // behind a hung rank looks the same from here as the hung rank.
      return absl::AbortedError(absl::StrCat("no progress within ", absl::ToInt64Milliseconds(stall_limit_),
                                             " ms (half of MC_TIMEOUT_MS)"));
    }
    if (spins >= kSpinsBeforeYield) sched_yield();
  }
}

void Attempt::Drain() {
  if (drained_) return;
  drained_ = true;
  // Receives the sender says it posted will be matched: finish them. The
  // rest can never match (their tags die with this attempt): drop them.
  const absl::Time deadline = absl::Now() + stall_limit_;
  for (PendingOp& op : ops_) {
    if (op.done || !op.req.pending()) continue;
    if (op.is_recv) {
      const int index = group_.index_of(op.peer);
      const PeerChannel& ch = channels_[index];
      if (ch.peer_sent_known && op.index_in_peer < ch.peer_sent && comm_.peer_state(op.peer) != PeerState::kFailed) {
        absl::Status s;
        while (!comm_.Test(op.req, &s) && absl::Now() < deadline) sched_yield();
      }
    }
    op.done = true;
  }
  // Destroying the requests hands what is left to the communicator, which
  // finishes them in the background; a failed peer's are cancelled on close.
  ops_.clear();
  for (PeerChannel& ch : channels_) ch.round0_req = Request();
  (void)comm_.Progress();
}

}  // namespace mc::algo
