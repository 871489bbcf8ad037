// The cost model's formulas. Notation, per prediction:
//   n  ranks            S  the size nccl-tests prints       m  one block, S / n
//   a  latency (us)     g  sender overhead per message (us)
//   B  link bytes/us    st one stream's cap                  R  reduce bytes/us
//   C  chunk bytes      ch channels                          p  incast penalty
//   bw(f) = min(B, f * st): the rate f concurrent streams reach
//   k(x)  = max(ch, ceil(x / C)): messages for a transfer of x bytes (1 unchunked)
#include "tuner/cost_model.h"

#include <algorithm>
#include <cmath>

#include "tuner/algorithm_catalog.h"

namespace mc::algo {
namespace {

using K = CollectiveKind;
constexpr double kInfinity = std::numeric_limits<double>::infinity();

// The terms the formulas are built from.
class Terms {
 public:
  Terms(const ModelInputs& in, const Plan& plan) : in_(in), plan_(plan) {}

  double n() const { return in_.ranks; }
  double a() const { return in_.latency_us; }
  double g() const { return in_.overhead_us; }
  // ceil(log2 n): rounds of a binomial tree or of dissemination.
  int Rounds() const {
    int rounds = 0;
    while ((1 << rounds) < in_.ranks) ++rounds;
    return rounds;
  }
  // floor(log2 n): the depth of a balanced binary tree of n ranks.
  int Depth() const {
    int depth = 0;
    while ((2 << depth) <= in_.ranks) ++depth;
    return depth;
  }
  // bw(f) = min(B, f * st).
  double Bandwidth(double flows) const { return std::min(in_.link_bytes_per_us, flows * in_.stream_bytes_per_us); }
  // k(x) = max(ch, ceil(x / C)); one message when the plan is unchunked.
  double Chunks(double bytes) const {
    if (plan_.chunk_bytes == 0) return plan_.channels;
    return std::max<double>(plan_.channels, std::ceil(bytes / static_cast<double>(plan_.chunk_bytes)));
  }
  // Incast loss for `flows` streams into one rank: 1 + p * log2(flows).
  double Incast(double flows) const { return 1.0 + in_.incast_penalty * std::log2(std::max(1.0, flows)); }

  // One transfer of x bytes to one peer, its k chunks in flight back to
  // back: the latency once, the overhead per chunk, the bytes at bw(ch).
  //   a + k g + x / bw(ch)
  double Send(double x) const { return a() + Chunks(x) * g() + x / Bandwidth(plan_.channels); }

  // x bytes received and folded into the local buffer as chunks arrive: a
  // two-stage pipeline (wire, reduce) of k chunks of c = x / k: the slower
  // stage for all the data plus the faster stage for one chunk.
  //   a + k g + max(x / bw, x / R) + min(c / bw, c / R)
  double SendReduce(double x) const {
    double k = Chunks(x), c = x / k, b = Bandwidth(plan_.channels), r = in_.reduce_bytes_per_us;
    return a() + k * g() + std::max(x / b, x / r) + std::min(c / b, c / r);
  }

  // x bytes forwarded through `hops` links, chunk-pipelined: the first chunk
  // crosses hops - 1 links, then the last link streams all k chunks.
  //   hops a + (hops - 1)(g + c / bw) + k g + x / bw
  double Chain(double hops, double x) const {
    double k = Chunks(x), c = x / k, b = Bandwidth(plan_.channels);
    return hops * a() + (hops - 1) * (g() + c / b) + k * g() + x / b;
  }

  // `count` messages of x bytes, one per peer, all posted at once: the
  // latencies overlap, the overheads add up, the rank's link carries all of
  // it at bw(count); with `incast` they all land on one rank.
  //   a + count g + count x f / bw(count),  f = Incast(count) or 1
  double Fan(double count, double x, bool incast) const {
    double f = incast ? Incast(count) : 1.0;
    return a() + count * g() + count * x * f / Bandwidth(count);
  }

