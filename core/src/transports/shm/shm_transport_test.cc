// The shm transport through its C tables, with both ends in this process
// (two contexts). Cross-process behaviour is in shm_two_process_test.cc.
#include <cstring>
#include <vector>

#include "gtest/gtest.h"
#include "transports/shm/shm_test_util.h"
#include "transports/shm/wire.h"

namespace mc::shm {
namespace {

using testing::FillPattern;
using testing::FirstMismatch;
using testing::Params;
using testing::Peer;

// Two contexts connected to each other: a (acceptor) and b (connector).
class ShmLoopbackTest : public ::testing::Test {
 protected:
  void Connect(const Params& params_a = {}, const Params& params_b = {}) {
    a_ = std::make_unique<Peer>(params_a);
    b_ = std::make_unique<Peer>(params_b);
    ASSERT_TRUE(a_->ok()) << a_->init_error();
    ASSERT_TRUE(b_->ok()) << b_->init_error();
    std::vector<uint8_t> addr = a_->Listen();
    ASSERT_FALSE(addr.empty());
    ep_b_ = b_->Connect(addr, hello_);
    ASSERT_NE(ep_b_, nullptr);
    ep_a_ = a_->Accept(&received_hello_);
    ASSERT_NE(ep_a_, nullptr);
    // One message each way, so both ends have finished the handshake.
    void *s, *r;
    ASSERT_EQ(b_->t().isend(ep_b_, kHandshakeTag, nullptr, 0, nullptr, &s), MC_SUCCESS);
    ASSERT_EQ(a_->t().irecv(ep_a_, kHandshakeTag, nullptr, 0, nullptr, &r), MC_SUCCESS);
    ASSERT_TRUE(WaitBoth(r, nullptr, s, nullptr));
    ASSERT_EQ(a_->t().isend(ep_a_, kHandshakeTag, nullptr, 0, nullptr, &s), MC_SUCCESS);
    ASSERT_EQ(b_->t().irecv(ep_b_, kHandshakeTag, nullptr, 0, nullptr, &r), MC_SUCCESS);
    ASSERT_TRUE(WaitBoth(s, nullptr, r, nullptr));
  }
  static constexpr uint64_t kHandshakeTag = ~uint64_t{0};

  // Tests both requests (either may be null) until both are done.
  bool WaitBoth(void* req_a, mc_completion_v1_t* ca, void* req_b, mc_completion_v1_t* cb) {
    auto deadline = std::chrono::steady_clock::now() + testing::kDeadline;
    bool done_a = req_a == nullptr, done_b = req_b == nullptr;
    while (std::chrono::steady_clock::now() < deadline) {
      // Both contexts progress: the other side may have work to do for ours.
      a_->t().progress(a_->ctx());
      b_->t().progress(b_->ctx());
      int done = 0;
      if (!done_a) {
        if (a_->t().test(req_a, &done, ca) != MC_SUCCESS) return false;
        done_a = done;
      }
      if (!done_b) {
        if (b_->t().test(req_b, &done, cb) != MC_SUCCESS) return false;
        done_b = done;
      }
      if (done_a && done_b) return true;
    }
    return false;
  }

  // b sends `len` bytes to a with `tag`; a receives into `capacity` bytes.
  void Transfer(size_t len, size_t capacity, uint64_t tag, mc_result_t expect_recv, mc_completion_v1_t* rc = nullptr) {
    std::vector<uint8_t> src(len), dst(capacity + 16, 0xee);
    FillPattern(src.data(), len, tag);
    void *sreq = nullptr, *rreq = nullptr;
    ASSERT_EQ(b_->t().isend(ep_b_, tag, src.data(), len, nullptr, &sreq), MC_SUCCESS);
    ASSERT_EQ(a_->t().irecv(ep_a_, tag, dst.data(), capacity, nullptr, &rreq), MC_SUCCESS);
    mc_completion_v1_t sc{}, local{};
    if (rc == nullptr) rc = &local;
    ASSERT_TRUE(WaitBoth(rreq, rc, sreq, &sc)) << "timed out moving " << len << " bytes";
    EXPECT_EQ(sc.status, MC_SUCCESS);
    EXPECT_EQ(rc->status, expect_recv);
    EXPECT_EQ(rc->tag, tag);
    size_t got = std::min(len, capacity);
    EXPECT_EQ(rc->bytes, got);
    EXPECT_EQ(FirstMismatch(dst.data(), got, tag), -1) << len << " bytes";
    for (size_t i = got; i < dst.size(); ++i) ASSERT_EQ(dst[i], 0xee) << "wrote past the message at " << i;
  }

