// The tcp transport through its C ABI, between two contexts of one process
// over real loopback sockets: matching, eager and rendezvous, truncation,
// puts, close and connection loss. (Across processes: tcp_two_process_test
// and the conformance suite.)
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <numeric>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "transports/tcp/tcp_test_host.h"

namespace mc::tcp::testing {
namespace {

std::vector<char> Pattern(size_t n, int seed) {
  std::vector<char> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<char>((i * 131 + seed * 7 + (i >> 12)) & 0xff);
  return v;
}

class TcpLoopbackTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }
  void Open() {
    std::string err;
    ASSERT_EQ(InitTcp(host_a_, &a_, &err), MC_SUCCESS) << err;
    ASSERT_EQ(InitTcp(host_b_, &b_, &err), MC_SUCCESS) << err;
    pair_ = ConnectPair(a_, b_);
    ASSERT_NE(pair_.client, nullptr);
    ASSERT_NE(pair_.server, nullptr);
  }
  void TearDown() override {
    if (a_ != nullptr) {
      EXPECT_EQ(Ops().finalize(a_), MC_SUCCESS);
    }
    if (b_ != nullptr) {
      EXPECT_EQ(Ops().finalize(b_), MC_SUCCESS);
    }
  }

  void* Send(void* ep, uint64_t tag, const std::vector<char>& data) {
    void* req = nullptr;
    EXPECT_EQ(Ops().isend(ep, tag, data.data(), data.size(), nullptr, &req), MC_SUCCESS);
    return req;
  }
  void* Recv(void* ep, uint64_t tag, std::vector<char>& data) {
    void* req = nullptr;
    EXPECT_EQ(Ops().irecv(ep, tag, data.data(), data.size(), nullptr, &req), MC_SUCCESS);
    return req;
  }

  // Sends `n` bytes client -> server and checks they arrive intact.
  void RoundTrip(size_t n, bool post_recv_first) {
    std::vector<char> data = Pattern(n, static_cast<int>(n));
    std::vector<char> got(n, 0);
    void* recv = post_recv_first ? Recv(pair_.server, 5, got) : nullptr;
    void* send = Send(pair_.client, 5, data);
    if (!post_recv_first) {
      // Let the message (or its RTS) arrive unexpected first.
      ProgressUntil({a_, b_}, [] { return false; }, std::chrono::milliseconds(20));
      recv = Recv(pair_.server, 5, got);
    }
    mc_completion_v1_t rc = WaitFor(recv, {a_});
    mc_completion_v1_t sc = WaitFor(send, {b_});
    EXPECT_EQ(rc.status, MC_SUCCESS) << n;
    EXPECT_EQ(rc.bytes, n);
    EXPECT_EQ(rc.tag, 5u);
    EXPECT_EQ(sc.status, MC_SUCCESS);
    EXPECT_EQ(sc.bytes, n);
    EXPECT_TRUE(got == data) << "payload of " << n << " bytes differs";
  }

  TestHost host_a_;
  TestHost host_b_;
  void* a_ = nullptr;
  void* b_ = nullptr;
  Pair pair_;
};

TEST_F(TcpLoopbackTest, SizesAroundEagerLimitPostedFirst) {
  for (size_t n : {size_t{0}, size_t{1}, size_t{8}, size_t{4095}, size_t{65535}, size_t{65536}, size_t{65537},
                   size_t{1} << 20, size_t{9} << 20}) {
    RoundTrip(n, true);
  }
}

TEST_F(TcpLoopbackTest, SizesAroundEagerLimitUnexpected) {
  for (size_t n : {size_t{0}, size_t{7}, size_t{65536}, size_t{65537}, size_t{3} << 20}) {
    RoundTrip(n, false);
  }
}

