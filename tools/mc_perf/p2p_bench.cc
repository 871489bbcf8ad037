#include "mc_perf/p2p_bench.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "absl/strings/str_cat.h"

namespace mc::perf {
namespace {

constexpr uint64_t kLatencyTag = 1, kDataTag = 2, kAckTag = 3, kSyncTag = 4, kCheckTag = 5;
// Bytes moved per repetition, so large sizes take few iterations.
constexpr uint64_t kLatencyBudget = 1ull << 30;
constexpr uint64_t kBandwidthBudget = 2ull << 30;

using Clock = std::chrono::steady_clock;

struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};
using Buffer = std::unique_ptr<uint8_t, FreeDeleter>;

Buffer Allocate(uint64_t bytes) {
  size_t rounded = std::max<uint64_t>(64, (bytes + 63) / 64 * 64);
  auto* p = static_cast<uint8_t*>(std::aligned_alloc(64, rounded));
  std::memset(p, 0, rounded);  // touch every page before timing
  return Buffer(p);
}

uint8_t Pattern(uint64_t bytes, uint64_t i) { return static_cast<uint8_t>((i * 131 + bytes * 7 + 1) & 0xff); }

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

class P2pPair {
 public:
  P2pPair(Communicator& comm, const Options& o) : comm_(comm), o_(o), peer_(1 - comm.rank()) {}

  absl::Status Sync() {
    uint8_t token = 0;
    if (comm_.rank() == 0) {
      if (absl::Status s = comm_.Send(peer_, kSyncTag, &token, 1); !s.ok()) return s;
      return comm_.Recv(peer_, kSyncTag, &token, 1);
    }
    if (absl::Status s = comm_.Recv(peer_, kSyncTag, &token, 1); !s.ok()) return s;
    return comm_.Send(peer_, kSyncTag, &token, 1);
  }

  // One-way latency in microseconds over `iters` round trips.
  absl::StatusOr<double> PingPong(uint8_t* send, uint8_t* recv, uint64_t bytes, int iters) {
    Request r;
    auto start = Clock::now();
    for (int i = 0; i < iters; ++i) {
      if (comm_.rank() == 0) {
        if (absl::Status s = comm_.Irecv(peer_, kLatencyTag, recv, bytes, &r); !s.ok()) return s;
        if (absl::Status s = comm_.Send(peer_, kLatencyTag, send, bytes); !s.ok()) return s;
        if (absl::Status s = comm_.Wait(r); !s.ok()) return s;
      } else {
        if (absl::Status s = comm_.Recv(peer_, kLatencyTag, recv, bytes); !s.ok()) return s;
        if (absl::Status s = comm_.Send(peer_, kLatencyTag, send, bytes); !s.ok()) return s;
      }
    }
    std::chrono::duration<double, std::micro> elapsed = Clock::now() - start;
    return elapsed.count() / (2.0 * iters);
  }

  // Rank 0 streams windows of messages to rank 1, which acks each window.
  absl::StatusOr<double> Stream(uint8_t* send, uint8_t* recv, uint64_t bytes, int windows) {
    std::vector<Request> reqs(o_.window);
    uint8_t ack = 0;
    auto start = Clock::now();
    for (int w = 0; w < windows; ++w) {
      for (int m = 0; m < o_.window; ++m) {
        absl::Status s = comm_.rank() == 0 ? comm_.Isend(peer_, kDataTag, send, bytes, &reqs[m])
                                           : comm_.Irecv(peer_, kDataTag, recv, bytes, &reqs[m]);
        if (!s.ok()) return s;
      }
      if (absl::Status s = comm_.WaitAll(absl::MakeSpan(reqs)); !s.ok()) return s;
      absl::Status s = comm_.rank() == 0 ? comm_.Recv(peer_, kAckTag, &ack, 1) : comm_.Send(peer_, kAckTag, &ack, 1);
      if (!s.ok()) return s;
    }
    std::chrono::duration<double> elapsed = Clock::now() - start;
    return static_cast<double>(bytes) * o_.window * windows / elapsed.count() / 1e9;
  }

  // Rank 0 sends one patterned message; rank 1 counts wrong bytes and reports them.
  absl::StatusOr<int64_t> Check(uint8_t* send, uint8_t* recv, uint64_t bytes) {
    int64_t wrong = 0;
    if (comm_.rank() == 0) {
      for (uint64_t i = 0; i < bytes; ++i) send[i] = Pattern(bytes, i);
      if (absl::Status s = comm_.Send(peer_, kCheckTag, send, bytes); !s.ok()) return s;
      if (absl::Status s = comm_.Recv(peer_, kCheckTag, &wrong, sizeof(wrong)); !s.ok()) return s;
      return wrong;
    }
    std::memset(recv, 0, bytes);
    if (absl::Status s = comm_.Recv(peer_, kCheckTag, recv, bytes); !s.ok()) return s;
    for (uint64_t i = 0; i < bytes; ++i) wrong += recv[i] != Pattern(bytes, i);
    if (absl::Status s = comm_.Send(peer_, kCheckTag, &wrong, sizeof(wrong)); !s.ok()) return s;
    return wrong;
  }

 private:
  Communicator& comm_;
  const Options& o_;
  int peer_;
};

}  // namespace

absl::StatusOr<std::vector<P2pRow>> RunP2p(Communicator& comm, const Options& o) {
  if (comm.size() < 2) return absl::InvalidArgumentError("p2p needs at least 2 ranks (use --np 2)");
  std::vector<P2pRow> rows;
  if (comm.rank() > 1) return rows;
  Buffer send = Allocate(o.max_bytes), recv = Allocate(o.max_bytes);
  P2pPair pair(comm, o);
  for (uint64_t bytes = o.min_bytes; bytes <= o.max_bytes; bytes = bytes == 0 ? 1 : bytes * o.factor) {
    P2pRow row;
    row.bytes = bytes;
    row.lat_iters = static_cast<int>(std::clamp<uint64_t>(kLatencyBudget / std::max<uint64_t>(bytes, 1), 3, o.iters));
    int windows = static_cast<int>(std::clamp<uint64_t>(
        kBandwidthBudget / (std::max<uint64_t>(bytes, 1) * o.window), 2, std::max(2, o.iters / 8)));
    row.bw_messages = windows * o.window;
    if (o.check) {
      absl::StatusOr<int64_t> wrong = pair.Check(send.get(), recv.get(), bytes);
      if (!wrong.ok()) return wrong.status();
      row.wrong = *wrong;
    }
    int warm = std::min(o.warmup, row.lat_iters);
    if (absl::Status s = pair.Sync(); !s.ok()) return s;
    if (absl::StatusOr<double> w = pair.PingPong(send.get(), recv.get(), bytes, warm); !w.ok()) return w.status();
    std::vector<double> lats, bws;
    for (int rep = 0; rep < o.reps; ++rep) {
      if (absl::Status s = pair.Sync(); !s.ok()) return s;
      absl::StatusOr<double> lat = pair.PingPong(send.get(), recv.get(), bytes, row.lat_iters);
      if (!lat.ok()) return lat.status();
      if (absl::Status s = pair.Sync(); !s.ok()) return s;
      absl::StatusOr<double> bw = pair.Stream(send.get(), recv.get(), bytes, windows);
      if (!bw.ok()) return bw.status();
      lats.push_back(*lat);
      bws.push_back(*bw);
    }
    row.lat_us = Median(lats);
    row.bw_gbps = Median(bws);
    rows.push_back(row);
    if (bytes > o.max_bytes / o.factor) break;  // the next step would overflow or pass -e
  }
  return rows;
}

}  // namespace mc::perf