  // Fan with incast where each arriving message is reduced into the result,
  // overlapped with the next arrival (a two-stage pipeline of `count` items).
  //   a + count g + max(count x f / bw, count x / R) + min(x f / bw, x / R)
  double FanReduce(double count, double x) const {
    double f = Incast(count), b = Bandwidth(count), r = in_.reduce_bytes_per_us;
    return a() + count * g() + std::max(count * x * f / b, count * x / r) + std::min(x * f / b, x / r);
  }

  // Binomial gather or scatter of n blocks of x bytes: in round i a rank
  // moves the min(2^i, n - 2^i) blocks its subtree holds.
  double BinomialBlocks(double x) const {
    double total = 0;
    for (int i = 0; (1 << i) < in_.ranks; ++i) {
      double blocks = std::min<double>(1 << i, in_.ranks - (1 << i));
      total += Send(blocks * x);
    }
    return total;
  }

  // Double binary tree allreduce: two trees, each carrying S / 2 up (reduce)
  // and back down (broadcast), chunk-pipelined over depth d = floor(log2 n).
  // Each rank is inner in one tree and a leaf in the other, so per chunk
  // step it moves w = 2 chunks each way (w = 1 for n = 2) and, going up,
  // reduces w chunks. A pipeline of k chunks costs the first chunk's trip
  // through every stage plus k - 1 times the slowest stage:
  //   up   = d a + d (w g + w c / bw + w c / R) + (k - 1)(w g + max(w c / bw, w c / R))
  //   down = d a + d (w g + w c / bw)           + (k - 1)(w g + w c / bw)
  //   with k = k(S / 2), c = S / 2 / k. For n = 2 this is exactly the ring.
  double DoubleBinaryTree(double s) const {
    double d = Depth(), half = s / 2, k = Chunks(half), c = half / k, w = in_.ranks == 2 ? 1 : 2;
    double b = Bandwidth(plan_.channels), r = in_.reduce_bytes_per_us;
    double up = d * a() + d * (w * g() + w * c / b + w * c / r) + (k - 1) * (w * g() + std::max(w * c / b, w * c / r));
    double down = d * a() + d * (w * g() + w * c / b) + (k - 1) * (w * g() + w * c / b);
    return up + down;
  }