  std::vector<uint8_t> hello_ = {'h', 'i', 0, 7};
  std::vector<uint8_t> received_hello_;
  std::unique_ptr<Peer> a_, b_;
  void* ep_a_ = nullptr;
  void* ep_b_ = nullptr;
};

TEST_F(ShmLoopbackTest, AcceptHandsOverTheHello) {
  Connect();
  EXPECT_EQ(received_hello_, hello_);
}

TEST_F(ShmLoopbackTest, MessagesOfEverySizeArriveIntact) {
  Connect();
  for (size_t len : {0ul, 1ul, 8ul, 4095ul, 64ul << 10, (64ul << 10) + 1, 1ul << 20, 5ul << 20}) {
    Transfer(len, len, 100 + len, MC_SUCCESS);
    if (HasFailure()) return;
  }
  EXPECT_EQ(a_->stats().cma_read_bytes, (1u << 20) + (5u << 20) + (64u << 10) + 1) << "large ones by one CMA copy";
  EXPECT_EQ(b_->stats().streamed_bytes, 0u);
}

TEST_F(ShmLoopbackTest, SendsPostedBeforeTheHandshakeEndsAreDelivered) {
  a_ = std::make_unique<Peer>();
  b_ = std::make_unique<Peer>();
  std::vector<uint8_t> addr = a_->Listen();
  ep_b_ = b_->Connect(addr);
  ASSERT_NE(ep_b_, nullptr);
  // b has not seen the reply yet: these queue behind the handshake.
  std::vector<uint8_t> small(100), large(3 << 20);
  FillPattern(small.data(), small.size(), 1);
  FillPattern(large.data(), large.size(), 2);
  void *s1, *s2;
  ASSERT_EQ(b_->t().isend(ep_b_, 1, small.data(), small.size(), nullptr, &s1), MC_SUCCESS);
  ASSERT_EQ(b_->t().isend(ep_b_, 2, large.data(), large.size(), nullptr, &s2), MC_SUCCESS);
  ep_a_ = a_->Accept();
  ASSERT_NE(ep_a_, nullptr);
  std::vector<uint8_t> r1(100), r2(3 << 20);
  void *q1, *q2;
  ASSERT_EQ(a_->t().irecv(ep_a_, 1, r1.data(), r1.size(), nullptr, &q1), MC_SUCCESS);
  ASSERT_EQ(a_->t().irecv(ep_a_, 2, r2.data(), r2.size(), nullptr, &q2), MC_SUCCESS);
  mc_completion_v1_t c1, c2, c3, c4;
  ASSERT_TRUE(WaitBoth(q1, &c1, s1, &c2));
  ASSERT_TRUE(WaitBoth(q2, &c3, s2, &c4));
  EXPECT_EQ(c1.status, MC_SUCCESS);
  EXPECT_EQ(c3.status, MC_SUCCESS);
  EXPECT_EQ(FirstMismatch(r1.data(), r1.size(), 1), -1);
  EXPECT_EQ(FirstMismatch(r2.data(), r2.size(), 2), -1);
}

TEST_F(ShmLoopbackTest, MatchingIsByTagInPostingOrder) {
  Connect();
  // Sent: tag 5 (large), 6, 5 (small), 6 -- all before any receive is posted.
  std::vector<std::vector<uint8_t>> msgs = {std::vector<uint8_t>(1 << 20), std::vector<uint8_t>(10),
                                            std::vector<uint8_t>(20), std::vector<uint8_t>(30)};
  uint64_t tags[] = {5, 6, 5, 6};
  std::vector<void*> sends;
  for (size_t i = 0; i < msgs.size(); ++i) {
    FillPattern(msgs[i].data(), msgs[i].size(), i);
    void* req;
    ASSERT_EQ(b_->t().isend(ep_b_, tags[i], msgs[i].data(), msgs[i].size(), nullptr, &req), MC_SUCCESS);
    sends.push_back(req);
  }
  ASSERT_TRUE(a_->ProgressUntil([] { return true; }));
  ASSERT_TRUE(b_->ProgressUntil([] { return true; }));
  // Receive tag 6 first, then tag 5 twice: each tag's messages in send order.
  size_t order[] = {1, 3, 0, 2};
  for (size_t i : order) {
    std::vector<uint8_t> buf(msgs[i].size());
    void* req;
    ASSERT_EQ(a_->t().irecv(ep_a_, tags[i], buf.data(), buf.size(), nullptr, &req), MC_SUCCESS);
    mc_completion_v1_t c{};
    ASSERT_TRUE(WaitBoth(req, &c, nullptr, nullptr));
    EXPECT_EQ(c.status, MC_SUCCESS);
    EXPECT_EQ(c.bytes, msgs[i].size()) << "message " << i;
    EXPECT_EQ(FirstMismatch(buf.data(), buf.size(), i), -1) << "message " << i;
  }
  for (void* req : sends) {
    mc_completion_v1_t c{};
    ASSERT_TRUE(WaitBoth(nullptr, nullptr, req, &c));
    EXPECT_EQ(c.status, MC_SUCCESS);
  }
}

TEST_F(ShmLoopbackTest, ShortBuffersTruncate) {
  Connect();
  Transfer(100, 10, 1, MC_ERR_TRUNCATED);
  Transfer(4 << 20, 1000, 2, MC_ERR_TRUNCATED);
  Transfer(4 << 20, 0, 3, MC_ERR_TRUNCATED);
}

TEST_F(ShmLoopbackTest, ManyMessagesQueueBehindAFullRing) {
  Connect({}, {{"RING_BYTES", "64K"}, {"EAGER_LIMIT", "8K"}});
  constexpr int kCount = 300;
  std::vector<std::vector<uint8_t>> msgs(kCount);
  std::vector<void*> sends(kCount);
  for (int i = 0; i < kCount; ++i) {
    msgs[i].resize(1000 + (i * 37) % 7000);
    FillPattern(msgs[i].data(), msgs[i].size(), i);
    ASSERT_EQ(b_->t().isend(ep_b_, 9, msgs[i].data(), msgs[i].size(), nullptr, &sends[i]), MC_SUCCESS);
  }
  for (int i = 0; i < kCount; ++i) {
    std::vector<uint8_t> buf(8192);
    void* req;
    ASSERT_EQ(a_->t().irecv(ep_a_, 9, buf.data(), buf.size(), nullptr, &req), MC_SUCCESS);
    mc_completion_v1_t c{};
    ASSERT_TRUE(WaitBoth(req, &c, sends[i], nullptr)) << "message " << i;
    ASSERT_EQ(c.bytes, msgs[i].size());
    ASSERT_EQ(FirstMismatch(buf.data(), c.bytes, i), -1) << "message " << i;
  }
}

TEST_F(ShmLoopbackTest, CmaFallbackMovesLargeMessagesThroughTheRing) {
  Params no_cma = {{"USE_CMA", "0"}, {"RING_BYTES", "256K"}};
  Connect(no_cma, no_cma);
  Transfer(7 << 20, 7 << 20, 1, MC_SUCCESS);
  Transfer(3 << 20, 1 << 20, 2, MC_ERR_TRUNCATED);
  Transfer((64 << 10) + 3, (64 << 10) + 3, 3, MC_SUCCESS);
  EXPECT_EQ(a_->stats().cma_read_bytes, 0u);
  // Only what the receiver asked for travels, not the truncated tail.
  EXPECT_EQ(b_->stats().streamed_bytes, (7u << 20) + (1u << 20) + (64u << 10) + 3);
}

TEST_F(ShmLoopbackTest, OnlyTheReceiverNeedsCmaDisabledForTheFallback) {
  Connect({{"USE_CMA", "false"}}, {});
  Transfer(2 << 20, 2 << 20, 1, MC_SUCCESS);
  EXPECT_EQ(a_->stats().cma_read_bytes, 0u);
  EXPECT_EQ(b_->stats().streamed_bytes, 2u << 20);
}

class ShmPutTest : public ShmLoopbackTest {
 protected:
  // a registers `target`, b gets a remote key for it.
  void SetUpPut(size_t bytes) {
    target_.assign(bytes, 0);
    ASSERT_EQ(a_->mem().reg(a_->ctx(), target_.data(), target_.size(), MC_MEM_HOST, &mr_), MC_SUCCESS);
    uint8_t packed[MC_MAX_RKEY_BYTES];
    size_t len = sizeof(packed);
    ASSERT_EQ(a_->mem().pack_rkey(a_->ctx(), mr_, packed, &len), MC_SUCCESS);
    ASSERT_LE(len, static_cast<size_t>(MC_MAX_RKEY_BYTES));
    ASSERT_EQ(b_->mem().unpack_rkey(ep_b_, packed, len, &rkey_), MC_SUCCESS);
  }
  void TearDown() override {
    if (rkey_ != nullptr) {
      EXPECT_EQ(b_->mem().release_rkey(rkey_), MC_SUCCESS);
    }
    if (mr_ != nullptr) {
      EXPECT_EQ(a_->mem().dereg(a_->ctx(), mr_), MC_SUCCESS);
    }
  }
  uint64_t Addr(size_t offset) const { return reinterpret_cast<uintptr_t>(target_.data()) + offset; }

