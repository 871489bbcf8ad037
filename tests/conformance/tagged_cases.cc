// Tagged isend / irecv: sizes, many requests in flight, tag matching and
// order, truncation.
#include <algorithm>
#include <string>
#include <vector>

#include "cases.h"
#include "child_check.h"
#include "pattern.h"
#include "peer_links.h"
#include "process_group.h"
#include "session.h"

namespace mc::conformance {
namespace {

constexpr std::chrono::seconds kBulkTimeout{40};

// Checks one received message: status, tag, length, every byte, and that
// nothing past it in the buffer (or around the buffer) was written.
void VerifyReceived(const mc_completion_v1_t& done, const GuardedBuffer& in, size_t offset, uint64_t tag, size_t len,
                    uint64_t seed, const std::string& what) {
  CONF_CHECK_RC(done.status, MC_SUCCESS) << what;
  CONF_CHECK(done.tag == tag) << what << ": completion tag is " << done.tag << ", expected " << tag;
  CONF_CHECK(done.bytes == len) << what << ": completion says " << done.bytes << " bytes, expected " << len;
  std::string mismatch = DescribePatternMismatch(in.data() + offset, len, seed);
  CONF_CHECK(mismatch.empty()) << what << ": " << mismatch;
  CONF_CHECK(in.DescribeGuardDamage().empty()) << what << ": " << in.DescribeGuardDamage();
}

void VerifySent(const mc_completion_v1_t& done, size_t len, const std::string& what) {
  CONF_CHECK_RC(done.status, MC_SUCCESS) << what;
  CONF_CHECK(done.bytes == len) << what << ": send completion says " << done.bytes << " bytes, expected " << len;
}

// Connects the two children of a case and checks the link with a ping.
void* Connect2(Session& session, ChildEnv& env) {
  void* ep = ConnectToPeer(session, env, 1 - env.rank());
  Ping(session, ep, env.rank(), 1 - env.rank());
  return ep;
}

void FinishPair(Session& session, ChildEnv& env, void* ep) {
  session.ExpectNoPeerFailures("while both processes were alive");
  Barrier(session, env);
  session.Close(ep);
  session.Finalize();
}

// ---- sizes ----

constexpr size_t kSizes[] = {0, 1, 7, 4095, 4096, (1u << 20) + 3};  // both ways at once
constexpr size_t kHuge = 256u << 20;  // one way at a time, so each process needs one such buffer
constexpr size_t kSlack = 64;         // bytes after a message that must stay untouched

// Receives `len` bytes into `in` and/or sends `len` from `out` (either may be
// null), then verifies the message, the bytes after it and the completions.
void ExchangeOne(Session& session, void* ep, int me, int peer, size_t len, uint64_t tag, GuardedBuffer* out,
                 void* out_mr, GuardedBuffer* in, void* in_mr, const std::string& what) {
  std::vector<void*> reqs;
  const size_t slack = in != nullptr ? std::min(kSlack, in->size() - len) : 0;
  if (in != nullptr) {
    in->Poison(len, slack);  // stale bytes before it differ from the expected pattern anyway
    reqs.push_back(session.PostRecv(ep, tag, in->data(), len, in_mr));
  }
  if (out != nullptr) {
    FillPattern(out->data(), len, MessageSeed(me, peer, tag, len));
    reqs.push_back(session.PostSend(ep, tag, out->data(), len, out_mr));
  }
  std::vector<mc_completion_v1_t> done = session.WaitAll(reqs, what, Deadline::After(kBulkTimeout));
  if (in != nullptr) {
    VerifyReceived(done.front(), *in, 0, tag, len, MessageSeed(peer, me, tag, len), what + " received");
    CONF_CHECK(!FindByteOtherThan(in->data() + len, slack, GuardedBuffer::kPoison))
        << what << ": the plugin wrote past the end of the message in the receive buffer";
  }
  if (out != nullptr) VerifySent(done.back(), len, what + " sent");
}

void SizesRole(const mc_plugin_v1_t* plugin, ChildEnv& env) {
  Session session(plugin);
  const int me = env.rank();
  const int peer = 1 - me;
  void* ep = Connect2(session, env);
  GuardedBuffer out(kSizes[std::size(kSizes) - 1] + kSlack);
  GuardedBuffer in(out.size());
  void* out_mr = nullptr;
  void* in_mr = nullptr;
  // Pass 0 without registrations (mr = NULL), pass 1 with them.
  for (int pass = 0; pass < 2; ++pass) {
    if (pass == 1) {
      out_mr = session.Register(out.data(), out.size());
      in_mr = session.Register(in.data(), in.size());
    }
    for (size_t k = 0; k < std::size(kSizes); ++k) {
      const std::string what =
          "message of " + std::to_string(kSizes[k]) + " bytes" + (pass == 1 ? " (registered)" : "");
      ExchangeOne(session, ep, me, peer, kSizes[k], 0x100 + 0x10 * pass + k, &out, out_mr, &in, in_mr, what);
    }
  }
  session.Deregister(out_mr);
  session.Deregister(in_mr);
  // 256 MiB: rank 0 to rank 1, then back, through one buffer per process.
  GuardedBuffer huge(kHuge);
  for (int sender : {0, 1}) {
    const bool sending = me == sender;
    ExchangeOne(session, ep, me, peer, kHuge, 0x1f0 + sender, sending ? &huge : nullptr, nullptr,
                sending ? nullptr : &huge, nullptr, "message of " + std::to_string(kHuge) + " bytes");
  }
  FinishPair(session, env, ep);
}

// ---- many in flight ----

constexpr int kInFlight = 1000;

size_t InFlightSize(int i) {
  if (i % 250 == 1) return 0;
  if (i % 100 == 0) return 65536 + i;
  return static_cast<size_t>(i) * 37 % 2000;
}

uint64_t InFlightTag(int i) { return 0x200 + i % 5; }

void InFlightRole(const mc_plugin_v1_t* plugin, ChildEnv& env) {
  Session session(plugin);
  const int me = env.rank();
  const int peer = 1 - me;
  void* ep = Connect2(session, env);
  std::vector<std::vector<uint8_t>> out(kInFlight);
  std::vector<GuardedBuffer> in;
  in.reserve(kInFlight);
  for (int i = 0; i < kInFlight; ++i) {
    out[i].resize(InFlightSize(i));
    FillPattern(out[i].data(), out[i].size(), MessageSeed(me, peer, InFlightTag(i), i));
    in.emplace_back(InFlightSize(i), 64);
  }
  // Everything is posted before the first test(); rank 0 posts its receives
  // first and rank 1 its sends first, so both arrival orders happen.
  std::vector<void*> recvs(kInFlight), sends(kInFlight);
  auto post_recvs = [&] {
    for (int i = 0; i < kInFlight; ++i) recvs[i] = session.PostRecv(ep, InFlightTag(i), in[i].data(), in[i].size());
  };
  auto post_sends = [&] {
    for (int i = 0; i < kInFlight; ++i) sends[i] = session.PostSend(ep, InFlightTag(i), out[i].data(), out[i].size());
  };
  if (me == 0) {
    post_recvs();
    post_sends();
  } else {
    post_sends();
    post_recvs();
  }
  std::vector<void*> all = recvs;
  all.insert(all.end(), sends.begin(), sends.end());
  std::vector<mc_completion_v1_t> done = session.WaitAll(all, "1000 messages each way", Deadline::After(kBulkTimeout));
  for (int i = 0; i < kInFlight; ++i) {
    const std::string what = "message " + std::to_string(i) + " of " + std::to_string(kInFlight);
    VerifyReceived(done[i], in[i], 0, InFlightTag(i), InFlightSize(i), MessageSeed(peer, me, InFlightTag(i), i),
                   what + " received");
    VerifySent(done[kInFlight + i], InFlightSize(i), what + " sent");
  }
  FinishPair(session, env, ep);
}

// ---- interleaved tags ----

constexpr uint64_t kTags[] = {0, 0x8000000000000005ull, ~0ull};  // A, B, C: all 64 bits carried
constexpr int kPerTag = 40;

size_t InterleavedSize(int tag_index, int seq) {
  if (seq == 7) return (300u << 10) + tag_index;  // past any eager limit
  return static_cast<size_t>(seq * 131 + tag_index * 977) % 5000;
}

struct Slot {
  int tag_index;
  int seq;
};

// Runs one exchange: every process sends A B C A B C ... and receives in
// `recv_order`; with recvs_first the receives are all posted before any send.
void InterleavedRound(Session& session, ChildEnv& env, void* ep, const std::vector<Slot>& recv_order, bool recvs_first,
                      int round) {
  const int me = env.rank();
  const int peer = 1 - me;
  const auto seed = [round](int from, int to, const Slot& s) {
    return MessageSeed(from, to, kTags[s.tag_index], s.seq * 10 + round);
  };
  std::vector<Slot> send_order;
  for (int seq = 0; seq < kPerTag; ++seq) {
    for (int t = 0; t < 3; ++t) send_order.push_back({t, seq});
  }
  std::vector<std::vector<uint8_t>> out;
  for (const Slot& s : send_order) {
    out.emplace_back(InterleavedSize(s.tag_index, s.seq));
    FillPattern(out.back().data(), out.back().size(), seed(me, peer, s));
  }
  std::vector<GuardedBuffer> in;
  in.reserve(recv_order.size());
  for (const Slot& s : recv_order) in.emplace_back(InterleavedSize(s.tag_index, s.seq), 64);

  std::vector<void*> reqs;
  auto post_recvs = [&] {
    for (size_t i = 0; i < recv_order.size(); ++i) {
      reqs.push_back(session.PostRecv(ep, kTags[recv_order[i].tag_index], in[i].data(), in[i].size()));
    }
  };
  auto post_sends = [&] {
    for (size_t i = 0; i < send_order.size(); ++i) {
      reqs.push_back(session.PostSend(ep, kTags[send_order[i].tag_index], out[i].data(), out[i].size()));
    }
  };
  if (recvs_first) {
    post_recvs();
    Barrier(session, env);
    post_sends();
  } else {
    post_sends();
    Barrier(session, env);  // the peer's messages arrive before any receive is posted
    post_recvs();
  }
  std::vector<mc_completion_v1_t> done = session.WaitAll(reqs, "interleaved tags", Deadline::After(kBulkTimeout));
  const size_t recv_base = recvs_first ? 0 : send_order.size();
  const size_t send_base = recvs_first ? recv_order.size() : 0;
  for (size_t i = 0; i < recv_order.size(); ++i) {
    const Slot& s = recv_order[i];
    const std::string what = std::string(recvs_first ? "pre-posted" : "late") + " receive of tag " +
                             std::to_string(kTags[s.tag_index]) + " message #" + std::to_string(s.seq);
    VerifyReceived(done[recv_base + i], in[i], 0, kTags[s.tag_index], in[i].size(), seed(peer, me, s), what);
  }
  for (size_t i = 0; i < send_order.size(); ++i) {
    VerifySent(done[send_base + i], out[i].size(), "send #" + std::to_string(i));
  }
}

void InterleavedRole(const mc_plugin_v1_t* plugin, ChildEnv& env) {
  Session session(plugin);
  void* ep = Connect2(session, env);
  // Round 0: receives posted first, in the order C A B C A B ...
  std::vector<Slot> rotated;
  for (int seq = 0; seq < kPerTag; ++seq) {
    for (int t : {2, 0, 1}) rotated.push_back({t, seq});
  }
  InterleavedRound(session, env, ep, rotated, /*recvs_first=*/true, 0);
  // Round 1: messages first (unexpected), then receives: all C, then all B, then all A.
  std::vector<Slot> grouped;
  for (int t : {2, 1, 0}) {
    for (int seq = 0; seq < kPerTag; ++seq) grouped.push_back({t, seq});
  }
  InterleavedRound(session, env, ep, grouped, /*recvs_first=*/false, 1);
  FinishPair(session, env, ep);
}

// ---- truncation ----

constexpr int kSender = 1;
constexpr int kReceiver = 0;
constexpr uint64_t kTruncTag = 0x7a;

struct TruncStep {
  size_t message;
  size_t posted;
};
// Each truncated message is followed by one that must arrive intact.
constexpr TruncStep kTruncSteps[] = {{1000, 500}, {100, 100}, {2u << 20, 1u << 20}, {300, 300}, {50, 4096},
                                     {1, 0},      {0, 16}};

void TruncationRound(Session& session, ChildEnv& env, void* ep, bool recvs_first, int round) {
  const int me = env.rank();
  const auto seed = [round](size_t i) { return MessageSeed(kSender, kReceiver, kTruncTag, i * 10 + round); };
  std::vector<void*> reqs;
  if (me == kSender) {
    std::vector<std::vector<uint8_t>> out;
    for (size_t i = 0; i < std::size(kTruncSteps); ++i) {
      out.emplace_back(kTruncSteps[i].message);
      FillPattern(out.back().data(), out.back().size(), seed(i));
    }
    if (recvs_first) {
      CONF_CHECK(ReceiveFromPeer(session, env, kReceiver) == "posted");
    }
    for (auto& buf : out) reqs.push_back(session.PostSend(ep, kTruncTag, buf.data(), buf.size()));
    if (!recvs_first) SendToPeer(env, kReceiver, "sent");
    std::vector<mc_completion_v1_t> done = session.WaitAll(reqs, "sends", Deadline::After(kBulkTimeout));
    for (size_t i = 0; i < done.size(); ++i) {
      // The sender may or may not learn that its message was cut; the link must survive either way.
      CONF_CHECK(done[i].status == MC_SUCCESS || done[i].status == MC_ERR_TRUNCATED)
          << "send of message " << i << " completed with " << ResultName(done[i].status);
    }
    return;
  }
  std::vector<GuardedBuffer> in;
  for (const TruncStep& step : kTruncSteps) in.emplace_back(step.posted);
  if (!recvs_first) {
    CONF_CHECK(ReceiveFromPeer(session, env, kSender) == "sent");
  }
  for (GuardedBuffer& buf : in) reqs.push_back(session.PostRecv(ep, kTruncTag, buf.data(), buf.size()));
  if (recvs_first) SendToPeer(env, kSender, "posted");
  std::vector<mc_completion_v1_t> done = session.WaitAll(reqs, "receives", Deadline::After(kBulkTimeout));
  for (size_t i = 0; i < std::size(kTruncSteps); ++i) {
    const TruncStep& step = kTruncSteps[i];
    const std::string what = std::string(recvs_first ? "pre-posted" : "late") + " receive of " +
                             std::to_string(step.posted) + " bytes for a message of " + std::to_string(step.message);
    if (step.message > step.posted) {
      CONF_CHECK_RC(done[i].status, MC_ERR_TRUNCATED) << what;
      CONF_CHECK(in[i].DescribeGuardDamage().empty()) << what << ": " << in[i].DescribeGuardDamage();
      continue;
    }
    VerifyReceived(done[i], in[i], 0, kTruncTag, step.message, seed(i), what);
    CONF_CHECK(!FindByteOtherThan(in[i].data() + step.message, step.posted - step.message, GuardedBuffer::kPoison))
        << what << ": bytes past the message were written";
  }
}

void TruncationRole(const mc_plugin_v1_t* plugin, ChildEnv& env) {
  Session session(plugin);
  void* ep = Connect2(session, env);
  TruncationRound(session, env, ep, /*recvs_first=*/true, 0);
  Barrier(session, env);
  TruncationRound(session, env, ep, /*recvs_first=*/false, 1);
  Ping(session, ep, env.rank(), 1 - env.rank());  // the endpoint still works
  FinishPair(session, env, ep);
}

ChildMain Role(const mc_plugin_v1_t* plugin, void (*role)(const mc_plugin_v1_t*, ChildEnv&)) {
  return [plugin, role](ChildEnv& env) { role(plugin, env); };
}

}  // namespace

void TaggedSizesBothDirections(const mc_plugin_v1_t* plugin) {
  RunChildren({Role(plugin, SizesRole), Role(plugin, SizesRole)});
}

void ThousandMessagesInFlight(const mc_plugin_v1_t* plugin) {
  RunChildren({Role(plugin, InFlightRole), Role(plugin, InFlightRole)});
}

void InterleavedTagsKeepPerTagOrder(const mc_plugin_v1_t* plugin) {
  RunChildren({Role(plugin, InterleavedRole), Role(plugin, InterleavedRole)});
}

void OversizedMessageIsTruncated(const mc_plugin_v1_t* plugin) {
  RunChildren({Role(plugin, TruncationRole), Role(plugin, TruncationRole)});
}

}  // namespace mc::conformance
