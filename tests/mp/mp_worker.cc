// One rank of a multi-process Communicator test. The scenario is argv[1];
// the launcher (communicator_mp_test) sets MC_RANK, MC_WORLD_SIZE,
// MC_BOOTSTRAP and MC_TRANSPORT. Exit code 0 means every check held.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "mooncomm/communicator.h"
#include "mooncomm/status.h"

namespace {

using Clock = std::chrono::steady_clock;

#define CHECK_OK(expr)                                                                          \
  do {                                                                                          \
    absl::Status s_ = (expr);                                                                   \
    if (!s_.ok()) {                                                                             \
      std::fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #expr,                 \
                   std::string(s_.message()).c_str());                                          \
      return 1;                                                                                 \
    }                                                                                           \
  } while (0)

#define CHECK_TRUE(cond, ...)                                                                   \
  do {                                                                                          \
    if (!(cond)) {                                                                              \
      std::fprintf(stderr, "%s:%d: check failed: %s: %s\n", __FILE__, __LINE__, #cond,          \
                   absl::StrCat(__VA_ARGS__).c_str());                                           \
      return 1;                                                                                 \
    }                                                                                           \
  } while (0)

uint8_t Pattern(int from, uint64_t tag, size_t i) {
  return static_cast<uint8_t>((from * 31 + tag * 17 + i * 7 + (i >> 12)) & 0xff);
}

void Fill(std::vector<uint8_t>& buf, int from, uint64_t tag) {
  for (size_t i = 0; i < buf.size(); ++i) buf[i] = Pattern(from, tag, i);
}

size_t CountWrong(const std::vector<uint8_t>& buf, int from, uint64_t tag) {
  size_t wrong = 0;
  for (size_t i = 0; i < buf.size(); ++i) wrong += buf[i] != Pattern(from, tag, i);
  return wrong;
}