  // Puts `len` bytes of pattern `seed` at target offset; returns the completion status.
  mc_result_t Put(size_t offset, size_t len, uint64_t seed, uint64_t notify, std::vector<uint8_t>* src) {
    src->resize(len);
    FillPattern(src->data(), len, seed);
    void* req = nullptr;
    mc_result_t posted = b_->t().iput(ep_b_, src->data(), len, nullptr, Addr(offset), rkey_, notify, &req);
    if (posted != MC_SUCCESS) return posted;
    mc_completion_v1_t c{};
    // The target must progress for the put to be acknowledged.
    auto deadline = std::chrono::steady_clock::now() + testing::kDeadline;
    int done = 0;
    while (!done && std::chrono::steady_clock::now() < deadline) {
      a_->t().progress(a_->ctx());
      if (b_->t().test(req, &done, &c) != MC_SUCCESS) return MC_ERR_INTERNAL;
    }
    if (!done) return MC_ERR_TIMEOUT;
    if (c.status == MC_SUCCESS) {
      EXPECT_EQ(c.bytes, len);
    }
    return c.status;
  }

  std::vector<uint8_t> target_;
  void* mr_ = nullptr;
  void* rkey_ = nullptr;
};

TEST_F(ShmPutTest, PutsLandBeforeTheirNotificationsWhichArriveInOrder) {
  Connect();
  SetUpPut(8 << 20);
  std::vector<uint8_t> s1, s2, s3;
  ASSERT_EQ(Put(0, 100, 1, 11, &s1), MC_SUCCESS);          // inline in the ring
  ASSERT_EQ(Put(4096, 5 << 20, 2, 22, &s2), MC_SUCCESS);   // CMA write
  ASSERT_EQ(Put(6 << 20, 0, 3, 33, &s3), MC_SUCCESS);      // empty put: just the notification
  uint64_t expect_notify[] = {11, 22, 33};
  uint64_t expect_addr[] = {Addr(0), Addr(4096), Addr(6 << 20)};
  size_t expect_bytes[] = {100, 5 << 20, 0};
  for (int i = 0; i < 3; ++i) {
    mc_notification_v1_t n{};
    ASSERT_EQ(a_->WaitNotification(ep_a_, &n), MC_SUCCESS);
    EXPECT_EQ(n.value, expect_notify[i]);
    EXPECT_EQ(n.addr, expect_addr[i]);
    EXPECT_EQ(n.bytes, expect_bytes[i]);
  }
  EXPECT_EQ(FirstMismatch(target_.data(), 100, 1), -1);
  EXPECT_EQ(FirstMismatch(target_.data() + 4096, 5 << 20, 2), -1);
  EXPECT_EQ(b_->stats().cma_write_bytes, 5u << 20);
  mc_notification_v1_t none;
  EXPECT_EQ(a_->t().poll_notification(ep_a_, &none), MC_AGAIN);
}

TEST_F(ShmPutTest, FallbackPutsGoThroughTheRing) {
  Params no_cma = {{"USE_CMA", "0"}};
  Connect(no_cma, no_cma);
  SetUpPut(4 << 20);
  std::vector<uint8_t> src;
  ASSERT_EQ(Put(8, (3 << 20) + 5, 7, 77, &src), MC_SUCCESS);
  mc_notification_v1_t n{};
  ASSERT_EQ(a_->WaitNotification(ep_a_, &n), MC_SUCCESS);
  EXPECT_EQ(n.value, 77u);
  EXPECT_EQ(FirstMismatch(target_.data() + 8, (3 << 20) + 5, 7), -1);
  EXPECT_EQ(b_->stats().cma_write_bytes, 0u);
  EXPECT_EQ(b_->stats().streamed_bytes, (3u << 20) + 5);
}

TEST_F(ShmPutTest, PutsOutsideTheRegistrationAreRefused) {
  Connect();
  SetUpPut(1 << 20);
  std::vector<uint8_t> src;
  // Outside the key's range: refused by the initiator before any byte moves.
  EXPECT_EQ(Put((1 << 20) - 10, 11, 1, 0, &src), MC_ERR_ACCESS);
  EXPECT_EQ(Put(0, (1 << 20) + 1, 1, 0, &src), MC_ERR_ACCESS);
  void* req = nullptr;
  EXPECT_EQ(b_->t().iput(ep_b_, src.data(), 1, nullptr, Addr(0) - 1, rkey_, 0, &req), MC_ERR_ACCESS);
  // The target deregistered: it refuses (the key is stale), no notification.
  ASSERT_EQ(a_->mem().dereg(a_->ctx(), mr_), MC_SUCCESS);
  mr_ = nullptr;
  EXPECT_EQ(Put(0, 64, 2, 5, &src), MC_ERR_ACCESS);
  EXPECT_EQ(Put(0, 2 << 10, 2, 5, &src), MC_ERR_ACCESS);
  mc_notification_v1_t n;
  EXPECT_EQ(a_->t().poll_notification(ep_a_, &n), MC_AGAIN);
  EXPECT_TRUE(a_->host().LogContains("refused a put"));
}

TEST_F(ShmPutTest, KeysFromAnotherProcessOrGarbageAreRejected) {
  Connect();
  Peer other;
  ASSERT_TRUE(other.ok());
  std::vector<uint8_t> mem(4096);
  void* mr = nullptr;
  ASSERT_EQ(other.mem().reg(other.ctx(), mem.data(), mem.size(), MC_MEM_HOST, &mr), MC_SUCCESS);
  uint8_t packed[MC_MAX_RKEY_BYTES];
  size_t len = sizeof(packed);
  ASSERT_EQ(other.mem().pack_rkey(other.ctx(), mr, packed, &len), MC_SUCCESS);
  void* rkey = nullptr;
  EXPECT_EQ(b_->mem().unpack_rkey(ep_b_, packed, len, &rkey), MC_ERR_ACCESS) << "not the endpoint's peer";
  // Before its handshake an endpoint cannot tell; the put is refused then.
  void* fresh = b_->Connect(a_->Listen());
  ASSERT_NE(fresh, nullptr);
  ASSERT_EQ(b_->mem().unpack_rkey(fresh, packed, len, &rkey), MC_SUCCESS);
  void* req = nullptr;
  ASSERT_EQ(b_->t().iput(fresh, mem.data(), 8, nullptr, reinterpret_cast<uintptr_t>(mem.data()), rkey, 1, &req),
            MC_SUCCESS);
  void* fresh_a = a_->Accept();
  ASSERT_NE(fresh_a, nullptr);
  mc_completion_v1_t c{};
  ASSERT_TRUE(WaitBoth(nullptr, nullptr, req, &c));
  EXPECT_EQ(c.status, MC_ERR_ACCESS);
  EXPECT_EQ(b_->mem().release_rkey(rkey), MC_SUCCESS);
  EXPECT_EQ(b_->mem().unpack_rkey(ep_b_, packed, len - 1, &rkey), MC_ERR_INVALID_ARG);
  std::memset(packed, 0x5a, sizeof(packed));
  EXPECT_EQ(b_->mem().unpack_rkey(ep_b_, packed, len, &rkey), MC_ERR_INVALID_ARG);
  size_t small = 8;
  EXPECT_EQ(other.mem().pack_rkey(other.ctx(), mr, packed, &small), MC_ERR_NO_MEMORY);
  EXPECT_EQ(other.mem().dereg(other.ctx(), mr), MC_SUCCESS);
  EXPECT_EQ(other.mem().dereg(other.ctx(), mr), MC_ERR_INVALID_ARG) << "twice";
  EXPECT_EQ(other.mem().reg(other.ctx(), mem.data(), mem.size(), MC_MEM_CUDA, &mr), MC_ERR_UNSUPPORTED);
}

TEST_F(ShmLoopbackTest, CloseCompletesPendingRequestsAndTellsThePeer) {
  Connect();
  std::vector<uint8_t> buf(4 << 20);
  void *recv_req, *send_req;
  ASSERT_EQ(b_->t().irecv(ep_b_, 1, buf.data(), 100, nullptr, &recv_req), MC_SUCCESS);
  ASSERT_EQ(b_->t().isend(ep_b_, 2, buf.data(), buf.size(), nullptr, &send_req), MC_SUCCESS);  // waits for a FIN
  void* a_recv;
  ASSERT_EQ(a_->t().irecv(ep_a_, 77, buf.data(), 10, nullptr, &a_recv), MC_SUCCESS);
  ASSERT_EQ(b_->t().close(ep_b_), MC_SUCCESS);
  mc_completion_v1_t c{};
  ASSERT_TRUE(b_->Wait(recv_req, &c));
  EXPECT_EQ(c.status, MC_ERR_CLOSED);
  ASSERT_TRUE(b_->Wait(send_req, &c));
  EXPECT_EQ(c.status, MC_ERR_CLOSED);
  EXPECT_TRUE(b_->host().failures().empty()) << "a local close is not a peer failure";
  // The peer: its pending receive fails, once, with a reason.
  ASSERT_TRUE(a_->Wait(a_recv, &c));
  EXPECT_EQ(c.status, MC_ERR_PEER_LOST);
  ASSERT_TRUE(a_->ProgressUntil([&] { return !a_->host().failures().empty(); }));
  ASSERT_EQ(a_->host().failures().size(), 1u);
  EXPECT_EQ(a_->host().failures()[0].ep, ep_a_);
  EXPECT_EQ(a_->host().failures()[0].reason, MC_ERR_PEER_LOST);
  EXPECT_EQ(a_->host().failures()[0].detail, "peer closed the endpoint");
  void* req;
  EXPECT_EQ(a_->t().isend(ep_a_, 1, buf.data(), 10, nullptr, &req), MC_ERR_PEER_LOST);
  EXPECT_EQ(a_->t().irecv(ep_a_, 1, buf.data(), 10, nullptr, &req), MC_ERR_PEER_LOST);
  mc_notification_v1_t n;
  EXPECT_EQ(a_->t().poll_notification(ep_a_, &n), MC_ERR_PEER_LOST);
  for (int i = 0; i < 100; ++i) a_->t().progress(a_->ctx());
  EXPECT_EQ(a_->host().failures().size(), 1u) << "reported once";
  ep_b_ = nullptr;
}

TEST_F(ShmLoopbackTest, MessagesSentBeforeThePeerClosedAreStillDelivered) {
  Connect();
  std::vector<uint8_t> msg(500);
  FillPattern(msg.data(), msg.size(), 3);
  ASSERT_EQ(b_->Send(ep_b_, 3, msg.data(), msg.size()), MC_SUCCESS);
  ASSERT_EQ(b_->t().close(ep_b_), MC_SUCCESS);
  ASSERT_TRUE(a_->ProgressUntil([&] { return !a_->host().failures().empty(); }));
  std::vector<uint8_t> buf(500);
  EXPECT_EQ(a_->Recv(ep_a_, 3, buf.data(), buf.size()), MC_SUCCESS);
  EXPECT_EQ(FirstMismatch(buf.data(), buf.size(), 3), -1);
  EXPECT_EQ(a_->Recv(ep_a_, 3, buf.data(), buf.size()), MC_ERR_PEER_LOST);
}

TEST_F(ShmLoopbackTest, AFailureCallbackMayCloseTheEndpoint) {
  Connect();
  a_->host().on_failure = [this](void* ep) { EXPECT_EQ(a_->t().close(ep), MC_SUCCESS); };
  std::vector<uint8_t> buf(10);
  void* req;
  ASSERT_EQ(a_->t().irecv(ep_a_, 1, buf.data(), buf.size(), nullptr, &req), MC_SUCCESS);
  ASSERT_EQ(b_->t().close(ep_b_), MC_SUCCESS);
  mc_completion_v1_t c{};
  ASSERT_TRUE(a_->Wait(req, &c));
  EXPECT_EQ(c.status, MC_ERR_PEER_LOST);
  ASSERT_TRUE(a_->ProgressUntil([&] { return !a_->host().failures().empty(); }));
  for (int i = 0; i < 10; ++i) a_->t().progress(a_->ctx());
  EXPECT_EQ(a_->host().failures().size(), 1u);
}

TEST(ShmConnectTest, AMissingListenerFailsTheEndpointAfterConnectReturns) {
  Peer a, b;
  std::vector<uint8_t> addr = a.Listen();
  ASSERT_FALSE(addr.empty());
  auto* wire = reinterpret_cast<AddressWire*>(addr.data());
  wire->name[std::strlen(wire->name) - 1] ^= 1;  // nobody listens there
  void* ep = b.Connect(addr);
  ASSERT_NE(ep, nullptr);
  EXPECT_TRUE(b.host().failures().empty()) << "no callback before the core holds the endpoint";
  std::vector<uint8_t> buf(10);
  void* req;
  ASSERT_EQ(b.t().isend(ep, 1, buf.data(), buf.size(), nullptr, &req), MC_SUCCESS);
  mc_completion_v1_t c{};
  ASSERT_TRUE(b.Wait(req, &c));
  EXPECT_EQ(c.status, MC_ERR_PEER_LOST);
  ASSERT_EQ(b.host().failures().size(), 1u);
  EXPECT_EQ(b.host().failures()[0].ep, ep);
  EXPECT_NE(b.host().failures()[0].detail.find("cannot connect"), std::string::npos) << b.host().failures()[0].detail;
  EXPECT_EQ(b.t().isend(ep, 1, buf.data(), buf.size(), nullptr, &req), MC_ERR_PEER_LOST);
  EXPECT_EQ(b.t().close(ep), MC_SUCCESS);
}

TEST(ShmArgumentsTest, BadArgumentsAreRejectedNotFollowed) {
  Peer a, b;
  ASSERT_TRUE(a.ok() && b.ok());
  const mc_transport_v1_t& t = a.t();
  std::vector<uint8_t> addr(MC_MAX_ADDR_BYTES);
  size_t len = addr.size();
  void* listener = nullptr;
  EXPECT_EQ(t.listen(a.ctx(), 1, addr.data(), &len, &listener), MC_ERR_INVALID_ARG) << "no device 1";
  len = 4;
  EXPECT_EQ(t.listen(a.ctx(), 0, addr.data(), &len, &listener), MC_ERR_NO_MEMORY) << "address buffer too small";
  addr = a.Listen();
  void* ep = nullptr;
  std::vector<uint8_t> junk(addr.size(), 0x41);
  EXPECT_EQ(t.connect(b.ctx(), 0, junk.data(), junk.size(), nullptr, 0, &ep), MC_ERR_INVALID_ARG);
  EXPECT_EQ(t.connect(b.ctx(), 0, addr.data(), addr.size() - 1, nullptr, 0, &ep), MC_ERR_INVALID_ARG);
  std::vector<uint8_t> long_hello(MC_MAX_HELLO_BYTES + 1);
  EXPECT_EQ(t.connect(b.ctx(), 0, addr.data(), addr.size(), long_hello.data(), long_hello.size(), &ep),
            MC_ERR_INVALID_ARG);
  std::vector<uint8_t> other_host = addr;
  reinterpret_cast<AddressWire*>(other_host.data())->boot_id[3] ^= 0xff;
  EXPECT_EQ(t.connect(b.ctx(), 0, other_host.data(), other_host.size(), nullptr, 0, &ep), MC_ERR_INVALID_ARG);

  ep = b.Connect(addr);
  ASSERT_NE(ep, nullptr);
  void* accepted = a.Accept();
  ASSERT_NE(accepted, nullptr);
  void* req = nullptr;
  EXPECT_EQ(t.isend(ep, 0, nullptr, 10, nullptr, &req), MC_ERR_INVALID_ARG);
  EXPECT_EQ(t.irecv(ep, 0, nullptr, 10, nullptr, &req), MC_ERR_INVALID_ARG);
  EXPECT_EQ(t.isend(nullptr, 0, nullptr, 0, nullptr, &req), MC_ERR_INVALID_ARG);
  EXPECT_EQ(t.iput(ep, nullptr, 0, nullptr, 0, nullptr, 0, &req), MC_ERR_INVALID_ARG) << "no rkey";
  std::vector<uint8_t> buf(64);
  void* mr = nullptr;
  ASSERT_EQ(b.mem().reg(b.ctx(), buf.data(), 32, MC_MEM_HOST, &mr), MC_SUCCESS);
  EXPECT_EQ(t.isend(ep, 0, buf.data(), 64, mr, &req), MC_ERR_INVALID_ARG) << "mr does not cover the buffer";
  ASSERT_EQ(t.isend(ep, 0, buf.data(), 32, mr, &req), MC_SUCCESS);
  mc_completion_v1_t c{};
  ASSERT_TRUE(b.Wait(req, &c));
  EXPECT_EQ(c.status, MC_SUCCESS);
  int done = 0;
  EXPECT_EQ(t.test(req, &done, &c), MC_ERR_INVALID_ARG) << "a finished request is gone";
  EXPECT_EQ(b.mem().dereg(b.ctx(), mr), MC_SUCCESS);
  // A hello that does not fit the caller's buffer waits for a bigger one.
  void* ep2 = b.Connect(addr, {1, 2, 3});
  ASSERT_NE(ep2, nullptr);
  uint8_t hello[MC_MAX_HELLO_BYTES];
  size_t hello_len = 2;
  void* accepted2 = nullptr;
  mc_result_t r = MC_AGAIN;
  auto deadline = std::chrono::steady_clock::now() + testing::kDeadline;
  while (r == MC_AGAIN && std::chrono::steady_clock::now() < deadline) {
    r = t.accept(a.listener(), &accepted2, hello, &hello_len);
  }
  EXPECT_EQ(r, MC_ERR_NO_MEMORY);
  hello_len = sizeof(hello);
  EXPECT_EQ(t.accept(a.listener(), &accepted2, hello, &hello_len), MC_SUCCESS);
  EXPECT_EQ(hello_len, 3u);
  EXPECT_EQ(t.close(ep), MC_SUCCESS);
  EXPECT_EQ(t.close(ep2), MC_SUCCESS);
}

}  // namespace
}  // namespace mc::shm
