// The rdma data protocol (eager, rendezvous READ, puts with descriptors,
// credits, failures) between two endpoints in this process, over the fake
// queue pairs of fake_fabric.h. The fake refuses what a device would refuse
// (a SEND with no receive posted, a key that does not cover an access, a
// full send queue), so these tests catch credit and bounds mistakes that
// only RDMA hardware would otherwise show.
#include "endpoint.h"

#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include "fake_fabric.h"
#include "gtest/gtest.h"

namespace mc::rdma {
namespace {

using ::mc::rdma::testing::FakeMemoryDomain;
using ::mc::rdma::testing::FakeQpOptions;
using ::mc::rdma::testing::FakeQueuePairs;

struct Side : EndpointHost {
  explicit Side(uint64_t guid, bool cache_unregistered = false)
      : domain(guid), cache(&domain, cache_unregistered, false, 16), pool([] {}) {}
  void Log(mc_log_level_t, const std::string& message) override { logs.push_back(message); }
  void OnEndpointFailed(const std::string& detail) override { failures.push_back(detail); }

  FakeMemoryDomain domain;
  RegistrationCache cache;
  RequestPool pool;
  std::unique_ptr<Endpoint> ep;
  FakeQueuePairs* qps = nullptr;
  std::vector<std::string> failures;
  std::vector<std::string> logs;
};

std::vector<uint8_t> Pattern(size_t len, uint32_t seed) {
  std::vector<uint8_t> out(len);
  uint32_t x = seed * 2654435761u + 1;
  for (auto& b : out) {
    x = x * 1103515245u + 12345u;
    b = static_cast<uint8_t>(x >> 16);
  }
  return out;
}

class EndpointTest : public ::testing::Test {
 protected:
  static EndpointOptions SmallOptions() {
    EndpointOptions o;
    o.eager_limit = 1024;
    o.recv_depth = 8;
    o.send_depth = 32;
    o.chunk_bytes = 64 * 1024;
    return o;
  }

  void Create(Side& s, const EndpointOptions& options, const FakeQpOptions& qp_options, ConnInfo* info) {
    StatusOr<std::unique_ptr<Endpoint>> ep = Endpoint::Create(&s, &s.pool, &s.cache, options);
    ASSERT_TRUE(ep.ok()) << ep.status().message();
    s.ep = std::move(*ep);
    auto qps = std::make_unique<FakeQueuePairs>(&s.domain, qp_options);
    s.qps = qps.get();
    qps->Describe(info);
    s.ep->DescribeBuffers(info);
    Status attached = s.ep->Attach(std::move(qps));
    ASSERT_TRUE(attached.ok()) << attached.message();
  }

  void Connect(const EndpointOptions& options = SmallOptions(), FakeQpOptions qp_options = FakeQpOptions()) {
    qp_options.send_depth = options.send_depth;
    ConnInfo ia, ib;
    ASSERT_NO_FATAL_FAILURE(Create(a_, options, qp_options, &ia));
    qp_options.seed += 7;
    ASSERT_NO_FATAL_FAILURE(Create(b_, options, qp_options, &ib));
    ASSERT_TRUE(a_.qps->Link(ib).ok());
    ASSERT_TRUE(b_.qps->Link(ia).ok());
    a_.ep->Start(ib, qp_options.read_limit);
    b_.ep->Start(ia, qp_options.read_limit);
  }

  void Progress() {
    a_.ep->Progress();
    b_.ep->Progress();
  }

  // Drives both ends until `r` is done, then frees it as test() would.
  mc_completion_v1_t Wait(Side& s, Request* r) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!r->done && std::chrono::steady_clock::now() < deadline) Progress();
    EXPECT_TRUE(r->done) << "request did not complete";
    if (!r->done) return mc_completion_v1_t{MC_ERR_TIMEOUT, 0, 0};
    mc_completion_v1_t c = r->completion;
    s.pool.Free(r);
    return c;
  }

  Request* Send(Side& s, uint64_t tag, const std::vector<uint8_t>& data, const MemoryRegion* mr = nullptr) {
    Request* r = nullptr;
    EXPECT_EQ(s.ep->Send(tag, data.data(), data.size(), mr, &r), MC_SUCCESS);
    return r;
  }

  Request* Recv(Side& s, uint64_t tag, std::vector<uint8_t>& buf) {
    Request* r = nullptr;
    EXPECT_EQ(s.ep->Recv(tag, buf.data(), buf.size(), nullptr, &r), MC_SUCCESS);
    return r;
  }