double MillisSince(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

// Every rank exchanges a patterned message with every other rank, and checks
// the transport the pair uses is the expected one.
int Connect(mc::Communicator& comm, const std::string& expected_transport) {
  const int me = comm.rank(), n = comm.size();
  std::vector<std::vector<uint8_t>> in(n, std::vector<uint8_t>(1000 + me)), out(n);
  std::vector<mc::Request> reqs(2 * n);
  for (int p = 0; p < n; ++p) {
    if (p == me) continue;
    CHECK_TRUE(comm.transport_name(p) == expected_transport, "rank ", p, " is over ", comm.transport_name(p));
    in[p].assign(1000 + p, 0);
    out[p].resize(1000 + me);
    Fill(out[p], me, 9);
    CHECK_OK(comm.Irecv(p, 9, in[p].data(), in[p].size(), &reqs[2 * p]));
    CHECK_OK(comm.Isend(p, 9, out[p].data(), out[p].size(), &reqs[2 * p + 1]));
  }
  CHECK_OK(comm.WaitAll(absl::MakeSpan(reqs)));
  for (int p = 0; p < n; ++p) {
    if (p != me) CHECK_TRUE(CountWrong(in[p], p, 9) == 0, "data from rank ", p, " is wrong");
  }
  return 0;
}

// Ranks 0 and 1: all sizes both ways, then 1000 messages in flight with tags
// posted in a different order on each side.
int SendRecv(mc::Communicator& comm) {
  if (comm.rank() > 1) return 0;
  const int peer = 1 - comm.rank();
  const std::vector<size_t> sizes = {0, 1, 7, 4095, 4096, (1u << 20) + 3, 256u << 20};
  for (size_t size : sizes) {
    std::vector<uint8_t> out(size), in(size, 0);
    Fill(out, comm.rank(), size);
    mc::Request recv, send;
    CHECK_OK(comm.Irecv(peer, size, in.data(), in.size(), &recv));
    CHECK_OK(comm.Isend(peer, size, out.data(), out.size(), &send));
    CHECK_OK(comm.Wait(send));
    CHECK_OK(comm.Wait(recv));
    CHECK_TRUE(recv.bytes() == size, "received ", recv.bytes(), " bytes, expected ", size);
    CHECK_TRUE(CountWrong(in, peer, size) == 0, "size ", size, " arrived corrupted");
  }

  constexpr int kMessages = 1000, kTags = 7;
  std::vector<std::vector<uint8_t>> bufs(kMessages);
  std::vector<mc::Request> reqs(kMessages);
  if (comm.rank() == 0) {
    for (int i = 0; i < kMessages; ++i) {  // tags 0,1,...,6,0,1,... ; sizes vary
      bufs[i].resize(1 + (i * 37) % 5000);
      Fill(bufs[i], 0, i);
      CHECK_OK(comm.Isend(peer, 100 + i % kTags, bufs[i].data(), bufs[i].size(), &reqs[i]));
    }
  } else {
    // Post all of tag 6's receives first, then tag 5's, ...: matching is per tag in order.
    for (int t = kTags - 1; t >= 0; --t) {
      for (int i = t; i < kMessages; i += kTags) {
        bufs[i].assign(1 + (i * 37) % 5000, 0);
        CHECK_OK(comm.Irecv(peer, 100 + t, bufs[i].data(), bufs[i].size(), &reqs[i]));
      }
    }
  }
  CHECK_OK(comm.WaitAll(absl::MakeSpan(reqs)));
  if (comm.rank() == 1) {
    for (int i = 0; i < kMessages; ++i) CHECK_TRUE(CountWrong(bufs[i], 0, i) == 0, "message ", i, " is wrong");
  }
  // A message larger than the posted buffer is an error that says so.
  std::vector<uint8_t> big(100, 1), small(10);
  if (comm.rank() == 0) {
    CHECK_OK(comm.Send(peer, 77, big.data(), big.size()));
  } else {
    absl::Status s = comm.Recv(peer, 77, small.data(), small.size());
    CHECK_TRUE(absl::IsOutOfRange(s), "truncation gave: ", s.ToString());
  }
  CHECK_OK(comm.Send(peer, 78, big.data(), 1));  // the connection still works afterwards
  CHECK_OK(comm.Recv(peer, 78, small.data(), 1));
  return 0;
}

// Rank 1 registers memory and hands its key to rank 0, which puts into it;
// every notification must find its data already in place.
int Put(mc::Communicator& comm) {
  if (comm.rank() > 1) return 0;
  constexpr int kPuts = 64;
  constexpr size_t kChunk = 64 << 10;
  if (comm.rank() == 1) {
    std::vector<uint8_t> target(kPuts * kChunk, 0);
    absl::StatusOr<mc::MemoryHandle> mem = comm.RegisterMemory(target.data(), target.size());
    CHECK_OK(mem.status());
    absl::StatusOr<std::string> key = comm.PackRemoteKey(*mem, 0);
    CHECK_OK(key.status());
    uint64_t base = reinterpret_cast<uint64_t>(target.data());
    CHECK_OK(comm.Send(0, 1, &base, sizeof(base)));
    CHECK_OK(comm.Send(0, 2, key->data(), key->size()));
    for (int i = 0; i < kPuts; ++i) {
      absl::StatusOr<mc::Notification> n = comm.WaitNotification(0);
      CHECK_OK(n.status());
      int which = static_cast<int>(n->value);
      CHECK_TRUE(which >= 0 && which < kPuts && n->bytes == kChunk, "notification ", n->value, "/", n->bytes);
      for (size_t b = 0; b < kChunk; ++b) {
        CHECK_TRUE(target[which * kChunk + b] == Pattern(0, which, b), "put ", which, " notified before its data");
      }
    }
    return 0;
  }
  uint64_t base = 0;
  std::vector<char> key(MC_MAX_RKEY_BYTES);
  CHECK_OK(comm.Recv(1, 1, &base, sizeof(base)));
  mc::Request key_req;
  CHECK_OK(comm.Irecv(1, 2, key.data(), key.size(), &key_req));
  CHECK_OK(comm.Wait(key_req));
  absl::StatusOr<mc::RemoteKey> rkey = comm.ImportRemoteKey(1, std::string_view(key.data(), key_req.bytes()));
  CHECK_OK(rkey.status());
  std::vector<std::vector<uint8_t>> src(kPuts, std::vector<uint8_t>(kChunk));
  std::vector<mc::Request> reqs(kPuts);
  for (int i = 0; i < kPuts; ++i) {
    Fill(src[i], 0, i);
    CHECK_OK(comm.Iput(1, src[i].data(), kChunk, nullptr, base + i * kChunk, *rkey, i, &reqs[i]));
  }
  CHECK_OK(comm.WaitAll(absl::MakeSpan(reqs)));
  return 0;
}

// The last rank SIGKILLs itself. Rank 0 is blocked receiving from it and must
// get an error naming it; the other survivors are idle and must see the
// failure event; then a send to the dead rank fails at once and the
// survivors still talk to each other.
int KillPeer(mc::Communicator& comm) {
  const int victim = comm.size() - 1;
  const double timeout_ms = absl::ToDoubleMilliseconds(comm.timeout());
  uint8_t byte = 0;
  if (comm.rank() == victim) {
    CHECK_OK(comm.Send(0, 1, &byte, 1));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    raise(SIGKILL);
  }
  if (comm.rank() == 0) {
    CHECK_OK(comm.Recv(victim, 1, &byte, 1));
    auto start = Clock::now();
    absl::Status s = comm.Recv(victim, 2, &byte, 1);  // never sent: the victim dies first
    double ms = MillisSince(start);
    CHECK_TRUE(!s.ok() && mc::FailedPeerOf(s) == victim, "expected rank ", victim, " named, got ", s.ToString());
    CHECK_TRUE(ms < timeout_ms, "failure seen after ", ms, " ms, MC_TIMEOUT_MS is ", timeout_ms);
    std::fprintf(stderr, "rank 0: blocked receive failed after %.1f ms: %s\n", ms, std::string(s.message()).c_str());
  } else {
    auto start = Clock::now();
    while (comm.peer_state(victim) != mc::PeerState::kFailed && MillisSince(start) < 2 * timeout_ms) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    double ms = MillisSince(start);
    CHECK_TRUE(comm.peer_state(victim) == mc::PeerState::kFailed, "idle rank never learned of the failure");
    CHECK_TRUE(ms < timeout_ms, "idle rank learned of the failure after ", ms, " ms");
    std::vector<mc::FailureEvent> events = comm.failure_events();
    CHECK_TRUE(events.size() == 1 && events[0].rank == victim, "expected one failure event for rank ", victim);
  }
  auto start = Clock::now();
  absl::Status s = comm.Send(victim, 3, &byte, 1);
  CHECK_TRUE(mc::FailedPeerOf(s) == victim && MillisSince(start) < 50, "send to the dead rank: ", s.ToString());
  CHECK_TRUE(comm.failed_ranks() == std::vector<int>{victim}, "failed_ranks is wrong");
  // Survivors still work: a ring among them.
  int survivors = comm.size() - 1;
  if (survivors >= 2) {
    int next = (comm.rank() + 1) % survivors, prev = (comm.rank() + survivors - 1) % survivors;
    int got = -1, mine = comm.rank();
    mc::Request r;
    CHECK_OK(comm.Irecv(prev, 4, &got, sizeof(got), &r));
    CHECK_OK(comm.Send(next, 4, &mine, sizeof(mine)));
    CHECK_OK(comm.Wait(r));
    CHECK_TRUE(got == prev, "survivor ring got ", got);
  }
  return 0;
}

// Rank 1 stops (SIGSTOP) without dying: its sockets stay open, so only the
// deadline can tell. Rank 0's receive must fail after about MC_TIMEOUT_MS.
int Hang(mc::Communicator& comm) {
  if (comm.rank() > 1) return 0;
  uint8_t byte = 0;
  if (comm.rank() == 1) {
    CHECK_OK(comm.store().Set("hang/pid", std::to_string(getpid())));
    CHECK_OK(comm.Send(0, 1, &byte, 1));
    raise(SIGSTOP);
    return 1;  // never resumed
  }
  CHECK_OK(comm.Recv(1, 1, &byte, 1));
  auto start = Clock::now();
  absl::Status s = comm.Recv(1, 2, &byte, 1);
  double ms = MillisSince(start);
  const double timeout_ms = absl::ToDoubleMilliseconds(comm.timeout());
  CHECK_TRUE(mc::FailedPeerOf(s) == 1, "expected rank 1 named, got ", s.ToString());
  CHECK_TRUE(ms >= timeout_ms * 0.9 && ms < timeout_ms + 2000, "deadline fired after ", ms, " ms");
  absl::StatusOr<std::string> pid = comm.store().Get("hang/pid", absl::Seconds(5));
  int victim = 0;
  if (pid.ok() && absl::SimpleAtoi(*pid, &victim) && victim > 0) kill(victim, SIGKILL);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: mp_worker connect|sendrecv|put|kill|hang [expected transport]\n");
    return 2;
  }
  std::string scenario = argv[1];
  absl::StatusOr<std::unique_ptr<mc::Communicator>> comm = mc::Communicator::Create();
  if (!comm.ok()) {
    std::fprintf(stderr, "Communicator::Create: %s\n", std::string(comm.status().message()).c_str());
    return 1;
  }
  int rc = 2;
  if (scenario == "connect") rc = Connect(**comm, argc > 2 ? argv[2] : "");
  if (scenario == "sendrecv") rc = SendRecv(**comm);
  if (scenario == "put") rc = Put(**comm);
  if (scenario == "kill") rc = KillPeer(**comm);
  if (scenario == "hang") rc = Hang(**comm);
  if (rc != 0) std::fprintf(stderr, "rank %d: scenario %s failed\n", (*comm)->rank(), scenario.c_str());
  // Ranks that all survive leave together, as an application would: a rank
  // that exits is a failed peer to whoever still talks to it.
  if (rc == 0 && (scenario == "connect" || scenario == "sendrecv" || scenario == "put")) {
    absl::Status s = mc::StoreBarrier((*comm)->store(), "mp_worker/" + scenario + "/end", (*comm)->size(),
                                      absl::Seconds(60));
    if (!s.ok()) {
      std::fprintf(stderr, "rank %d: final barrier: %s\n", (*comm)->rank(), std::string(s.message()).c_str());
      rc = 1;
    }
  }
  return rc;
}