TEST_F(TcpLoopbackTest, OpsQueuedBeforeConnectionIsUp) {
  ListenAddress l = ListenOn(b_);
  void* ep = nullptr;
  ASSERT_EQ(Ops().connect(a_, 0, l.addr.data(), l.addr.size(), "x", 1, &ep), MC_SUCCESS);
  std::vector<char> small = Pattern(100, 1), big = Pattern(200000, 2);
  void* s1 = Send(ep, 1, small);
  void* s2 = Send(ep, 2, big);
  void* server = AcceptOne(l.listener, {a_});
  ASSERT_NE(server, nullptr);
  std::vector<char> g1(100), g2(200000);
  void* r2 = Recv(server, 2, g2);
  void* r1 = Recv(server, 1, g1);
  EXPECT_EQ(WaitFor(r1, {a_}).status, MC_SUCCESS);
  EXPECT_EQ(WaitFor(r2, {a_}).status, MC_SUCCESS);
  EXPECT_EQ(WaitFor(s1, {b_}).status, MC_SUCCESS);
  EXPECT_EQ(WaitFor(s2, {b_}).status, MC_SUCCESS);
  EXPECT_TRUE(g1 == small);
  EXPECT_TRUE(g2 == big);
  EXPECT_EQ(Ops().close_listener(l.listener), MC_SUCCESS);
}

TEST_F(TcpLoopbackTest, ThousandsInFlightKeepPerTagOrder) {
  constexpr int kMessages = 3000;
  constexpr int kTags = 7;
  std::vector<std::vector<char>> out(kMessages), in(kMessages);
  std::vector<void*> sends, recvs(kMessages);
  for (int i = 0; i < kMessages; ++i) {
    // Every 100th is a rendezvous message.
    size_t n = i % 100 == 0 ? 100000 : 8 + i % 50;
    out[i] = Pattern(n, i);
    std::memcpy(out[i].data(), &i, sizeof(i));
    in[i].assign(n, 0);
    sends.push_back(Send(pair_.client, i % kTags, out[i]));
  }
  // Post the receives tag by tag, in reverse tag order: within a tag, the
  // k-th receive must get the k-th message of that tag.
  for (int tag = kTags - 1; tag >= 0; --tag) {
    for (int i = tag; i < kMessages; i += kTags) recvs[i] = Recv(pair_.server, tag, in[i]);
  }
  for (int i = 0; i < kMessages; ++i) {
    mc_completion_v1_t c = WaitFor(recvs[i], {a_});
    ASSERT_EQ(c.status, MC_SUCCESS) << i;
    EXPECT_EQ(c.tag, static_cast<uint64_t>(i % kTags));
    ASSERT_TRUE(in[i] == out[i]) << "message " << i << " out of order or corrupt";
  }
  for (void* s : sends) EXPECT_EQ(WaitFor(s, {b_}).status, MC_SUCCESS);
}

TEST_F(TcpLoopbackTest, TruncationKeepsStreamInStep) {
  for (size_t n : {size_t{1000}, size_t{1} << 20}) {  // eager, then rendezvous
    for (bool posted_first : {true, false}) {
      std::vector<char> big = Pattern(n, 3), next = Pattern(77, 4);
      std::vector<char> small(n / 2, 0), got_next(77, 0);
      void* r = posted_first ? Recv(pair_.server, 9, small) : nullptr;
      void* s1 = Send(pair_.client, 9, big);
      void* s2 = Send(pair_.client, 9, next);
      if (!posted_first) {
        ProgressUntil({a_, b_}, [] { return false; }, std::chrono::milliseconds(20));
        r = Recv(pair_.server, 9, small);
      }
      mc_completion_v1_t c = WaitFor(r, {a_});
      EXPECT_EQ(c.status, MC_ERR_TRUNCATED);
      EXPECT_EQ(c.bytes, n / 2);
      EXPECT_EQ(std::memcmp(small.data(), big.data(), n / 2), 0);
      void* r2 = Recv(pair_.server, 9, got_next);
      EXPECT_EQ(WaitFor(r2, {a_}).status, MC_SUCCESS);
      EXPECT_TRUE(got_next == next);
      EXPECT_EQ(WaitFor(s1, {b_}).status, MC_SUCCESS);
      EXPECT_EQ(WaitFor(s2, {b_}).status, MC_SUCCESS);
    }
  }
}

class TcpBigEagerTest : public TcpLoopbackTest {
 protected:
  void SetUp() override {
    host_a_.Set("EAGER_LIMIT", "64M");
    host_b_.Set("EAGER_LIMIT", "64M");
    Open();
  }
};