  void ExpectNoFaults() {
    EXPECT_EQ(a_.qps->fault(), "");
    EXPECT_EQ(b_.qps->fault(), "");
    EXPECT_FALSE(a_.qps->read_limit_exceeded());
    EXPECT_FALSE(b_.qps->read_limit_exceeded());
    EXPECT_TRUE(a_.failures.empty()) << a_.failures.front();
    EXPECT_TRUE(b_.failures.empty()) << b_.failures.front();
  }

  // Sends `len` bytes a -> b, receive posted before or after arrival; checks bytes and completions.
  void RoundTrip(size_t len, bool recv_first, uint64_t tag) {
    SCOPED_TRACE("len " + std::to_string(len) + (recv_first ? " receive first" : " receive late"));
    std::vector<uint8_t> out = Pattern(len, static_cast<uint32_t>(len + tag));
    std::vector<uint8_t> in(len + 16, 0xee);
    Request* recv = nullptr;
    if (recv_first) recv = Recv(b_, tag, in);
    Request* send = Send(a_, tag, out);
    if (!recv_first) {
      for (int i = 0; i < 5; ++i) Progress();
      recv = Recv(b_, tag, in);
    }
    mc_completion_v1_t r = Wait(b_, recv);
    mc_completion_v1_t s = Wait(a_, send);
    EXPECT_EQ(r.status, MC_SUCCESS);
    EXPECT_EQ(r.bytes, len);
    EXPECT_EQ(r.tag, tag);
    EXPECT_EQ(s.status, MC_SUCCESS);
    EXPECT_EQ(s.bytes, len);
    EXPECT_TRUE(std::equal(out.begin(), out.end(), in.begin())) << "received bytes differ";
    EXPECT_TRUE(std::all_of(in.begin() + len, in.end(), [](uint8_t b) { return b == 0xee; }))
        << "bytes past the message were written";
  }

  Side a_{0xa1};
  Side b_{0xb2};
};

TEST_F(EndpointTest, EagerAndRendezvousSizes) {
  Connect();
  uint64_t tag = 1;
  for (size_t len : {0, 1, 7, 1000, 1024, 1025, 4096, 64 * 1024, 64 * 1024 + 1, (1 << 20) + 3}) {
    RoundTrip(len, true, tag++);
    RoundTrip(len, false, tag++);
  }
  ExpectNoFaults();
}

TEST_F(EndpointTest, RendezvousIsStripedOverQueuePairsWithinTheReadLimit) {
  FakeQpOptions q;
  q.count = 3;
  q.read_limit = 2;
  Connect(SmallOptions(), q);
  RoundTrip((4 << 20) + 5, true, 9);
  for (int qp = 0; qp < 3; ++qp) EXPECT_GT(b_.qps->posted_on(qp), 0u) << "no READ on queue pair " << qp;
  ExpectNoFaults();
}

TEST_F(EndpointTest, ThousandMessagesEachWayOnEightCredits) {
  Connect();
  constexpr int kMessages = 1000;
  std::vector<std::vector<uint8_t>> out_a, out_b, in_a(kMessages), in_b(kMessages);
  std::vector<Request*> reqs;
  for (int i = 0; i < kMessages; ++i) {
    const size_t len = (i % 10 == 0) ? 3000 : static_cast<size_t>(i % 300);  // some rendezvous
    out_a.push_back(Pattern(len, i));
    out_b.push_back(Pattern(len, i + 50000));
    in_a[i].assign(len, 0);
    in_b[i].assign(len, 0);
  }
  for (int i = 0; i < kMessages; ++i) {
    reqs.push_back(Send(a_, 5, out_a[i]));
    reqs.push_back(Send(b_, 5, out_b[i]));
    reqs.push_back(Recv(a_, 5, in_a[i]));
    reqs.push_back(Recv(b_, 5, in_b[i]));
  }
  for (size_t i = 0; i < reqs.size(); ++i) {
    Side& owner = (i % 4 == 0 || i % 4 == 2) ? a_ : b_;
    EXPECT_EQ(Wait(owner, reqs[i]).status, MC_SUCCESS) << "request " << i;
  }
  for (int i = 0; i < kMessages; ++i) {
    EXPECT_EQ(in_b[i], out_a[i]) << "message " << i << " a -> b";
    EXPECT_EQ(in_a[i], out_b[i]) << "message " << i << " b -> a";
  }
  ExpectNoFaults();
}

