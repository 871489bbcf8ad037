// One rank of the multi-process collective tests; launched by coll_mp_test
// (MC_RANK, MC_WORLD_SIZE, MC_BOOTSTRAP, MC_TRANSPORT set).
//
//   coll_worker matrix <out_file> [collective...]
//       every collective x algorithm x dtype x op x count x in/out of place
//       against the serial reference; writes one hash per case to out_file so
//       the test can compare results across ranks bit for bit.
//   coll_worker rounding
//       random fractions: float sums within the rounding bound (see below).
//   coll_worker kill <collective> <algorithm> <victim> <seed> <out_file>
//       a loop of collectives; rank `victim` SIGKILLs itself at a random
//       moment; survivors check every result over the ranks that took part
//       and write the participants per iteration to out_file.
//   coll_worker errors
//       mismatched counts, a bad root, a bad algorithm: clear errors, no hang.
// Exit code 0 means every check held.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "coll/coll_values.h"
#include "mooncomm/collectives.h"
#include "mooncomm/communicator.h"
#include "mooncomm/status.h"

namespace mc::test {
namespace {

using K = CollectiveKind;

#define FAIL_IF(cond, ...)                                                                         \
  do {                                                                                             \
    if (cond) {                                                                                    \
      std::fprintf(stderr, "rank %d: %s:%d: %s\n", g_rank, __FILE__, __LINE__,                     \
                   absl::StrCat(__VA_ARGS__).c_str());                                             \
      return false;                                                                                \
    }                                                                                              \
  } while (0)

int g_rank = -1;

constexpr DataType kTypes[] = {DataType::kFloat32, DataType::kFloat64, DataType::kFloat16,
                               DataType::kBFloat16, DataType::kInt8,    DataType::kUInt8,
                               DataType::kInt32,   DataType::kInt64,   DataType::kBool};
constexpr ReduceOp kOps[] = {ReduceOp::kSum, ReduceOp::kProd, ReduceOp::kMin, ReduceOp::kMax, ReduceOp::kAvg};
constexpr size_t kCounts[] = {0, 1, 7, 1001, 65539};

struct Case {
  K kind;
  std::string algo;
  DataType type;
  ReduceOp op;
  size_t count;
  bool in_place;
  int root;
  size_t chunk_bytes;
  uint32_t salt;
  std::string Name() const {
    return absl::StrCat(CollectiveName(kind), "/", algo, "/", DataTypeName(type), "/", ReduceOpName(op), "/n", count,
                        in_place ? "/inplace" : "", "/root", root, "/chunk", chunk_bytes);
  }
};

CollectiveOptions Forced(const std::string& algo) {
  CollectiveOptions o;
  o.algorithm = algo;
  return o;
}

std::vector<int> AllRanks(int n) {
  std::vector<int> r(n);
  for (int i = 0; i < n; ++i) r[i] = i;
  return r;
}

// Compares element i of `got` with the reference over `ranks`.
bool SameAsReference(const Case& c, const std::vector<int>& ranks, const void* got, size_t got_index, size_t ref_index,
                     const std::string& what) {
  const size_t E = DataTypeSize(c.type);
  char want[8];
  ReferenceInto(c.type, c.op, ranks, ref_index, c.salt, want, 0);
  FAIL_IF(std::memcmp(static_cast<const char*>(got) + got_index * E, want, E) != 0, c.Name(), ": ", what,
          " element ", got_index, " is ", Load(c.type, got, got_index), ", want ", Load(c.type, want, 0));
  return true;
}

bool SameAsInput(const Case& c, int from, size_t input_index, const void* got, size_t got_index,
                 const std::string& what) {
  const size_t E = DataTypeSize(c.type);
  char want[8];
  Store(c.type, want, 0, InputValue(c.type, c.op, from, input_index, c.salt));
  FAIL_IF(std::memcmp(static_cast<const char*>(got) + got_index * E, want, E) != 0, c.Name(), ": ", what,
          " element ", got_index, " is ", Load(c.type, got, got_index), ", want rank ", from, "'s ",
          Load(c.type, want, 0));
  return true;
}

// Runs one case over `ranks` (the expected participants) and checks it.
// `hash` gets the bytes of this rank's result.
// `ranks` empty: take them from the result (a failure may have shrunk them).
bool RunCase(Collectives& coll, const Case& c, std::vector<int> ranks, uint64_t* hash) {
  const bool learn = ranks.empty();
  Communicator& comm = coll.comm();
  const int n = comm.size(), me = comm.rank();
  const size_t E = DataTypeSize(c.type), N = c.count;
  CollectiveOptions opt;
  opt.algorithm = c.algo;
  opt.chunk_bytes = c.chunk_bytes;
  std::vector<char> send, recv;
  absl::StatusOr<CollectiveResult> r;
  auto fill = [&](std::vector<char>& buf, size_t at_elem, int rank, size_t first, size_t count) {
    Fill(c.type, c.op, rank, first, c.salt, buf.data() + at_elem * E, count);
  };
  // Receive buffers start as garbage that no result could equal by chance.
  auto garbage = [](std::vector<char>& buf, size_t bytes) { buf.assign(bytes + 1, static_cast<char>(0x5b)); };
  std::vector<size_t> counts(n), displs(n), scounts(n), sdispls(n), rcounts(n), rdispls(n);
  switch (c.kind) {
    case K::kAllreduce: {
      garbage(recv, N * E);
      if (c.in_place) {
        fill(recv, 0, me, 0, N);
        r = coll.Allreduce(recv.data(), recv.data(), N, c.type, c.op, opt);
      } else {
        send.resize(N * E + 1);
        fill(send, 0, me, 0, N);
        r = coll.Allreduce(send.data(), recv.data(), N, c.type, c.op, opt);
      }
      FAIL_IF(!r.ok(), c.Name(), ": ", r.status().ToString());
      if (learn) ranks = r->participants;
      for (size_t i = 0; i < N; ++i) {
        if (!SameAsReference(c, ranks, recv.data(), i, i, "result")) return false;
      }
      *hash = HashBytes(recv.data(), N * E, *hash);
      break;
    }
    case K::kReduceScatter: {
      garbage(recv, N * E);
      send.resize(n * N * E + 1);
      fill(send, 0, me, 0, n * N);
      if (c.in_place) {
        r = coll.ReduceScatter(send.data(), send.data() + me * N * E, N, c.type, c.op, opt);
        std::memcpy(recv.data(), send.data() + me * N * E, N * E);
      } else {
        r = coll.ReduceScatter(send.data(), recv.data(), N, c.type, c.op, opt);
      }
      FAIL_IF(!r.ok(), c.Name(), ": ", r.status().ToString());
      if (learn) ranks = r->participants;
      for (size_t i = 0; i < N; ++i) {
        if (!SameAsReference(c, ranks, recv.data(), i, me * N + i, "result")) return false;
      }
      *hash = HashBytes(recv.data(), N * E, *hash);
      break;
    }
    case K::kReduce: {
      garbage(recv, N * E);
      if (c.in_place && me == c.root) {
        fill(recv, 0, me, 0, N);
        r = coll.Reduce(recv.data(), recv.data(), N, c.type, c.op, c.root, opt);
      } else {
        send.resize(N * E + 1);
        fill(send, 0, me, 0, N);
        r = coll.Reduce(send.data(), recv.data(), N, c.type, c.op, c.root, opt);
      }
      FAIL_IF(!r.ok(), c.Name(), ": ", r.status().ToString());
      if (learn) ranks = r->participants;
      if (me == c.root) {
        for (size_t i = 0; i < N; ++i) {
          if (!SameAsReference(c, ranks, recv.data(), i, i, "result")) return false;
        }
        *hash = HashBytes(recv.data(), N * E, *hash);
      }
      break;
    }
    case K::kBroadcast: {
      garbage(recv, N * E);
      if (me == c.root) fill(recv, 0, me, 0, N);
      r = coll.Broadcast(recv.data(), N, c.type, c.root, opt);
      FAIL_IF(!r.ok(), c.Name(), ": ", r.status().ToString());
      if (learn) ranks = r->participants;
      for (size_t i = 0; i < N; ++i) {
        if (!SameAsInput(c, c.root, i, recv.data(), i, "result")) return false;
      }
      *hash = HashBytes(recv.data(), N * E, *hash);
      break;
    }
    case K::kAllgather: {
      garbage(recv, n * N * E);
      if (c.in_place) {
        fill(recv, me * N, me, 0, N);
        r = coll.Allgather(recv.data() + me * N * E, recv.data(), N, c.type, opt);
      } else {
        send.resize(N * E + 1);
        fill(send, 0, me, 0, N);
        r = coll.Allgather(send.data(), recv.data(), N, c.type, opt);
      }
      FAIL_IF(!r.ok(), c.Name(), ": ", r.status().ToString());
      if (learn) ranks = r->participants;
      for (int from : ranks) {
        for (size_t i = 0; i < N; ++i) {
          if (!SameAsInput(c, from, i, recv.data(), from * N + i, "block")) return false;
        }
      }
      for (int from = 0; from < n; ++from) {
        if (std::find(ranks.begin(), ranks.end(), from) != ranks.end()) continue;
        for (size_t i = 0; i < N * E; ++i) FAIL_IF(recv[from * N * E + i] != 0, c.Name(), ": block of rank ", from, " (not a participant) is not zero");
      }
      *hash = HashBytes(recv.data(), n * N * E, *hash);
      break;
    }
    case K::kAllgatherv: {
      size_t total = 0;
      for (int p = 0; p < n; ++p) {
        counts[p] = N + (p % 3);
        displs[p] = total + 1;  // a one-element gap before every block
        total = displs[p] + counts[p];
      }
      garbage(recv, total * E);
      send.resize(counts[me] * E + 1);
      fill(send, 0, me, 0, counts[me]);
      r = coll.Allgatherv(send.data(), recv.data(), counts, displs, c.type, opt);
      FAIL_IF(!r.ok(), c.Name(), ": ", r.status().ToString());
      if (learn) ranks = r->participants;
      for (int from : ranks) {
        for (size_t i = 0; i < counts[from]; ++i) {
          if (!SameAsInput(c, from, i, recv.data(), displs[from] + i, "block")) return false;
        }
      }
      for (int p = 0; p < n; ++p) FAIL_IF(recv[(displs[p] - 1) * E] != 0x5b, c.Name(), ": the gap before block ", p, " was written");
      *hash = HashBytes(recv.data(), total * E, *hash);
      break;
    }
    case K::kAlltoall: {
      garbage(recv, n * N * E);
      send.resize(n * N * E + 1);
      fill(send, 0, me, 0, n * N);  // block p, element i: input index p*N + i
      if (c.in_place) {
        std::memcpy(recv.data(), send.data(), n * N * E);
        r = coll.Alltoall(recv.data(), recv.data(), N, c.type, opt);
      } else {
        r = coll.Alltoall(send.data(), recv.data(), N, c.type, opt);
      }
      FAIL_IF(!r.ok(), c.Name(), ": ", r.status().ToString());
      if (learn) ranks = r->participants;
      for (int from : ranks) {
        for (size_t i = 0; i < N; ++i) {
          if (!SameAsInput(c, from, me * N + i, recv.data(), from * N + i, "block")) return false;
        }
      }
      *hash = HashBytes(recv.data(), n * N * E, *hash);
      break;
    }
    case K::kAlltoallv: {
      // Rank s sends N + (s + d) % 3 elements to rank d, input indexes d*100003 + i.
      size_t stotal = 0, rtotal = 0;
      for (int p = 0; p < n; ++p) {
        scounts[p] = N + (me + p) % 3;
        sdispls[p] = stotal;
        stotal += scounts[p];
        rcounts[p] = N + (p + me) % 3;
        rdispls[p] = rtotal + 1;
        rtotal = rdispls[p] + rcounts[p];
      }
      send.resize(stotal * E + 1);
      for (int p = 0; p < n; ++p) fill(send, sdispls[p], me, p * 100003, scounts[p]);
      garbage(recv, rtotal * E);
      r = coll.Alltoallv(send.data(), scounts, sdispls, recv.data(), rcounts, rdispls, c.type, opt);
      FAIL_IF(!r.ok(), c.Name(), ": ", r.status().ToString());
      if (learn) ranks = r->participants;
      for (int from : ranks) {
        for (size_t i = 0; i < rcounts[from]; ++i) {
          if (!SameAsInput(c, from, me * 100003 + i, recv.data(), rdispls[from] + i, "block")) return false;
        }
      }
      *hash = HashBytes(recv.data(), rtotal * E, *hash);
      break;
    }
    case K::kGather: {
      garbage(recv, n * N * E);
      if (c.in_place && me == c.root) {
        fill(recv, me * N, me, 0, N);
        r = coll.Gather(recv.data() + me * N * E, recv.data(), N, c.type, c.root, opt);
      } else {
        send.resize(N * E + 1);
        fill(send, 0, me, 0, N);
        r = coll.Gather(send.data(), recv.data(), N, c.type, c.root, opt);
      }
      FAIL_IF(!r.ok(), c.Name(), ": ", r.status().ToString());
      if (learn) ranks = r->participants;
      if (me == c.root) {
        for (int from : ranks) {
          for (size_t i = 0; i < N; ++i) {
            if (!SameAsInput(c, from, i, recv.data(), from * N + i, "block")) return false;
          }
        }
        *hash = HashBytes(recv.data(), n * N * E, *hash);
      }
      break;
    }
    case K::kScatter: {
      garbage(recv, N * E);
      send.resize(n * N * E + 1);
      if (me == c.root) fill(send, 0, me, 0, n * N);
      if (c.in_place && me == c.root) {
        r = coll.Scatter(send.data(), send.data() + me * N * E, N, c.type, c.root, opt);
        std::memcpy(recv.data(), send.data() + me * N * E, N * E);
      } else {
        r = coll.Scatter(send.data(), recv.data(), N, c.type, c.root, opt);
      }
      FAIL_IF(!r.ok(), c.Name(), ": ", r.status().ToString());
      if (learn) ranks = r->participants;
      for (size_t i = 0; i < N; ++i) {
        if (!SameAsInput(c, c.root, me * N + i, recv.data(), i, "result")) return false;
      }
      break;
    }
    case K::kBarrier:
      r = coll.Barrier(opt);
      FAIL_IF(!r.ok(), c.Name(), ": ", r.status().ToString());
      if (learn) ranks = r->participants;
      break;
    case K::kSendRecv:
      return true;
  }
  FAIL_IF(r->participants != ranks, c.Name(), ": participants ", absl::StrJoin(r->participants, ","), ", want ",
          absl::StrJoin(ranks, ","));
  FAIL_IF(r->algorithm != c.algo, c.Name(), ": ran ", r->algorithm);
  return true;
}

std::vector<std::string> AlgorithmsOf(K kind) {
  static const std::vector<std::pair<K, std::vector<std::string>>> kAlgos = {
      {K::kAllreduce, {"ring", "tree", "dbtree", "direct"}},
      {K::kReduceScatter, {"ring", "direct"}},
      {K::kReduce, {"tree", "direct"}},
      {K::kBroadcast, {"tree", "pipelined", "direct"}},
      {K::kAllgather, {"ring", "direct"}},
      {K::kAllgatherv, {"ring", "direct"}},
      {K::kAlltoall, {"direct", "pairwise"}},
      {K::kAlltoallv, {"direct", "pairwise"}},
      {K::kGather, {"direct", "tree"}},
      {K::kScatter, {"direct", "tree"}},
      {K::kBarrier, {"dissemination", "tree"}},
  };
  for (auto& [k, names] : kAlgos) {
    if (k == kind) return names;
  }
  return {};
}

bool IsReduction(K k) { return k == K::kAllreduce || k == K::kReduceScatter || k == K::kReduce; }
bool HasRoot(K k) { return k == K::kReduce || k == K::kBroadcast || k == K::kGather || k == K::kScatter; }
bool HasInPlace(K k) { return k != K::kBroadcast && k != K::kAllgatherv && k != K::kAlltoallv && k != K::kBarrier; }

int Matrix(Collectives& coll, const std::string& out_file, const std::vector<K>& kinds) {
  const int n = coll.comm().size();
  std::ofstream out(out_file);
  uint32_t salt = 0;
  int cases = 0;
  const char* filter = std::getenv("COLL_FILTER");
  for (K kind : kinds) {
    for (const std::string& algo : AlgorithmsOf(kind)) {
      for (DataType type : kTypes) {
        for (ReduceOp op : kOps) {
          if (!IsReduction(kind) && op != ReduceOp::kSum) continue;
          for (size_t count : kCounts) {
            if (kind == K::kBarrier && (count > 0 || type != DataType::kFloat32)) continue;
            // The largest count once per (collective, algorithm, op) and a few types.
            if (count > 4096 && type != DataType::kFloat32 && type != DataType::kBFloat16 && type != DataType::kInt8) continue;
            for (int in_place = 0; in_place < (HasInPlace(kind) ? 2 : 1); ++in_place) {
              for (int root : HasRoot(kind) ? std::vector<int>{0, n - 1} : std::vector<int>{-1}) {
                if (root == n - 1 && n > 1 && (count > 7 || in_place)) continue;
                // Small chunks make every chunked algorithm pipeline even at small sizes.
                for (size_t chunk : {size_t{0}, size_t{96}}) {
                  if (chunk && (count != 1001 || type != DataType::kFloat32)) continue;
                  Case c{kind, algo, type, op, count, in_place == 1, std::max(root, 0), chunk, ++salt};
                  // COLL_FILTER=<substring> runs only the matching cases (debugging).
                  if (filter != nullptr && c.Name().find(filter) == std::string::npos) continue;
                  uint64_t hash = 1469598103934665603ull;
                  if (!RunCase(coll, c, AllRanks(n), &hash)) return 1;
                  out << c.Name() << " " << hash << "\n";
                  ++cases;
                }
              }
            }
          }
        }
      }
    }
  }
  std::fprintf(stderr, "rank %d: %d cases passed\n", g_rank, cases);
  return 0;
}

// Random fractions: a float sum may differ from the exact sum only by
// rounding. Each of the n-1 additions rounds once, so for every element
// |result - exact| <= (n-1) * eps * sum|x_r| (a standard bound for
// recursive summation, whatever the order), plus the final rounding to the
// type, eps * |exact|. exact is computed in long double.
int Rounding(Collectives& coll) {
  Communicator& comm = coll.comm();
  const int n = comm.size(), me = comm.rank();
  const size_t N = 10007;
  for (DataType type : {DataType::kFloat32, DataType::kFloat64, DataType::kFloat16, DataType::kBFloat16}) {
    const double eps = type == DataType::kFloat64 ? 0x1p-53 : type == DataType::kFloat32 ? 0x1p-24
                     : type == DataType::kFloat16 ? 0x1p-11 : 0x1p-8;
    auto input = [&](int r, size_t i) {
      std::mt19937_64 g(r * 1000003 + i);
      char tmp[8];
      Store(type, tmp, 0, std::uniform_real_distribution<double>(-1, 1)(g));
      return Load(type, tmp, 0);  // what the rank really holds
    };
    for (const char* algo : {"ring", "tree", "dbtree", "direct"}) {
      std::vector<char> send(N * DataTypeSize(type)), recv(send.size());
      for (size_t i = 0; i < N; ++i) Store(type, send.data(), i, input(me, i));
      auto r = coll.Allreduce(send.data(), recv.data(), N, type, ReduceOp::kSum, Forced(algo));
      if (!r.ok()) {
        std::fprintf(stderr, "rank %d: rounding %s: %s\n", me, algo, r.status().ToString().c_str());
        return 1;
      }
      for (size_t i = 0; i < N; ++i) {
        long double exact = 0, abs_sum = 0;
        for (int q = 0; q < n; ++q) {
          exact += input(q, i);
          abs_sum += std::fabs(input(q, i));
        }
        double bound = (n - 1) * eps * static_cast<double>(abs_sum) + eps * std::fabs(static_cast<double>(exact));
        double got = Load(type, recv.data(), i);
        if (std::fabs(got - static_cast<double>(exact)) > bound) {
          std::fprintf(stderr, "rank %d: %s %s element %zu: %.17g, exact %.17Lg, bound %.3g\n", me, algo,
                       DataTypeName(type), i, got, exact, bound);
          return 1;
        }
      }
    }
  }
  return 0;
}


// A loop of one collective with one algorithm while rank `victim` SIGKILLs
// itself at a random moment. Survivors check every result over the ranks
// that took part and log them; the test compares the logs.
int KillLoop(Collectives& coll, char** argv) {
  Communicator& comm = coll.comm();
  const int n = comm.size(), me = comm.rank();
  auto kind = ParseCollective(argv[2]);
  const std::string algo = argv[3];
  int victim = 0, seed = 0;
  if (!kind.ok() || !absl::SimpleAtoi(argv[4], &victim) || !absl::SimpleAtoi(argv[5], &seed)) return 2;
  std::ofstream out(argv[6]);
  const int iters = 60;
  // Setup (the store is rank 0's) is over once everyone passed a barrier;
  // failures from then on are what this tests.
  if (auto r = coll.Barrier(); !r.ok()) return 1;
  if (me == victim) {
    std::thread([seed] {
      std::mt19937 g(seed);
      std::this_thread::sleep_for(std::chrono::microseconds(std::uniform_int_distribution<int>(0, 40000)(g)));
      raise(SIGKILL);
    }).detach();
  }
  const int root = (victim + 1) % n;
  double worst_ms = 0;
  // Until the victim is gone (its kill comes within 40 ms) and `iters` more;
  // the stop condition uses the agreed active ranks, so every survivor stops
  // at the same iteration. The victim loops until its SIGKILL.
  int stop_at = iters;
  for (int it = 0; it < stop_at || me == victim; ++it) {
    if (it > 200000) {
      std::fprintf(stderr, "rank %d: the victim never failed\n", me);
      return 1;
    }
    Case c{*kind, algo, DataType::kFloat32, ReduceOp::kSum, size_t{4099} + (it % 3) * 20000, false, root, 0,
           static_cast<uint32_t>(it + 1)};
    uint64_t hash = 1469598103934665603ull;
    auto start = std::chrono::steady_clock::now();
    if (!RunCase(coll, c, {}, &hash)) return 1;
    worst_ms = std::max(worst_ms, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    auto alive = coll.active_ranks();
    const bool victim_alive = std::find(alive.begin(), alive.end(), victim) != alive.end();
    if (victim_alive) stop_at = std::max(stop_at, it + iters);
    out << it << " " << absl::StrJoin(alive, ",") << " " << hash << "\n";
    out.flush();
  }
  out << "worst_ms " << worst_ms << "\n";
  auto r = coll.Barrier();
  if (!r.ok()) {
    std::fprintf(stderr, "rank %d: final barrier: %s\n", me, r.status().ToString().c_str());
    return 1;
  }
  return 0;
}

// Bad input gets an error that names it, on every rank, and the group still
// works afterwards.
int Errors(Collectives& coll) {
  Communicator& comm = coll.comm();
  const int n = comm.size(), me = comm.rank();
  auto expect_error = [&](const absl::StatusOr<CollectiveResult>& r, const char* what, const char* needle) {
    if (r.ok() || r.status().message().find(needle) == std::string_view::npos) {
      std::fprintf(stderr, "rank %d: %s: got %s, want an error containing '%s'\n", me, what,
                   r.ok() ? "success" : r.status().ToString().c_str(), needle);
      return false;
    }
    return true;
  };
  std::vector<float> a(64, 1.0f), b(64 * n, 0.0f);
  // Counts that differ across ranks.
  for (const char* algo : {"ring", "tree", "direct"}) {
    size_t count = me == 0 ? 10 : 12;
    auto r = coll.Allreduce(a.data(), b.data(), count, DataType::kFloat32, ReduceOp::kSum, Forced(algo));
    if (r.ok()) {
      std::fprintf(stderr, "rank %d: mismatched counts (%s) succeeded\n", me, algo);
      return 1;
    }
    std::fprintf(stderr, "rank %d: mismatched counts (%s): %s\n", me, algo, r.status().ToString().c_str());
    if (!expect_error(r, "mismatched counts", "calls differ")) return 1;
  }
  // Types of the same size that differ across ranks: nothing on the wire
  // tells them apart, only the agreement's comparison of the calls.
  if (!expect_error(coll.Allreduce(a.data(), b.data(), 8, me == 0 ? DataType::kFloat32 : DataType::kInt32,
                                   ReduceOp::kSum),
                    "mismatched types", "calls differ")) {
    return 1;
  }
  if (!expect_error(coll.Broadcast(a.data(), 4, DataType::kFloat32, me == 0 ? 0 : 1), "mismatched roots",
                    "calls differ")) {
    return 1;
  }
  if (!expect_error(coll.Broadcast(a.data(), 4, DataType::kFloat32, n), "bad root", "root")) return 1;
  if (!expect_error(coll.Allreduce(a.data(), b.data(), 4, DataType::kFloat32, ReduceOp::kSum, Forced("nope")),
                    "bad algorithm", "nope")) {
    return 1;
  }
  if (!expect_error(coll.Allreduce(nullptr, b.data(), 4, DataType::kFloat32, ReduceOp::kSum), "null buffer", "null")) {
    return 1;
  }
  if (absl::Status s = coll.Send((me + 1) % n, 1ull << 63, a.data(), 4); s.ok() && n > 1) {
    std::fprintf(stderr, "rank %d: a reserved tag was accepted\n", me);
    return 1;
  }
  // The group still works.
  for (auto& x : a) x = static_cast<float>(me + 1);
  auto r = coll.Allreduce(a.data(), b.data(), 64, DataType::kFloat32, ReduceOp::kSum);
  if (!r.ok() || b[0] != n * (n + 1) / 2.0f || r->participants.size() != static_cast<size_t>(n)) {
    std::fprintf(stderr, "rank %d: allreduce after the errors: %s\n", me, r.ok() ? "wrong result" : r.status().ToString().c_str());
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace mc::test

int main(int argc, char** argv) {
  using namespace mc;
  using namespace mc::test;
  if (argc < 2) {
    std::fprintf(stderr, "usage: coll_worker matrix|rounding|kill|errors ...\n");
    return 2;
  }
  std::string scenario = argv[1];
  auto comm = Communicator::Create();
  if (!comm.ok()) {
    std::fprintf(stderr, "Communicator::Create: %s\n", comm.status().ToString().c_str());
    return 1;
  }
  g_rank = (*comm)->rank();
  auto coll = Collectives::Create(comm->get());
  if (!coll.ok()) {
    std::fprintf(stderr, "Collectives::Create: %s\n", coll.status().ToString().c_str());
    return 1;
  }
  int rc = 2;
  if (scenario == "matrix" && argc >= 3) {
    std::vector<CollectiveKind> kinds;
    for (int i = 3; i < argc; ++i) {
      auto k = ParseCollective(argv[i]);
      if (!k.ok()) {
        std::fprintf(stderr, "%s\n", k.status().ToString().c_str());
        return 2;
      }
      kinds.push_back(*k);
    }
    rc = Matrix(**coll, argv[2], kinds);
  } else if (scenario == "rounding") {
    rc = Rounding(**coll);
  } else if (scenario == "kill" && argc >= 7) {
    rc = KillLoop(**coll, argv);
  } else if (scenario == "errors") {
    rc = Errors(**coll);
  }
  if (rc == 0 && scenario != "kill") {
    // Everyone leaves together: a rank that exits early is a failed peer.
    auto r = (*coll)->Barrier();
    if (!r.ok()) rc = 1;
  }
  return rc;
}
