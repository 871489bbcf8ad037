#include "mc_perf/coll_bench.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "mc_perf/coll_check.h"

namespace mc::perf {
namespace {

using Clock = std::chrono::steady_clock;
using K = CollectiveKind;

// A user tag (below 2^63) for sending results to rank 0; p2p uses 1-5.
constexpr uint64_t kResultTag = 0x6d63706572660001ull;
// Sizes moved per repetition, so that large sizes take few iterations.
constexpr uint64_t kRepBudget = 256ull << 20;

bool HasRedop(K c) { return c == K::kAllreduce || c == K::kReduceScatter || c == K::kReduce; }
bool HasRoot(K c) { return c == K::kBroadcast || c == K::kReduce || c == K::kGather || c == K::kScatter; }
// Whether nccl-tests' size counts all size() blocks.
bool IsBlocked(K c) {
  return c == K::kAllgather || c == K::kReduceScatter || c == K::kAlltoall || c == K::kGather || c == K::kScatter;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Where one call's data lives: pointers into the two buffers, by the form.
struct Layout {
  char* send = nullptr;   // what the call gets as send (broadcast: the buffer)
  char* recv = nullptr;   // what the call gets as recv, and what is checked
  size_t send_bytes = 0;  // of this rank's input, at `send`
  size_t recv_bytes = 0;  // of the output, at `recv`
  bool poison_recv = true;  // false when recv holds (part of) the input
};

}  // namespace

void CollBench::FreeDeleter::operator()(char* p) const { std::free(p); }

char* CollBench::Buffer::Reserve(size_t bytes) {
  if (bytes > capacity || !data) {
    size_t rounded = std::max<size_t>(64, (bytes + 63) / 64 * 64);
    data.reset(static_cast<char*>(std::aligned_alloc(64, rounded)));
    std::memset(data.get(), 0, rounded);  // touch every page before timing
    capacity = rounded;
  }
  return data.get();
}

double BusBwFactor(CollectiveKind coll, int ranks) {
  const double n = ranks;
  switch (coll) {
    case K::kAllreduce: return 2 * (n - 1) / n;
    case K::kAllgather:
    case K::kReduceScatter:
    case K::kAlltoall:
    case K::kGather:
    case K::kScatter: return (n - 1) / n;
    case K::kBroadcast:
    case K::kReduce: return 1;
    default: return 0;
  }
}

const char* BusBwFactorText(CollectiveKind coll) {
  switch (coll) {
    case K::kAllreduce: return "2(n-1)/n";
    case K::kAllgather:
    case K::kReduceScatter:
    case K::kAlltoall:
    case K::kGather:
    case K::kScatter: return "(n-1)/n";
    case K::kBroadcast:
    case K::kReduce: return "1";
    default: return "-";
  }
}

std::vector<uint64_t> SweepSizes(const Options& o) {
  if (o.coll == K::kBarrier) return {0};
  std::vector<uint64_t> out;
  for (uint64_t bytes = o.min_bytes; bytes <= o.max_bytes; bytes = bytes == 0 ? 1 : bytes * o.factor) {
    out.push_back(bytes);
    if (bytes > o.max_bytes / o.factor) break;  // the next step would overflow or pass -e
  }
  return out;
}

absl::StatusOr<CollectiveResult> CollBench::Call(const Options& o, size_t count, const std::string& algorithm) {
  CollectiveOptions opts;
  opts.algorithm = algorithm;
  const int me = comm_.rank();
  const size_t E = DataTypeSize(o.dtype);
  char* s = send_.data.get();
  char* r = recv_.data.get();
  switch (o.coll) {
    case K::kAllreduce:
      return coll_.Allreduce(o.inplace ? r : s, r, count, o.dtype, o.redop, opts);
    case K::kAllgather:
      return coll_.Allgather(o.inplace ? r + me * count * E : s, r, count, o.dtype, opts);
    case K::kReduceScatter:
      return coll_.ReduceScatter(s, o.inplace ? s + me * count * E : r, count, o.dtype, o.redop, opts);
    case K::kBroadcast:
      return coll_.Broadcast(r, count, o.dtype, o.root, opts);
    case K::kReduce:
      return coll_.Reduce(o.inplace ? r : s, r, count, o.dtype, o.redop, o.root, opts);
    case K::kAlltoall:
      return coll_.Alltoall(o.inplace ? r : s, r, count, o.dtype, opts);
    case K::kGather:
      return coll_.Gather(o.inplace && me == o.root ? r + me * count * E : s, r, count, o.dtype, o.root, opts);
    case K::kScatter:
      return coll_.Scatter(s, o.inplace && me == o.root ? s + me * count * E : r, count, o.dtype, o.root, opts);
    case K::kBarrier:
      return coll_.Barrier(opts);
    default:
      return absl::InvalidArgumentError(absl::StrCat("mc_perf does not measure ", CollectiveName(o.coll)));
  }
}

absl::StatusOr<std::vector<std::vector<double>>> CollBench::GatherToRoot(const std::vector<double>& mine) {
  std::vector<std::vector<double>> all(comm_.size(), mine);
  const size_t bytes = mine.size() * sizeof(double);
  if (comm_.rank() != 0) {
    if (absl::Status s = comm_.Send(0, kResultTag, mine.data(), bytes); !s.ok()) return s;
    return all;
  }
  for (int r = 1; r < comm_.size(); ++r) {
    if (absl::Status s = comm_.Recv(r, kResultTag, all[r].data(), bytes); !s.ok()) return s;
  }
  return all;
}

absl::StatusOr<CollRow> CollBench::Run(const Options& o, uint64_t bytes, const std::string& algorithm) {
  const int n = comm_.size(), me = comm_.rank();
  const size_t E = DataTypeSize(o.dtype);
  if (HasRoot(o.coll) && (o.root < 0 || o.root >= n)) {
    return absl::InvalidArgumentError(absl::StrCat("--root ", o.root, ": not a rank of ", n));
  }
  CollRow row;
  // Per-rank count as the API takes it, and the size nccl-tests prints.
  size_t count = 0;
  if (o.coll != K::kBarrier) {
    count = IsBlocked(o.coll) ? bytes / (static_cast<uint64_t>(n) * E) : bytes / E;
    row.bytes = IsBlocked(o.coll) ? count * n * E : count * E;
    row.count = row.bytes / E;
  }
  const size_t block = count * E, all_blocks = block * n;
  // Buffers: send holds the input of the out-of-place form, recv the output.
  switch (o.coll) {
    case K::kAllreduce:
    case K::kBroadcast:
    case K::kReduce:
      send_.Reserve(block);
      recv_.Reserve(block);
      break;
    case K::kAllgather:
    case K::kGather:
      send_.Reserve(block);
      recv_.Reserve(all_blocks);
      break;
    case K::kReduceScatter:
    case K::kScatter:
      send_.Reserve(all_blocks);
      recv_.Reserve(block);
      break;
    case K::kAlltoall:
      send_.Reserve(all_blocks);
      recv_.Reserve(all_blocks);
      break;
    default:
      send_.Reserve(64);
      recv_.Reserve(64);
      break;
  }
  char* s = send_.data.get();
  char* r = recv_.data.get();

  int64_t wrong = -1;
  std::string ran;
  if (o.check && o.coll != K::kBarrier) {
    // Inputs where the call reads them, the output poisoned around them.
    const K c = o.coll;
    switch (c) {
      case K::kAllreduce:
      case K::kReduce:
        Poison(r, block);
        FillInput(o.inplace ? r : s, count, 0, c, o.dtype, o.redop, me, n);
        break;
      case K::kReduceScatter:
        if (!o.inplace) Poison(r, block);
        FillInput(s, count * n, 0, c, o.dtype, o.redop, me, n);
        break;
      case K::kBroadcast:
        if (me == o.root) {
          FillInput(r, count, 0, c, o.dtype, o.redop, me, n);
        } else {
          Poison(r, block);
        }
        break;
      case K::kAllgather:
        Poison(r, all_blocks);
        FillInput(o.inplace ? r + me * block : s, count, 0, c, o.dtype, o.redop, me, n);
        break;
      case K::kGather:
        Poison(r, all_blocks);
        FillInput(o.inplace && me == o.root ? r + me * block : s, count, 0, c, o.dtype, o.redop, me, n);
        break;
      case K::kAlltoall:
        Poison(r, all_blocks);
        FillInput(o.inplace ? r : s, count * n, 0, c, o.dtype, o.redop, me, n);
        break;
      case K::kScatter:
        Poison(r, block);
        if (me == o.root) FillInput(s, count * n, 0, c, o.dtype, o.redop, me, n);
        break;
      default:
        break;
    }
    absl::StatusOr<CollectiveResult> result = Call(o, count, algorithm);
    if (!result.ok()) return result.status();
    ran = result->algorithm;
    const char* out = r;
    if (o.inplace && c == K::kReduceScatter) out = s + me * block;
    if (o.inplace && c == K::kScatter && me == o.root) out = s + me * block;
    wrong = CountWrong(c, o.dtype, o.redop, me, n, o.root, out, count);
  }

  row.iters = static_cast<int>(std::min<uint64_t>(o.iters, std::max<uint64_t>(2, kRepBudget / std::max<uint64_t>(bytes, 1))));
  const int warm = std::min(o.warmup, row.iters);
  for (int i = 0; i < warm; ++i) {
    absl::StatusOr<CollectiveResult> result = Call(o, count, algorithm);
    if (!result.ok()) return result.status();
    ran = result->algorithm;
  }
  std::vector<double> mine;
  for (int rep = 0; rep < o.reps; ++rep) {
    if (absl::StatusOr<CollectiveResult> b = coll_.Barrier(); !b.ok()) return b.status();
    auto start = Clock::now();
    for (int i = 0; i < row.iters; ++i) {
      absl::StatusOr<CollectiveResult> result = Call(o, count, algorithm);
      if (!result.ok()) return result.status();
      if (i == 0) ran = result->algorithm;
    }
    std::chrono::duration<double, std::micro> elapsed = Clock::now() - start;
    mine.push_back(elapsed.count() / row.iters);
  }
  mine.push_back(static_cast<double>(wrong));
  absl::StatusOr<std::vector<std::vector<double>>> all = GatherToRoot(mine);
  if (!all.ok()) return all.status();
  std::vector<double> slowest(o.reps, 0);
  row.wrong = o.check && o.coll != K::kBarrier ? 0 : -1;
  for (const std::vector<double>& rank_times : *all) {
    for (int rep = 0; rep < o.reps; ++rep) slowest[rep] = std::max(slowest[rep], rank_times[rep]);
    if (row.wrong >= 0) row.wrong += static_cast<int64_t>(rank_times[o.reps]);
  }
  row.time_us = Median(slowest);
  row.algorithm = ran;
  row.algbw_gbps = row.time_us > 0 ? static_cast<double>(row.bytes) / row.time_us / 1e3 : 0;
  row.busbw_gbps = row.algbw_gbps * BusBwFactor(o.coll, n);
  return row;
}

absl::StatusOr<std::vector<CollRow>> RunCollectiveSweep(Communicator& comm, Collectives& coll, const Options& o) {
  CollBench bench(comm, coll);
  std::vector<CollRow> rows;
  for (uint64_t bytes : SweepSizes(o)) {
    absl::StatusOr<CollRow> row = bench.Run(o, bytes, o.algo);
    if (!row.ok()) return row.status();
    if (comm.rank() == 0) PrintCollRow(o, *row);
    rows.push_back(*row);
  }
  return rows;
}

void PrintCollHeader(const Communicator& comm, const Options& o) {
  const int n = comm.size();
  const std::string transport = n > 1 ? comm.transport_name((comm.rank() + 1) % n) : "self";
  const K c = o.coll;
  std::printf("# mc_perf %s: %d ranks over %s", CollectiveName(c), n, transport.c_str());
  if (c != K::kBarrier) {
    std::printf(", %s", DataTypeName(o.dtype));
    if (HasRedop(c)) std::printf(" %s", ReduceOpName(o.redop));
    if (HasRoot(c)) std::printf(", root %d", o.root);
    std::printf(", %s", c == K::kBroadcast || o.inplace ? "in place" : "out of place");
  }
  std::printf(", %s\n", o.algo.empty() ? "algorithm chosen by the tuner" : ("algorithm forced: " + o.algo).c_str());
  std::printf("# size: the whole buffer as nccl-tests prints it%s; count: its elements\n",
              IsBlocked(c) ? " (all size() blocks)" : "");
  std::printf("# time: us per call, the slowest rank's mean over up to %d iterations (fewer past %llu MiB per "
              "repetition), median of %d repetitions, after up to %d warmup calls\n",
              o.iters, static_cast<unsigned long long>(kRepBudget >> 20), o.reps, o.warmup);
  std::printf("# algbw = size / time; busbw = algbw * %s (nccl-tests' factor for %s); GB/s = 1e9 B/s\n",
              BusBwFactorText(c), CollectiveName(c));
  std::printf("# #wrong: elements that differ from a serial reference, summed over the ranks%s\n#\n",
              o.check ? "" : " (N/A: run with --check)");
  std::printf("# %12s %12s %6s %6s %5s %13s %12s %11s %11s %8s\n", "size(B)", "count", "type", "redop", "root",
              "algorithm", "time(us)", "algbw(GB/s)", "busbw(GB/s)", "#wrong");
  std::fflush(stdout);
}

void PrintCollRow(const Options& o, const CollRow& row) {
  const K c = o.coll;
  const std::string wrong = row.wrong < 0 ? "N/A" : std::to_string(row.wrong);
  std::printf("  %12llu %12llu %6s %6s %5d %13s %12.2f %11.3f %11.3f %8s\n",
              static_cast<unsigned long long>(row.bytes), static_cast<unsigned long long>(row.count),
              c == K::kBarrier ? "none" : DataTypeName(o.dtype), HasRedop(c) ? ReduceOpName(o.redop) : "none",
              HasRoot(c) ? o.root : -1, row.algorithm.c_str(), row.time_us, row.algbw_gbps, row.busbw_gbps,
              wrong.c_str());
  std::fflush(stdout);
}

}  // namespace mc::perf