TEST_F(TcpBigEagerTest, RecvPostedWhileAnUnexpectedMessageIsArriving) {
  // 32 MiB is far more than the socket buffers hold: after isend wrote what
  // fit and the receiver read it once, the message is half here, unexpected.
  std::vector<char> first = Pattern(32 << 20, 21), second = Pattern(1000, 22);
  void* s1 = Send(pair_.client, 6, first);
  Ops().progress(b_);
  std::vector<char> got1(32 << 20), got2(1000);
  void* r1 = Recv(pair_.server, 6, got1);
  void* r2 = Recv(pair_.server, 6, got2);
  void* s2 = Send(pair_.client, 6, second);
  EXPECT_EQ(WaitFor(r1, {a_}).status, MC_SUCCESS);
  EXPECT_EQ(WaitFor(r2, {a_}).status, MC_SUCCESS);
  EXPECT_EQ(WaitFor(s1, {b_}).status, MC_SUCCESS);
  EXPECT_EQ(WaitFor(s2, {b_}).status, MC_SUCCESS);
  EXPECT_TRUE(got1 == first);
  EXPECT_TRUE(got2 == second);
}

TEST_F(TcpLoopbackTest, PutLandsBeforeItsNotification) {
  std::vector<char> target(1 << 21, 0);
  void* mr = nullptr;
  ASSERT_EQ(Mem().reg(b_, target.data(), target.size(), MC_MEM_HOST, &mr), MC_SUCCESS);
  uint8_t packed[MC_MAX_RKEY_BYTES];
  size_t packed_len = sizeof(packed);
  ASSERT_EQ(Mem().pack_rkey(b_, mr, packed, &packed_len), MC_SUCCESS);
  void* rkey = nullptr;
  ASSERT_EQ(Mem().unpack_rkey(pair_.client, packed, packed_len, &rkey), MC_SUCCESS);

  uint64_t base = reinterpret_cast<uintptr_t>(target.data());
  for (size_t n : {size_t{0}, size_t{16}, size_t{100000}, size_t{1} << 20}) {
    std::vector<char> data = Pattern(n, 11);
    void* req = nullptr;
    ASSERT_EQ(Ops().iput(pair_.client, data.data(), n, nullptr, base + 4096, rkey, 1000 + n, &req), MC_SUCCESS);
    mc_notification_v1_t note{};
    ASSERT_TRUE(ProgressUntil({a_}, [&] { return Ops().poll_notification(pair_.server, &note) == MC_SUCCESS; }));
    EXPECT_EQ(note.value, 1000 + n);
    EXPECT_EQ(note.addr, base + 4096);
    EXPECT_EQ(note.bytes, n);
    EXPECT_TRUE(n == 0 || std::memcmp(target.data() + 4096, data.data(), n) == 0);
    mc_completion_v1_t c = WaitFor(req, {b_});
    EXPECT_EQ(c.status, MC_SUCCESS);
    EXPECT_EQ(c.bytes, n);
  }
  EXPECT_EQ(Mem().release_rkey(rkey), MC_SUCCESS);
  EXPECT_EQ(Mem().dereg(b_, mr), MC_SUCCESS);
}