TEST_F(EndpointTest, OneWayStreamReturnsCreditsWithoutReplies) {
  Connect();
  std::vector<uint8_t> out = Pattern(100, 3);
  std::vector<uint8_t> in(100);
  for (int i = 0; i < 200; ++i) {
    Request* recv = Recv(b_, 7, in);
    Request* send = Send(a_, 7, out);
    ASSERT_EQ(Wait(b_, recv).status, MC_SUCCESS) << "message " << i;
    ASSERT_EQ(Wait(a_, send).status, MC_SUCCESS) << "message " << i;
  }
  EXPECT_EQ(b_.ep->messages_sent(), 0u) << "b only returned credits by RDMA WRITE";
  ExpectNoFaults();
}

TEST_F(EndpointTest, EveryMessageByRendezvousOnTwoCredits) {
  EndpointOptions o = SmallOptions();
  o.eager_limit = 0;
  o.recv_depth = 2;
  o.send_depth = 16;
  FakeQpOptions q;
  q.count = 1;
  q.max_inline = 0;  // every header from a send slot
  Connect(o, q);
  uint64_t tag = 1;
  for (size_t len : {0, 1, 100, 70000}) {
    RoundTrip(len, true, tag++);
    RoundTrip(len, false, tag++);
  }
  ExpectNoFaults();
}

TEST_F(EndpointTest, InterleavedTagsKeepPerTagOrder) {
  Connect();
  const uint64_t tags[] = {0xA, 0xB, 0xFFFFFFFFFFFFFFFFull};
  std::vector<std::vector<uint8_t>> out;
  std::vector<Request*> sends;
  for (int i = 0; i < 12; ++i) {
    out.push_back(Pattern(i % 2 == 0 ? 50 : 5000, i));
    sends.push_back(Send(a_, tags[i % 3], out.back()));
  }
  for (int i = 0; i < 10; ++i) Progress();
  // Receive tag C first, then B, then A.
  for (int t = 2; t >= 0; --t) {
    for (int i = t; i < 12; i += 3) {
      std::vector<uint8_t> in(out[i].size());
      Request* r = Recv(b_, tags[t], in);
      mc_completion_v1_t c = Wait(b_, r);
      EXPECT_EQ(c.status, MC_SUCCESS);
      EXPECT_EQ(c.tag, tags[t]);
      EXPECT_EQ(in, out[i]) << "message " << i << " of tag " << t << " out of order";
    }
  }
  for (Request* s : sends) EXPECT_EQ(Wait(a_, s).status, MC_SUCCESS);
  ExpectNoFaults();
}

TEST_F(EndpointTest, OversizedMessagesAreTruncatedAndTheLinkSurvives) {
  Connect();
  for (size_t len : {100, 5000, 300000}) {
    SCOPED_TRACE(len);
    std::vector<uint8_t> out = Pattern(len, 11);
    std::vector<uint8_t> in(len / 2 + 8, 0xee);
    std::vector<uint8_t> small(len / 2, 0);
    Request* recv = nullptr;
    ASSERT_EQ(b_.ep->Recv(3, in.data(), small.size(), nullptr, &recv), MC_SUCCESS);
    Request* send = Send(a_, 3, out);
    mc_completion_v1_t r = Wait(b_, recv);
    EXPECT_EQ(r.status, MC_ERR_TRUNCATED);
    EXPECT_EQ(r.bytes, small.size());
    EXPECT_TRUE(std::equal(in.begin(), in.begin() + static_cast<long>(small.size()), out.begin()));
    EXPECT_TRUE(std::all_of(in.begin() + static_cast<long>(small.size()), in.end(), [](uint8_t b) {
      return b == 0xee;
    })) << "wrote past the receive buffer";
    EXPECT_EQ(Wait(a_, send).status, MC_SUCCESS);
  }
  RoundTrip(2000, true, 4);  // the next message arrives intact
  ExpectNoFaults();
}