 private:
  const ModelInputs& in_;
  const Plan& plan_;
};

double Predict(const Terms& t, K coll, std::string_view alg, double s) {
  const double n = t.n(), m = s / n, steps = n - 1, rounds = t.Rounds();
  switch (coll) {
    case K::kAllreduce:
      // Reduce-scatter then allgather around the ring: 2(n-1) steps of m,
      // the first n-1 reducing what arrives.
      if (alg == "ring") return steps * t.SendReduce(m) + steps * t.Send(m);
      // Binomial reduce to rank 0 (ceil(log2 n) rounds of S, reducing), then
      // binomial broadcast of S.
      if (alg == "tree") return rounds * t.SendReduce(s) + rounds * t.Send(s);
      if (alg == "dbtree") return t.DoubleBinaryTree(s);
      // Every rank sends S to every other and reduces the n-1 it receives.
      if (alg == "direct") return t.FanReduce(steps, s);
      break;
    case K::kAllgather:
    case K::kAllgatherv:  // as allgather with equal blocks
      // n-1 steps, each passing one block on.
      if (alg == "ring") return steps * t.Send(m);
      // The own block to all n-1 others at once (and n-1 blocks in).
      if (alg == "direct") return t.Fan(steps, m, /*incast=*/true);
      break;
    case K::kReduceScatter:
      // n-1 steps of one block, reducing what arrives.
      if (alg == "ring") return steps * t.SendReduce(m);
      // Block r to rank r from everyone; each rank reduces n-1 blocks.
      if (alg == "direct") return t.FanReduce(steps, m);
      break;
    case K::kBroadcast:
      // ceil(log2 n) rounds of the whole buffer.
      if (alg == "tree") return rounds * t.Send(s);
      // A chain root -> ... -> last: n-1 links, chunk-pipelined.
      if (alg == "pipelined") return t.Chain(steps, s);
      // The root sends S to each of the n-1 others (fan-out: no incast).
      if (alg == "direct") return t.Fan(steps, s, /*incast=*/false);
      break;
    case K::kReduce:
      // ceil(log2 n) rounds of the whole buffer, reducing.
      if (alg == "tree") return rounds * t.SendReduce(s);
      // All n-1 send S to the root, which reduces as they arrive.
      if (alg == "direct") return t.FanReduce(steps, s);
      break;
    case K::kAlltoall:
    case K::kAlltoallv:  // as alltoall with equal blocks
      // Every block posted at once: n-1 flows into every rank.
      if (alg == "direct") return t.Fan(steps, m, /*incast=*/true);
      // n-1 steps, one peer each way per step.
      if (alg == "pairwise") return steps * t.Send(m);
      break;
    case K::kGather:
      if (alg == "direct") return t.Fan(steps, m, /*incast=*/true);
      if (alg == "tree") return t.BinomialBlocks(m);
      break;
    case K::kScatter:
      if (alg == "direct") return t.Fan(steps, m, /*incast=*/false);
      if (alg == "tree") return t.BinomialBlocks(m);
      break;
    case K::kBarrier:
      // ceil(log2 n) rounds of an empty message.
      if (alg == "dissemination") return rounds * (t.a() + t.g());
      // Binomial gather to rank 0, then binomial release.
      if (alg == "tree") return 2 * rounds * (t.a() + t.g());
      break;
    case K::kSendRecv:
      // One message: one stream.
      if (alg == "direct") return t.Send(s);
      // Chunks over ch channels: gains only where one stream cannot fill the link.
      if (alg == "pipelined") return t.Send(s);
      break;
  }
  return kInfinity;
}

bool Known(K coll, std::string_view alg) {
  for (const AlgorithmDesc& desc : ModelAlgorithms()) {
    if (desc.coll == coll && desc.name == alg) return true;
  }
  return false;
}

}  // namespace

double PredictWithPlan(const ModelInputs& in, CollectiveKind coll, std::string_view algorithm, uint64_t bytes,
                       const Plan& plan) {
  if (!Known(coll, algorithm)) return kInfinity;
  double s = static_cast<double>(bytes);
  // One rank: a local copy whatever the algorithm.
  if (in.ranks <= 1) return in.overhead_us + (coll == K::kBarrier ? 0.0 : s / in.copy_bytes_per_us);
  Plan used = plan;
  if (used.channels < 1) used.channels = 1;
  return Predict(Terms(in, used), coll, algorithm, s);
}

Estimate BestPlan(const ModelInputs& in, CollectiveKind coll, std::string_view algorithm, uint64_t bytes) {
  Estimate best;
  best.micros = PredictWithPlan(in, coll, algorithm, bytes, best.plan);
  bool searched = IsChunkedAlgorithm(algorithm) && coll != K::kBarrier && bytes > 0 && in.ranks > 1;
  if (!searched || !std::isfinite(best.micros)) return best;

  best = Estimate();
  constexpr double kTie = 1e-9;  // relative
  for (int channels = 1; channels <= kMaxModelChannels; channels *= 2) {
    // More channels only help while the previous count did not fill the
    // link, and only with at least a minimum chunk for each.
    if (channels > 1 && (channels / 2) * in.stream_bytes_per_us >= in.link_bytes_per_us) break;
    if (channels > 1 && bytes < channels * kMinChunkBytes) break;
    for (size_t chunk = kMinChunkBytes;; chunk *= 2) {
      Plan plan{chunk, channels};
      double micros = PredictWithPlan(in, coll, algorithm, bytes, plan);
      bool better = micros < best.micros * (1 - kTie);
      bool tie_larger_chunk = micros <= best.micros * (1 + kTie) && channels == best.plan.channels;
      if (better || tie_larger_chunk) best = Estimate{micros, plan};
      if (chunk >= bytes || chunk >= kMaxChunkBytes) break;
    }
  }
  return best;
}

}  // namespace mc::algo