TEST_F(TcpLoopbackTest, PutOutsideRegionOrWithUnknownKeyIsRefused) {
  std::vector<char> target(4096, 'T');
  std::vector<char> guard(4096, 'G');  // outside the region
  void* mr = nullptr;
  ASSERT_EQ(Mem().reg(b_, target.data(), target.size(), MC_MEM_HOST, &mr), MC_SUCCESS);
  uint8_t packed[MC_MAX_RKEY_BYTES];
  size_t packed_len = sizeof(packed);
  ASSERT_EQ(Mem().pack_rkey(b_, mr, packed, &packed_len), MC_SUCCESS);
  void* rkey = nullptr;
  ASSERT_EQ(Mem().unpack_rkey(pair_.client, packed, packed_len, &rkey), MC_SUCCESS);
  uint64_t base = reinterpret_cast<uintptr_t>(target.data());
  std::vector<char> data(200, 'x');

  // Past the end, checked by the initiator from the key.
  void* req = nullptr;
  ASSERT_EQ(Ops().iput(pair_.client, data.data(), data.size(), nullptr, base + 4000, rkey, 1, &req), MC_SUCCESS);
  EXPECT_EQ(WaitFor(req, {b_}).status, MC_ERR_ACCESS);

  // A forged key that claims more than was registered: the target refuses.
  uint8_t forged[MC_MAX_RKEY_BYTES];
  std::memcpy(forged, packed, packed_len);
  uint64_t big = 1 << 20;
  std::memcpy(forged + 16, &big, 8);
  void* forged_key = nullptr;
  ASSERT_EQ(Mem().unpack_rkey(pair_.client, forged, packed_len, &forged_key), MC_SUCCESS);
  ASSERT_EQ(Ops().iput(pair_.client, data.data(), data.size(), nullptr, base + 4000, forged_key, 2, &req),
            MC_SUCCESS);
  EXPECT_EQ(WaitFor(req, {b_}).status, MC_ERR_ACCESS);

  // A key id nobody registered.
  uint32_t bogus_id = 0x7777777;
  std::memcpy(forged + 4, &bogus_id, 4);
  void* unknown_key = nullptr;
  ASSERT_EQ(Mem().unpack_rkey(pair_.client, forged, packed_len, &unknown_key), MC_SUCCESS);
  ASSERT_EQ(Ops().iput(pair_.client, data.data(), data.size(), nullptr, base, unknown_key, 3, &req), MC_SUCCESS);
  EXPECT_EQ(WaitFor(req, {b_}).status, MC_ERR_ACCESS);

  // After dereg the old key is refused too.
  ASSERT_EQ(Mem().dereg(b_, mr), MC_SUCCESS);
  ASSERT_EQ(Ops().iput(pair_.client, data.data(), data.size(), nullptr, base, rkey, 4, &req), MC_SUCCESS);
  EXPECT_EQ(WaitFor(req, {b_}).status, MC_ERR_ACCESS);

  EXPECT_TRUE(std::all_of(target.begin(), target.end(), [](char c) { return c == 'T'; }));
  EXPECT_TRUE(std::all_of(guard.begin(), guard.end(), [](char c) { return c == 'G'; }));
  mc_notification_v1_t note;
  EXPECT_EQ(Ops().poll_notification(pair_.server, &note), MC_AGAIN);
  // The connection is still fine.
  RoundTrip(10, true);
  for (void* k : {rkey, forged_key, unknown_key}) EXPECT_EQ(Mem().release_rkey(k), MC_SUCCESS);
}

TEST_F(TcpLoopbackTest, MemoryArgumentChecks) {
  char buf[64];
  void* mr = nullptr;
  EXPECT_EQ(Mem().reg(a_, buf, sizeof(buf), MC_MEM_CUDA, &mr), MC_ERR_UNSUPPORTED);
  EXPECT_EQ(Mem().reg(a_, nullptr, 10, MC_MEM_HOST, &mr), MC_ERR_INVALID_ARG);
  ASSERT_EQ(Mem().reg(a_, buf, sizeof(buf), MC_MEM_HOST, &mr), MC_SUCCESS);
  uint8_t packed[8];
  size_t len = sizeof(packed);
  EXPECT_EQ(Mem().pack_rkey(a_, mr, packed, &len), MC_ERR_NO_MEMORY);
  void* rkey = nullptr;
  EXPECT_EQ(Mem().unpack_rkey(pair_.client, "garbage", 7, &rkey), MC_ERR_INVALID_ARG);
  uint8_t full[MC_MAX_RKEY_BYTES];
  len = sizeof(full);
  ASSERT_EQ(Mem().pack_rkey(a_, mr, full, &len), MC_SUCCESS);
  ASSERT_EQ(Mem().unpack_rkey(pair_.server, full, len, &rkey), MC_SUCCESS);
  void* req = nullptr;
  // A key unpacked for another endpoint.
  EXPECT_EQ(Ops().iput(pair_.client, buf, 1, nullptr, reinterpret_cast<uintptr_t>(buf), rkey, 0, &req),
            MC_ERR_INVALID_ARG);
  EXPECT_EQ(Mem().release_rkey(rkey), MC_SUCCESS);
  EXPECT_EQ(Mem().dereg(a_, mr), MC_SUCCESS);
}