TEST_F(EndpointTest, SendsPostedBeforeStartGoOutAfter) {
  ConnInfo ia, ib;
  EndpointOptions options = SmallOptions();
  FakeQpOptions q;
  q.send_depth = options.send_depth;
  Create(a_, options, q, &ia);
  Create(b_, options, q, &ib);
  std::vector<uint8_t> small = Pattern(10, 1), large = Pattern(200000, 2);
  Request* s1 = Send(a_, 1, small);
  Request* s2 = Send(a_, 1, large);
  std::vector<uint8_t> in1(10), in2(200000);
  Request* r1 = Recv(b_, 1, in1);
  Request* r2 = Recv(b_, 1, in2);
  a_.ep->Progress();
  EXPECT_FALSE(s1->done);
  ASSERT_TRUE(a_.qps->Link(ib).ok());
  ASSERT_TRUE(b_.qps->Link(ia).ok());
  b_.ep->Start(ia, q.read_limit);
  a_.ep->Start(ib, q.read_limit);
  EXPECT_EQ(Wait(b_, r1).status, MC_SUCCESS);
  EXPECT_EQ(Wait(b_, r2).status, MC_SUCCESS);
  EXPECT_EQ(Wait(a_, s1).status, MC_SUCCESS);
  EXPECT_EQ(Wait(a_, s2).status, MC_SUCCESS);
  EXPECT_EQ(in1, small);
  EXPECT_EQ(in2, large);
  ExpectNoFaults();
}

// ---- puts ----

// Each put case runs with several seeds of the fake's delivery order.
class PutTest : public EndpointTest, public ::testing::WithParamInterface<uint32_t> {
 protected:
  void SetUp() override {
    FakeQpOptions q;
    q.count = 3;
    q.seed = GetParam();
    Connect(SmallOptions(), q);
    region_.assign(8 << 20, 0x5a);
    StatusOr<MemoryRegion> mr = b_.domain.Register(region_.data(), region_.size(), false);
    ASSERT_TRUE(mr.ok());
    region_mr_ = *mr;
    key_.addr = reinterpret_cast<uint64_t>(region_.data());
    key_.length = region_.size();
    key_.entries = {RkeyEntry{b_.domain.guid(), region_mr_.rkey}};
  }

  Request* Put(const std::vector<uint8_t>& src, uint64_t offset, uint64_t notify, const PackedKey& key) {
    Request* r = nullptr;
    EXPECT_EQ(a_.ep->Put(src.data(), src.size(), nullptr, key.addr + offset, key, notify, &r), MC_SUCCESS);
    return r;
  }

  std::vector<uint8_t> region_;
  MemoryRegion region_mr_;
  PackedKey key_;
};

TEST_P(PutTest, NotificationsArriveAfterTheirData) {
  const size_t sizes[] = {0, 1, 1000, 1024, 1025, 64 * 1024, 64 * 1024 + 1, 3 << 20};
  std::vector<std::vector<uint8_t>> src;
  std::vector<uint64_t> offsets;
  std::vector<Request*> puts;
  uint64_t offset = 3;
  for (size_t i = 0; i < std::size(sizes); ++i) {
    src.push_back(Pattern(sizes[i], 100 + i));
    offsets.push_back(offset);
    puts.push_back(Put(src.back(), offset, 0x1000 + i, key_));
    offset += sizes[i] + 5;
  }
  std::vector<bool> seen(std::size(sizes), false);
  size_t remaining = std::size(sizes);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (remaining > 0 && std::chrono::steady_clock::now() < deadline) {
    Progress();
    mc_notification_v1_t n;
    while (b_.ep->PollNotification(&n) == MC_SUCCESS) {
      const size_t i = n.value - 0x1000;
      ASSERT_LT(i, std::size(sizes));
      EXPECT_FALSE(seen[i]) << "put " << i << " notified twice";
      seen[i] = true;
      --remaining;
      EXPECT_EQ(n.addr, key_.addr + offsets[i]);
      EXPECT_EQ(n.bytes, sizes[i]);
      EXPECT_TRUE(std::equal(src[i].begin(), src[i].end(), region_.begin() + static_cast<long>(offsets[i])))
          << "put " << i << " was notified before its data was in place";
    }
  }
  EXPECT_EQ(remaining, 0u);
  for (size_t i = 0; i < puts.size(); ++i) {
    mc_completion_v1_t c = Wait(a_, puts[i]);
    EXPECT_EQ(c.status, MC_SUCCESS);
    EXPECT_EQ(c.bytes, sizes[i]);
  }
  EXPECT_GT(a_.qps->posted_on(1) + a_.qps->posted_on(2), 0u) << "the large put was not striped";
  ExpectNoFaults();
}

