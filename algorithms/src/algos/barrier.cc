// Barriers of zero-byte messages. Dissemination: ceil(log2 n) rounds, in
// round k every member signals me + 2^k and hears from me - 2^k, so after
// the last round everyone has heard, directly or not, from everyone.
// Tree: a binomial gather of arrivals at index 0, then a binomial release.
#include <vector>

#include "absl/status/status.h"
#include "algos/common.h"
#include "algos/registry.h"

namespace mc::algo {
namespace {

// Tree phases; dissemination uses the round number as its step.
constexpr uint32_t kArriveStep = 0;
constexpr uint32_t kReleaseStep = 1;

// Receives a zero-byte message from each of `from`, waits, then sends one to
// each of `to` and waits.
absl::Status HearThenSignal(Attempt& a, const std::vector<int>& from, const std::vector<int>& to, uint32_t step) {
  std::vector<Attempt::Op> ops;
  for (int i : from) MC_ALGO_POST(ops, a.Irecv(i, step, nullptr, 0));
  MC_ALGO_RETURN_IF_ERROR(WaitAndClear(a, ops));
  for (int i : to) MC_ALGO_POST(ops, a.Isend(i, step, nullptr, 0));
  return WaitAndClear(a, ops);
}

}  // namespace

absl::Status BarrierDissemination(Attempt& a, const CollArgs& /*args*/) {
  std::vector<Attempt::Op> ops;
  uint32_t round = 0;
  for (int dist = 1; dist < a.size(); dist <<= 1, ++round) {
    MC_ALGO_POST(ops, a.Irecv(a.group().ring(-dist), round, nullptr, 0));
    MC_ALGO_POST(ops, a.Isend(a.group().ring(dist), round, nullptr, 0));
    MC_ALGO_RETURN_IF_ERROR(WaitAndClear(a, ops));
  }
  return absl::OkStatus();
}

absl::Status BarrierTree(Attempt& a, const CollArgs& /*args*/) {
  const BinomialNode node = Binomial(a.size(), /*root=*/0, a.me());
  std::vector<int> parent;
  if (node.parent >= 0) parent.push_back(node.parent);
  // Arrive: once my whole subtree has arrived, tell my parent.
  MC_ALGO_RETURN_IF_ERROR(HearThenSignal(a, node.children, parent, kArriveStep));
  // Release: once my parent is released (the root at once), release my children.
  return HearThenSignal(a, parent, node.children, kReleaseStep);
}

}  // namespace mc::algo
