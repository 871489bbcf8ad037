// A hand-driven socket talks to a tcp listener: good HELLO then garbage, or
// garbage from the start. The transport must fail that one endpoint cleanly
// -- pending requests complete with MC_ERR_PROTOCOL, peer_failed once --
// never crash, hang or allocate what a bogus length asks for.
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "transports/tcp/frame.h"
#include "transports/tcp/sock_addr.h"
#include "transports/tcp/tcp_test_host.h"

namespace mc::tcp::testing {
namespace {

std::string Frame(FrameHeader h, const std::string& payload = "") {
  uint8_t bytes[kFrameHeaderBytes];
  EncodeFrameHeader(h, bytes);
  return std::string(reinterpret_cast<char*>(bytes), kFrameHeaderBytes) + payload;
}

std::string Hello() {
  FrameHeader h;
  h.type = FrameType::kHello;
  h.length = 2;
  return Frame(h, "hi");
}

class TcpGarbageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    host_.Set("MAX_MESSAGE", "1M");
    std::string err;
    ASSERT_EQ(InitTcp(host_, &ctx_, &err), MC_SUCCESS) << err;
    listening_ = ListenOn(ctx_);
    absl::StatusOr<SockAddr> addr = UnpackSockAddr(listening_.addr);
    ASSERT_TRUE(addr.ok()) << addr.status();
    raw_ = socket(addr->family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(raw_, 0);
    ASSERT_EQ(connect(raw_, addr->get(), addr->len), 0) << std::strerror(errno);
  }
  void TearDown() override {
    if (raw_ >= 0) close(raw_);
    EXPECT_EQ(Ops().finalize(ctx_), MC_SUCCESS);
  }

  void Write(const std::string& bytes) {
    ASSERT_EQ(send(raw_, bytes.data(), bytes.size(), MSG_NOSIGNAL), static_cast<ssize_t>(bytes.size()));
  }

  // Sends HELLO, accepts, and posts a receive that the garbage must fail.
  void* AcceptAfterHello() {
    Write(Hello());
    std::string hello;
    void* ep = AcceptOne(listening_.listener, {}, &hello);
    EXPECT_EQ(hello, "hi");
    return ep;
  }

  // The endpoint fails with `status` on its pending requests, peer_failed is
  // called exactly once, and its detail mentions `detail_part`.
  void ExpectFailed(void* ep, void* pending, mc_result_t status, const std::string& detail_part) {
    mc_completion_v1_t c = WaitFor(pending);
    EXPECT_EQ(c.status, status);
    ASSERT_EQ(host_.FailuresOf(ep), 1);
    EXPECT_EQ(host_.failures()[0].reason, MC_ERR_PEER_LOST);
    EXPECT_NE(host_.failures()[0].detail.find(detail_part), std::string::npos) << host_.failures()[0].detail;
    void* req = nullptr;
    char byte = 0;
    EXPECT_EQ(Ops().isend(ep, 1, &byte, 1, nullptr, &req), MC_ERR_PEER_LOST);
    for (int i = 0; i < 5; ++i) Ops().progress(ctx_);
    EXPECT_EQ(host_.failures().size(), 1u);
    // The transport closed its side: our socket sees the end of the stream.
    EXPECT_TRUE(PeerClosed());
    EXPECT_EQ(Ops().close(ep), MC_SUCCESS);
  }

  bool PeerClosed() {
    auto deadline = Clock::now() + kWait;
    while (Clock::now() < deadline) {
      Ops().progress(ctx_);
      pollfd p{raw_, POLLIN, 0};
      if (poll(&p, 1, 10) == 1) {
        char buf[256];
        ssize_t n = recv(raw_, buf, sizeof(buf), MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno == ECONNRESET)) return true;
      }
    }
    return false;
  }

  void* PostRecv(void* ep) {
    void* req = nullptr;
    EXPECT_EQ(Ops().irecv(ep, 1, buf_, sizeof(buf_), nullptr, &req), MC_SUCCESS);
    return req;
  }

  TestHost host_;
  void* ctx_ = nullptr;
  ListenAddress listening_;
  int raw_ = -1;
  char buf_[64];
};

TEST_F(TcpGarbageTest, BadMagicAfterHello) {
  void* ep = AcceptAfterHello();
  ASSERT_NE(ep, nullptr);
  void* recv = PostRecv(ep);
  Write(std::string(kFrameHeaderBytes, '\x5a'));
  ExpectFailed(ep, recv, MC_ERR_PROTOCOL, "magic");
}

TEST_F(TcpGarbageTest, PendingSendAlsoFailsWithProtocolError) {
  void* ep = AcceptAfterHello();
  ASSERT_NE(ep, nullptr);
  std::vector<char> big(1 << 20);
  void* send = nullptr;  // rendezvous: waits for a CTS
  ASSERT_EQ(Ops().isend(ep, 1, big.data(), big.size(), nullptr, &send), MC_SUCCESS);
  Write("this is not a frame header, it is just some text....");
  ExpectFailed(ep, send, MC_ERR_PROTOCOL, "protocol error");
}

TEST_F(TcpGarbageTest, LengthAboveMaxMessage) {
  void* ep = AcceptAfterHello();
  ASSERT_NE(ep, nullptr);
  void* recv = PostRecv(ep);
  FrameHeader h;
  h.type = FrameType::kEager;
  h.tag = 1;
  h.length = uint64_t{1} << 40;  // 1 TiB: must not be allocated or waited for
  Write(Frame(h));
  ExpectFailed(ep, recv, MC_ERR_PROTOCOL, "above the limit");
}