TEST_P(PutTest, PutsOutsideTheKeyFailWithoutTouchingTheWire) {
  std::vector<uint8_t> src = Pattern(64, 1);
  const uint64_t size = key_.length;
  struct Bad {
    uint64_t addr;
    size_t len;
  } bad[] = {
      {key_.addr + size - 16, 64}, {key_.addr + size + 1024, 64}, {key_.addr - 512, 64}, {key_.addr + 100, size}};
  std::vector<uint8_t> big(size, 1);
  for (const Bad& b : bad) {
    Request* r = nullptr;
    const std::vector<uint8_t>& data = b.len == size ? big : src;
    ASSERT_EQ(a_.ep->Put(data.data(), b.len, nullptr, b.addr, key_, 7, &r), MC_SUCCESS);
    EXPECT_EQ(Wait(a_, r).status, MC_ERR_ACCESS);
  }
  PackedKey foreign = key_;
  foreign.entries = {RkeyEntry{0x1234, region_mr_.rkey}};
  Request* r = Put(src, 0, 8, foreign);
  EXPECT_EQ(Wait(a_, r).status, MC_ERR_ACCESS) << "a key with no entry for the peer's device";
  for (int i = 0; i < 10; ++i) Progress();
  mc_notification_v1_t n;
  EXPECT_EQ(b_.ep->PollNotification(&n), MC_AGAIN);
  EXPECT_TRUE(std::all_of(region_.begin(), region_.end(), [](uint8_t v) { return v == 0x5a; }));
  RoundTrip(100, true, 1);  // still connected
  ExpectNoFaults();
}

TEST_P(PutTest, RemoteAccessErrorFailsThePutAndTheConnection) {
  b_.domain.Deregister(region_mr_);  // the target let go of its memory
  std::vector<uint8_t> src = Pattern(200000, 5);
  Request* r = Put(src, 0, 9, key_);
  EXPECT_EQ(Wait(a_, r).status, MC_ERR_ACCESS);
  ASSERT_EQ(a_.failures.size(), 1u);
  Request* after = nullptr;
  EXPECT_EQ(a_.ep->Send(1, src.data(), 10, nullptr, &after), MC_ERR_PEER_LOST);
}

INSTANTIATE_TEST_SUITE_P(Seeds, PutTest, ::testing::Values(1u, 2u, 3u, 4u, 5u));

// ---- failures ----

TEST_F(EndpointTest, BrokenLinkFailsEveryPendingRequestOnce) {
  Connect();
  std::vector<uint8_t> in1(100), in2(1 << 20);
  std::vector<uint8_t> out = Pattern(1 << 20, 4);
  Request* r1 = Recv(a_, 1, in1);
  Request* r2 = Recv(a_, 2, in2);
  Request* s = Send(a_, 3, out);  // rendezvous: waits for a FIN that never comes
  for (int i = 0; i < 3; ++i) Progress();
  a_.qps->BreakLink("cable pulled");
  EXPECT_EQ(Wait(a_, r1).status, MC_ERR_PEER_LOST);
  EXPECT_EQ(Wait(a_, r2).status, MC_ERR_PEER_LOST);
  EXPECT_EQ(Wait(a_, s).status, MC_ERR_PEER_LOST);
  for (int i = 0; i < 5; ++i) Progress();
  EXPECT_EQ(a_.failures.size(), 1u);
  EXPECT_EQ(b_.failures.size(), 1u);
  Request* r = nullptr;
  EXPECT_EQ(a_.ep->Send(1, out.data(), 8, nullptr, &r), MC_ERR_PEER_LOST);
  EXPECT_EQ(a_.ep->Recv(1, in1.data(), 8, nullptr, &r), MC_ERR_PEER_LOST);
  mc_notification_v1_t n;
  EXPECT_EQ(a_.ep->PollNotification(&n), MC_ERR_PEER_LOST);
}

TEST_F(EndpointTest, EagerMessagesThatArrivedStayReceivableAfterAFailure) {
  Connect();
  std::vector<uint8_t> out = Pattern(64, 8);
  Request* s = Send(a_, 1, out);
  EXPECT_EQ(Wait(a_, s).status, MC_SUCCESS);
  b_.ep->Progress();
  b_.qps->BreakLink("gone");
  b_.ep->Progress();
  std::vector<uint8_t> in(64);
  Request* r = Recv(b_, 1, in);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(Wait(b_, r).status, MC_SUCCESS);
  EXPECT_EQ(in, out);
}

