// Ring allreduce: a reduce-scatter around the ring, then an allgather. Each
// step's segment moves in chunks, and a chunk is passed on as soon as it is
// reduced, so steps overlap. Every segment is reduced on exactly one rank and
// then copied, so all ranks end with bitwise the same result.
#include <cstring>

#include "algos/common.h"
#include "algos/registry.h"
#include "reduce/reduce_kernels.h"

namespace mc::algo {

absl::Status AllreduceRing(Attempt& a, const CollArgs& args) {
  const int n = a.size(), me = a.me();
  const size_t E = args.elem;
  char* out = args.recv_bytes();
  const char* in = args.send_bytes();
  if (n == 1) {
    if (in != out) CopyBytes(out, in, args.count * E);
    return absl::OkStatus();
  }
  const int next = a.group().ring(1), prev = a.group().ring(-1);
  auto seg = [&](int i) { return Segment(args.count, n, ((i % n) + n) % n); };
  const size_t chunk = ChunkElems(args, Segment(args.count, n, 0).count);
  char* tmp[2] = {static_cast<char*>(a.Scratch(seg(0).count * E)), static_cast<char*>(a.Scratch(seg(0).count * E))};

  std::vector<Attempt::Op> sends;
  // Reduce-scatter. Step k receives segment me-k-1 into tmp[k % 2].
  auto post_recvs = [&](int k, std::vector<Attempt::Op>& recvs) -> absl::Status {
    Range r = seg(me - k - 1);
    for (size_t c = 0; c < NumChunks(r.count, chunk); ++c) {
      size_t len = std::min(chunk, r.count - std::min(r.count, c * chunk));
      MC_ALGO_POST(recvs, a.Irecv(prev, k, tmp[k % 2] + c * chunk * E, len * E));
    }
    return absl::OkStatus();
  };
  {
    Range r = seg(me);
    for (size_t c = 0; c < NumChunks(r.count, chunk); ++c) {
      size_t len = std::min(chunk, r.count - std::min(r.count, c * chunk));
      MC_ALGO_POST(sends, a.Isend(next, 0, in + (r.offset + c * chunk) * E, len * E));
    }
  }
  std::vector<Attempt::Op> cur, upcoming;
  MC_ALGO_RETURN_IF_ERROR(post_recvs(0, cur));
  for (int k = 0; k <= n - 2; ++k) {
    if (k + 1 <= n - 2) MC_ALGO_RETURN_IF_ERROR(post_recvs(k + 1, upcoming));
    Range r = seg(me - k - 1);
    for (size_t c = 0; c < cur.size(); ++c) {
      MC_ALGO_RETURN_IF_ERROR(a.Wait(cur[c]));
      size_t off = r.offset + c * chunk;
      size_t len = std::min(chunk, r.count - std::min(r.count, c * chunk));
      Reduce2(out + off * E, in + off * E, tmp[k % 2] + c * chunk * E, len, args.type, args.op);
      if (k == n - 2) {
        if (args.op == ReduceOp::kAvg) DivideBy(out + off * E, len, args.type, n);
      } else {
        MC_ALGO_POST(sends, a.Isend(next, k + 1, out + off * E, len * E));
      }
    }
    cur.swap(upcoming);
    upcoming.clear();
  }
  MC_ALGO_RETURN_IF_ERROR(WaitAndClear(a, sends));

  // Allgather of the reduced segments: step k receives segment me-k and
  // passes it on at step k+1.
  std::vector<std::vector<Attempt::Op>> recvs(n - 1);
  for (int k = 0; k <= n - 2; ++k) {
    Range r = seg(me - k);
    for (size_t c = 0; c < NumChunks(r.count, chunk); ++c) {
      size_t len = std::min(chunk, r.count - std::min(r.count, c * chunk));
      MC_ALGO_POST(recvs[k], a.Irecv(prev, n + k, out + (r.offset + c * chunk) * E, len * E));
    }
  }
  {
    Range r = seg(me + 1);
    for (size_t c = 0; c < NumChunks(r.count, chunk); ++c) {
      size_t len = std::min(chunk, r.count - std::min(r.count, c * chunk));
      MC_ALGO_POST(sends, a.Isend(next, n, out + (r.offset + c * chunk) * E, len * E));
    }
  }
  for (int k = 0; k <= n - 2; ++k) {
    Range r = seg(me - k);
    for (size_t c = 0; c < recvs[k].size(); ++c) {
      MC_ALGO_RETURN_IF_ERROR(a.Wait(recvs[k][c]));
      if (k == n - 2) continue;
      size_t len = std::min(chunk, r.count - std::min(r.count, c * chunk));
      MC_ALGO_POST(sends, a.Isend(next, n + k + 1, out + (r.offset + c * chunk) * E, len * E));
    }
  }
  return WaitAndClear(a, sends);
}

}  // namespace mc::algo