TEST_F(TcpGarbageTest, UnknownFrameType) {
  void* ep = AcceptAfterHello();
  ASSERT_NE(ep, nullptr);
  void* recv = PostRecv(ep);
  std::string frame = Frame(FrameHeader{});
  frame[5] = 99;
  Write(frame);
  ExpectFailed(ep, recv, MC_ERR_PROTOCOL, "unknown frame type");
}

struct ImpossibleFrame {
  FrameType type;
  const char* detail;
};

class TcpImpossibleFrameTest : public TcpGarbageTest, public ::testing::WithParamInterface<ImpossibleFrame> {};

TEST_P(TcpImpossibleFrameTest, FailsTheEndpoint) {
  void* ep = AcceptAfterHello();
  ASSERT_NE(ep, nullptr);
  void* recv = PostRecv(ep);
  FrameHeader h;
  h.type = GetParam().type;
  h.id = 12345;
  h.length = h.type == FrameType::kHello ? 0 : 4;
  Write(Frame(h, h.type == FrameType::kRndvData ? "data" : ""));
  ExpectFailed(ep, recv, MC_ERR_PROTOCOL, GetParam().detail);
}

INSTANTIATE_TEST_SUITE_P(Frames, TcpImpossibleFrameTest,
                         ::testing::Values(ImpossibleFrame{FrameType::kRndvData, "unknown receive"},
                                           ImpossibleFrame{FrameType::kCts, "unknown send"},
                                           ImpossibleFrame{FrameType::kPutAck, "unknown put"},
                                           ImpossibleFrame{FrameType::kHello, "HELLO"}));

TEST_F(TcpGarbageTest, EndOfStreamAfterHelloIsPeerLost) {
  void* ep = AcceptAfterHello();
  ASSERT_NE(ep, nullptr);
  void* recv = PostRecv(ep);
  Write(Frame(FrameHeader{}).substr(0, 20));  // half a header, then gone
  close(raw_);
  raw_ = -1;
  mc_completion_v1_t c = WaitFor(recv);
  EXPECT_EQ(c.status, MC_ERR_PEER_LOST);
  ASSERT_EQ(host_.FailuresOf(ep), 1);
  EXPECT_NE(host_.failures()[0].detail.find("closed by peer"), std::string::npos) << host_.failures()[0].detail;
}

TEST_F(TcpGarbageTest, ResetIsPeerLostForReadsAndWrites) {
  void* ep = AcceptAfterHello();
  ASSERT_NE(ep, nullptr);
  void* recv = PostRecv(ep);
  linger hard{1, 0};  // close() then sends RST instead of FIN
  ASSERT_EQ(setsockopt(raw_, SOL_SOCKET, SO_LINGER, &hard, sizeof(hard)), 0);
  close(raw_);
  raw_ = -1;
  // Posted before the transport has looked at the socket: the write or the
  // read sees the reset, whichever comes first; both end the same way.
  char byte = 1;
  void* send = nullptr;
  ASSERT_EQ(Ops().isend(ep, 1, &byte, 1, nullptr, &send), MC_SUCCESS);
  EXPECT_EQ(WaitFor(recv).status, MC_ERR_PEER_LOST);
  mc_result_t sent = WaitFor(send).status;  // the kernel may have taken the byte before the reset came
  EXPECT_TRUE(sent == MC_SUCCESS || sent == MC_ERR_PEER_LOST) << sent;
  ASSERT_EQ(host_.FailuresOf(ep), 1);
  const std::string& detail = host_.failures()[0].detail;
  EXPECT_TRUE(detail.find("reset") != std::string::npos || detail.find("broken pipe") != std::string::npos)
      << detail;
  for (int i = 0; i < 5; ++i) Ops().progress(ctx_);
  EXPECT_EQ(host_.failures().size(), 1u);
}

TEST_F(TcpGarbageTest, GarbageInsteadOfHelloIsDroppedQuietly) {
  Write(std::string(200, '\x01'));
  EXPECT_TRUE(PeerClosed());
  void* ep = nullptr;
  char hello[MC_MAX_HELLO_BYTES];
  size_t len = sizeof(hello);
  EXPECT_EQ(Ops().accept(listening_.listener, &ep, hello, &len), MC_AGAIN);
  EXPECT_TRUE(host_.failures().empty());  // never handed out: nobody to tell
}

TEST_F(TcpGarbageTest, HugeHelloIsRefused) {
  FrameHeader h;
  h.type = FrameType::kHello;
  h.length = 1 << 20;
  Write(Frame(h));
  EXPECT_TRUE(PeerClosed());
  void* ep = nullptr;
  char hello[MC_MAX_HELLO_BYTES];
  size_t len = sizeof(hello);
  EXPECT_EQ(Ops().accept(listening_.listener, &ep, hello, &len), MC_AGAIN);
}

TEST_F(TcpGarbageTest, ValidFramesFromARawSocketWork) {
  // The framing is what the tests above assume: a correct eager frame is received.
  void* ep = AcceptAfterHello();
  ASSERT_NE(ep, nullptr);
  void* recv = PostRecv(ep);
  FrameHeader h;
  h.type = FrameType::kEager;
  h.tag = 1;
  h.length = 5;
  Write(Frame(h, "hello"));
  mc_completion_v1_t c = WaitFor(recv);
  EXPECT_EQ(c.status, MC_SUCCESS);
  EXPECT_EQ(c.bytes, 5u);
  EXPECT_EQ(std::string(buf_, 5), "hello");
  EXPECT_TRUE(host_.failures().empty());
}

}  // namespace
}  // namespace mc::tcp::testing
