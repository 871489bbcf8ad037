// The survivors' agreement at the end of every attempt.
//
// Rounds: each member sends its state (verdict, failed set) to every member
// it believes alive and receives theirs. A member decides when every message
// of a round equals the state it sent: its state then is the decision. If it
// also noticed a new failure during that round, a member that did not decide
// may exist (it heard from a rank that failed before reaching us), so it is
// sent the decision as its next round's message. Failures noticed in the
// deciding round are not part of this decision: the next collective's
// attempt finds them. In the common case (no failure) round 0 decides, and
// round 0's receives were posted before the algorithm ran, which is also how
// a member that gives up stops the others.
//
// A member that sends nothing within MC_TIMEOUT_MS / 2 is declared failed.
// Limit: a second failure inside one agreement can leave a survivor behind
// the others; it is then excluded at its deadline like a hung rank.
#include <sched.h>

#include "absl/strings/str_cat.h"
#include "engine/attempt.h"
#include "engine/tags.h"
#include "mooncomm/status.h"

namespace mc::algo {
namespace {

struct RoundPeer {
  int index = -1;
  std::string out;
  Request send;
  std::string in;
  Request recv;
  bool recv_done = false;
  std::optional<DecodedAgreement> msg;
};

}  // namespace

AgreementState Attempt::Agree(AgreementState state) {
  if (!begun_) (void)Begin();
  for (int r : seen_failed_) {
    state.AddFailed(r);
    state.RaiseVerdict(Verdict::kRetry);
  }
  const int my_rank = group_.rank_of(me());
  const size_t max_bytes = AgreementState::MaxEncodedBytes(comm_.size());
  for (uint32_t round = 0;; ++round) {
    std::vector<RoundPeer> peers;
    for (int i = 0; i < size(); ++i) {
      if (i != me() && !state.failed(group_.rank_of(i))) {
        peers.emplace_back();
        peers.back().index = i;
      }
    }
    if (peers.empty()) return state;
    AgreementState merged = state;
    auto peer_lost = [&](RoundPeer& p) {
      NoteFailed(group_.rank_of(p.index));
      merged.AddFailed(group_.rank_of(p.index));
      merged.RaiseVerdict(Verdict::kRetry);
      p.recv_done = true;
    };
    for (RoundPeer& p : peers) {
      const int rank = group_.rank_of(p.index);
      p.out = state.Encode(seq_, round, /*decided=*/false, channels_[p.index].sent, call_);
      if (!comm_.Isend(rank, AgreementTag(seq_, round), p.out.data(), p.out.size(), &p.send).ok()) {
        peer_lost(p);
        continue;
      }
      PeerChannel& ch = channels_[p.index];
      if (round == 0) {
        // Posted in Begin(); perhaps already received while the algorithm ran.
        if (ch.round0_msg.has_value()) {
          p.msg = std::move(ch.round0_msg);
          ch.round0_msg.reset();
          p.recv_done = true;
        } else if (ch.round0_done) {
          peer_lost(p);
        }
        continue;
      }
      p.in.resize(max_bytes);
      if (!comm_.Irecv(rank, AgreementTag(seq_, round), p.in.data(), max_bytes, &p.recv).ok()) peer_lost(p);
    }

    absl::Time deadline = absl::Now() + stall_limit_;
    for (int spins = 0;; ++spins) {
      bool all_done = true;
      for (RoundPeer& p : peers) {
        if (p.recv_done) continue;
        Request& req = round == 0 ? channels_[p.index].round0_req : p.recv;
        const std::string& buf = round == 0 ? channels_[p.index].round0 : p.in;
        absl::Status s;
        if (!comm_.Test(req, &s)) {
          all_done = false;
          continue;
        }
        if (round == 0) channels_[p.index].round0_done = true;
        p.recv_done = true;
        if (!s.ok()) {
          peer_lost(p);
          continue;
        }
        auto msg = DecodeAgreement(absl::MakeConstSpan(buf.data(), req.bytes()), comm_.size());
        if (!msg.ok()) {
          // Not something a retry fixes: report it as this collective's error.
          merged.SetError(my_rank, absl::StrCat("from rank ", group_.rank_of(p.index), ": ", msg.status().message()));
          continue;
        }
        channels_[p.index].peer_sent = msg->sent_to_receiver;
        channels_[p.index].peer_sent_known = true;
        p.msg = std::move(*msg);
      }
      if (all_done) break;
      if ((spins & 63) == 0 && absl::Now() > deadline) {
        for (RoundPeer& p : peers) {
          if (p.recv_done) continue;
          const int rank = group_.rank_of(p.index);
          comm_.DeclareFailed(rank, absl::StrCat("no answer in a collective's agreement within ",
                                                 absl::ToInt64Milliseconds(stall_limit_), " ms (MC_TIMEOUT_MS / 2)"));
          peer_lost(p);
        }
        break;
      }
      if (spins > 2000) sched_yield();
    }

    bool all_equal = true;
    for (RoundPeer& p : peers) {
      if (!p.msg.has_value()) continue;
      if (round == 0 && call_.comparable() && p.msg->call.comparable() && !(p.msg->call == call_)) {
        // Every rank finds a difference with someone, so every state gets
        // such an error; the lowest rank's wins, the same on all.
        merged.SetError(my_rank,
                        absl::StrCat("the ranks' calls differ: rank ", my_rank, " called ", call_.Describe(), ", rank ",
                                     group_.rank_of(p.index), " called ", p.msg->call.Describe()),
                        ErrorClass::kCallMismatch);
        all_equal = false;
      }
      if (p.msg->decided) {
        state = p.msg->state;
        // The sends of this round may still be in flight; they are small and
        // eager, so waiting for them costs nothing and keeps `out` alive.
        for (RoundPeer& q : peers) (void)comm_.Wait(q.send);
        return state;
      }
      if (!(p.msg->state == state)) all_equal = false;
      merged.Merge(p.msg->state);
    }
    for (RoundPeer& p : peers) (void)comm_.Wait(p.send);
    if (all_equal) {
      if (!(merged == state)) {
        // Someone may have heard from a rank we did not: tell it the decision.
        std::vector<std::string> out(peers.size());
        std::vector<Request> sends(peers.size());
        for (size_t k = 0; k < peers.size(); ++k) {
          const int rank = group_.rank_of(peers[k].index);
          if (merged.failed(rank)) continue;
          out[k] = state.Encode(seq_, round + 1, /*decided=*/true, channels_[peers[k].index].sent, call_);
          (void)comm_.Isend(rank, AgreementTag(seq_, round + 1), out[k].data(), out[k].size(), &sends[k]);
        }
        for (Request& r : sends) {
          if (r.pending()) (void)comm_.Wait(r);
        }
      }
      return state;
    }
    state = merged;
  }
}

}  // namespace mc::algo