TEST_F(EndpointTest, CloseCancelsPendingRequests) {
  Connect();
  std::vector<uint8_t> in(1000);
  std::vector<uint8_t> out = Pattern(2 << 20, 1);
  Request* r = Recv(a_, 1, in);
  Request* s = Send(a_, 2, out);
  a_.ep->Close();
  EXPECT_EQ(Wait(a_, r).status, MC_ERR_CLOSED);
  mc_completion_v1_t c = Wait(a_, s);
  EXPECT_TRUE(c.status == MC_ERR_CLOSED || c.status == MC_SUCCESS);
  EXPECT_TRUE(a_.failures.empty()) << "a local close is not a peer failure";
  EXPECT_TRUE(std::all_of(in.begin(), in.end(), [](uint8_t v) { return v == 0; }));
}

TEST_F(EndpointTest, PeerCloseDeliversWhatWasSentThenFails) {
  Connect();
  std::vector<std::vector<uint8_t>> out = {Pattern(10, 1), Pattern(500, 2), Pattern(20, 3)};
  for (auto& o : out) {
    Request* s = Send(b_, 4, o);
    EXPECT_EQ(Wait(b_, s).status, MC_SUCCESS);
  }
  std::vector<uint8_t> pending_buf(10);
  Request* pending = Recv(a_, 99, pending_buf);
  const uint64_t acked = b_.ep->messages_acked();
  b_.ep->Close();
  a_.ep->PeerClosing(acked, std::chrono::milliseconds(500));
  for (auto& o : out) {
    std::vector<uint8_t> in(o.size());
    Request* r = nullptr;
    ASSERT_EQ(a_.ep->Recv(4, in.data(), in.size(), nullptr, &r), MC_SUCCESS);
    EXPECT_EQ(Wait(a_, r).status, MC_SUCCESS);
    EXPECT_EQ(in, o);
  }
  EXPECT_EQ(Wait(a_, pending).status, MC_ERR_PEER_LOST);
  EXPECT_EQ(a_.failures.size(), 1u);
}

TEST_F(EndpointTest, GarbageFromThePeerIsAProtocolError) {
  Connect();
  std::vector<uint8_t> in(10);
  Request* r = Recv(a_, 1, in);
  MsgHeader h{};
  h.type = 77;
  SendWork w;
  w.op = WorkOp::kSend;
  w.inline_data = true;
  w.sge = Sge{reinterpret_cast<uint64_t>(&h), sizeof(h), 0};
  ASSERT_EQ(b_.qps->PostSend(0, w), 0);
  EXPECT_EQ(Wait(a_, r).status, MC_ERR_PROTOCOL);
  EXPECT_EQ(a_.failures.size(), 1u);
}

// ---- registrations ----

TEST_F(EndpointTest, PerOperationRegistrationsAreReleased) {
  Connect();
  const size_t baseline_a = a_.domain.live(), baseline_b = b_.domain.live();
  RoundTrip(300000, true, 1);
  RoundTrip(300000, false, 2);
  EXPECT_EQ(a_.domain.live(), baseline_a);
  EXPECT_EQ(b_.domain.live(), baseline_b);
  EXPECT_GE(a_.domain.register_calls(), 3);
}

TEST_F(EndpointTest, CallerRegistrationIsUsedAsIs) {
  Connect();
  std::vector<uint8_t> out = Pattern(300000, 9);
  StatusOr<MemoryRegion> mr = a_.domain.Register(out.data(), out.size(), false);
  ASSERT_TRUE(mr.ok());
  const int calls = a_.domain.register_calls();
  std::vector<uint8_t> in(out.size());
  Request* r = Recv(b_, 1, in);
  Request* s = Send(a_, 1, out, &*mr);
  EXPECT_EQ(Wait(b_, r).status, MC_SUCCESS);
  EXPECT_EQ(Wait(a_, s).status, MC_SUCCESS);
  EXPECT_EQ(in, out);
  EXPECT_EQ(a_.domain.register_calls(), calls);
}

TEST_F(EndpointTest, FailedRegistrationFailsOnlyItsRequest) {
  Connect();
  std::vector<uint8_t> out = Pattern(300000, 9);
  a_.domain.FailNextRegister();
  Request* s = Send(a_, 1, out);
  EXPECT_EQ(Wait(a_, s).status, MC_ERR_NO_MEMORY);
  RoundTrip(300000, true, 2);
  ExpectNoFaults();
}

}  // namespace
}  // namespace mc::rdma