TEST_F(TcpLoopbackTest, InvalidArguments) {
  void* req = nullptr;
  EXPECT_EQ(Ops().isend(nullptr, 0, "x", 1, nullptr, &req), MC_ERR_INVALID_ARG);
  EXPECT_EQ(Ops().isend(pair_.client, 0, nullptr, 1, nullptr, &req), MC_ERR_INVALID_ARG);
  EXPECT_EQ(Ops().irecv(pair_.client, 0, nullptr, 1, nullptr, &req), MC_ERR_INVALID_ARG);
  EXPECT_EQ(Ops().isend(pair_.client, 0, "x", size_t{3} << 30, nullptr, &req), MC_ERR_INVALID_ARG);
  int done = 0;
  EXPECT_EQ(Ops().test(nullptr, &done, nullptr), MC_ERR_INVALID_ARG);
  EXPECT_EQ(Ops().progress(nullptr), MC_ERR_INVALID_ARG);
  void* ep = nullptr;
  uint8_t junk[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  EXPECT_EQ(Ops().connect(a_, 0, junk, sizeof(junk), nullptr, 0, &ep), MC_ERR_INVALID_ARG);
  ListenAddress l = ListenOn(b_);
  EXPECT_EQ(Ops().connect(a_, 3, l.addr.data(), l.addr.size(), nullptr, 0, &ep), MC_ERR_INVALID_ARG);
  char hello[MC_MAX_HELLO_BYTES + 1] = {};
  EXPECT_EQ(Ops().connect(a_, 0, l.addr.data(), l.addr.size(), hello, sizeof(hello), &ep), MC_ERR_INVALID_ARG);
  uint8_t addr[4];
  size_t addr_len = sizeof(addr);
  void* listener = nullptr;
  EXPECT_EQ(Ops().listen(a_, 0, addr, &addr_len, &listener), MC_ERR_NO_MEMORY);
  EXPECT_EQ(Ops().listen(a_, 1, addr, &addr_len, &listener), MC_ERR_INVALID_ARG);
  EXPECT_EQ(Ops().close_listener(l.listener), MC_SUCCESS);
}

TEST_F(TcpLoopbackTest, AcceptWantsRoomForTheHello) {
  ListenAddress l = ListenOn(b_);
  void* ep = nullptr;
  ASSERT_EQ(Ops().connect(a_, 0, l.addr.data(), l.addr.size(), "hello world", 11, &ep), MC_SUCCESS);
  char small[4];
  size_t len = sizeof(small);
  void* server = nullptr;
  mc_result_t r = MC_AGAIN;
  ASSERT_TRUE(ProgressUntil({a_}, [&] {
    len = sizeof(small);
    r = Ops().accept(l.listener, &server, small, &len);
    return r != MC_AGAIN;
  }));
  EXPECT_EQ(r, MC_ERR_NO_MEMORY);
  std::string hello;
  server = AcceptOne(l.listener, {a_}, &hello);
  EXPECT_NE(server, nullptr);
  EXPECT_EQ(hello, "hello world");
  EXPECT_EQ(Ops().close_listener(l.listener), MC_SUCCESS);
}

TEST_F(TcpLoopbackTest, CloseCancelsAndPeerSeesLoss) {
  std::vector<char> buf(100), big = Pattern(1 << 20, 5);
  void* r1 = Recv(pair_.client, 1, buf);
  void* s1 = Send(pair_.client, 2, big);  // rendezvous: waits for a CTS that never comes
  void* peer_recv = Recv(pair_.server, 3, buf);
  EXPECT_EQ(Ops().close(pair_.client), MC_SUCCESS);
  int done = 0;
  mc_completion_v1_t c{};
  ASSERT_EQ(Ops().test(r1, &done, &c), MC_SUCCESS);
  EXPECT_EQ(done, 1);
  EXPECT_EQ(c.status, MC_ERR_CLOSED);
  ASSERT_EQ(Ops().test(s1, &done, &c), MC_SUCCESS);
  EXPECT_EQ(done, 1);
  EXPECT_EQ(c.status, MC_ERR_CLOSED);
  EXPECT_EQ(WaitFor(peer_recv, {a_}).status, MC_ERR_PEER_LOST);
  EXPECT_TRUE(ProgressUntil({b_}, [&] { return host_b_.FailuresOf(pair_.server) == 1; }));
  ASSERT_EQ(host_b_.failures().size(), 1u);
  EXPECT_EQ(host_b_.failures()[0].reason, MC_ERR_PEER_LOST);
  EXPECT_EQ(host_a_.failures().size(), 0u);  // a local close is not a peer failure
  // Later operations fail at once; the report is not repeated.
  void* req = nullptr;
  EXPECT_EQ(Ops().isend(pair_.server, 0, "x", 1, nullptr, &req), MC_ERR_PEER_LOST);
  EXPECT_EQ(Ops().irecv(pair_.server, 0, buf.data(), 1, nullptr, &req), MC_ERR_PEER_LOST);
  for (int i = 0; i < 10; ++i) Ops().progress(b_);
  EXPECT_EQ(host_b_.failures().size(), 1u);
  EXPECT_EQ(Ops().close(pair_.server), MC_SUCCESS);
}

TEST_F(TcpLoopbackTest, MessagesThatArrivedBeforeTheLossCanStillBeReceived) {
  std::vector<char> data = Pattern(300, 8), got(300);
  void* s = Send(pair_.client, 4, data);
  EXPECT_EQ(WaitFor(s, {b_}).status, MC_SUCCESS);
  EXPECT_EQ(Ops().close(pair_.client), MC_SUCCESS);
  ASSERT_TRUE(ProgressUntil({b_}, [&] { return host_b_.FailuresOf(pair_.server) == 1; }));
  void* r = Recv(pair_.server, 4, got);
  EXPECT_EQ(WaitFor(r).status, MC_SUCCESS);
  EXPECT_TRUE(got == data);
  void* req = nullptr;
  EXPECT_EQ(Ops().irecv(pair_.server, 4, got.data(), got.size(), nullptr, &req), MC_ERR_PEER_LOST);
}

TEST_F(TcpLoopbackTest, ConnectToNobodyIsReportedAsLost) {
  // A port that was just listened on and closed: nothing listens there now.
  ListenAddress l = ListenOn(b_);
  EXPECT_EQ(Ops().close_listener(l.listener), MC_SUCCESS);
  void* ep = nullptr;
  ASSERT_EQ(Ops().connect(a_, 0, l.addr.data(), l.addr.size(), nullptr, 0, &ep), MC_SUCCESS);
  std::vector<char> buf(10);
  void* s = Send(ep, 1, buf);
  EXPECT_EQ(WaitFor(s).status, MC_ERR_PEER_LOST);
  ASSERT_EQ(host_a_.FailuresOf(ep), 1);
  const ReportedFailure& f = host_a_.failures().back();
  EXPECT_EQ(f.reason, MC_ERR_PEER_LOST);
  EXPECT_NE(f.detail.find("refused"), std::string::npos) << f.detail;
  EXPECT_EQ(Ops().close(ep), MC_SUCCESS);
}

TEST_F(TcpLoopbackTest, FinalizeWithEverythingStillOpen) {
  // Pending requests, an open listener, registrations and keys: finalize
  // frees them all (ASan checks for leaks).
  std::vector<char> buf(1 << 20);
  void* req = nullptr;
  ASSERT_EQ(Ops().irecv(pair_.server, 1, buf.data(), 10, nullptr, &req), MC_SUCCESS);
  ASSERT_EQ(Ops().isend(pair_.client, 2, buf.data(), buf.size(), nullptr, &req), MC_SUCCESS);
  ASSERT_EQ(Ops().isend(pair_.client, 3, buf.data(), 10, nullptr, &req), MC_SUCCESS);
  ListenOn(a_);
  void* mr = nullptr;
  ASSERT_EQ(Mem().reg(b_, buf.data(), buf.size(), MC_MEM_HOST, &mr), MC_SUCCESS);
  uint8_t packed[MC_MAX_RKEY_BYTES];
  size_t len = sizeof(packed);
  ASSERT_EQ(Mem().pack_rkey(b_, mr, packed, &len), MC_SUCCESS);
  void* rkey = nullptr;
  ASSERT_EQ(Mem().unpack_rkey(pair_.client, packed, len, &rkey), MC_SUCCESS);
  // TearDown finalizes both contexts.
}

}  // namespace
}  // namespace mc::tcp::testing
