// The shm transport between two real processes (fork): messages both ways,
// puts into the other process's memory, the ring fallback, and a peer that
// dies (SIGKILL) or exits.
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "transports/shm/shm_test_util.h"

namespace mc::shm {
namespace {

using testing::Channel;
using testing::ChildProcess;
using testing::FillPattern;
using testing::FirstMismatch;
using testing::Params;
using testing::Peer;

constexpr uint64_t kDoneTag = 999;

class ShmTwoProcessTest : public ::testing::Test {
 protected:
  using ChildBody = std::function<int(Peer& peer, void* ep)>;

  // Forks a child that connects to this process and runs `body`; this
  // process listens and accepts.
  void Start(const Params& parent_params, const Params& child_params, const ChildBody& body) {
    child_ = std::make_unique<ChildProcess>([&]() -> int {
      Peer peer(child_params);
      SHM_CHILD_CHECK(peer.ok());
      std::vector<uint8_t> addr;
      SHM_CHILD_CHECK(to_child_.ReadBytes(&addr));
      void* ep = peer.Connect(addr);
      SHM_CHILD_CHECK(ep != nullptr);
      return body(peer, ep);
    });
    ASSERT_GT(child_->pid(), 0);
    peer_ = std::make_unique<Peer>(parent_params);
    ASSERT_TRUE(peer_->ok()) << peer_->init_error();
    ASSERT_TRUE(to_child_.WriteBytes(peer_->Listen()));
    ep_ = peer_->Accept();
    ASSERT_NE(ep_, nullptr);
  }

  // Sends each size to the child and checks the echo.
  void EchoSizes(const std::vector<size_t>& sizes) {
    for (size_t len : sizes) {
      std::vector<uint8_t> out(len), back(len);
      FillPattern(out.data(), len, len);
      void *send_req, *recv_req;
      ASSERT_EQ(peer_->t().irecv(ep_, len + 1, back.data(), len, nullptr, &recv_req), MC_SUCCESS);
      ASSERT_EQ(peer_->t().isend(ep_, len, out.data(), len, nullptr, &send_req), MC_SUCCESS);
      mc_completion_v1_t sc{}, rc{};
      ASSERT_TRUE(peer_->Wait(send_req, &sc)) << len;
      ASSERT_TRUE(peer_->Wait(recv_req, &rc)) << len;
      EXPECT_EQ(sc.status, MC_SUCCESS) << len;
      EXPECT_EQ(rc.status, MC_SUCCESS) << len;
      EXPECT_EQ(rc.bytes, len);
      EXPECT_EQ(FirstMismatch(back.data(), len, len), -1) << len << " bytes came back different";
    }
  }

  static int EchoChild(Peer& peer, void* ep, const std::vector<size_t>& sizes) {
    for (size_t len : sizes) {
      std::vector<uint8_t> buf(len);
      mc_completion_v1_t c{};
      SHM_CHILD_CHECK(peer.Recv(ep, len, buf.data(), len, &c) == MC_SUCCESS);
      SHM_CHILD_CHECK(c.bytes == len);
      SHM_CHILD_CHECK(peer.Send(ep, len + 1, buf.data(), len) == MC_SUCCESS);
    }
    uint8_t done = 0;
    SHM_CHILD_CHECK(peer.Recv(ep, kDoneTag, &done, 1) == MC_SUCCESS);
    return 0;
  }

  void FinishChild() {
    uint8_t done = 1;
    EXPECT_EQ(peer_->Send(ep_, kDoneTag, &done, 1), MC_SUCCESS);
    EXPECT_EQ(child_->Wait(), 0) << "the child reported a failure (see its stderr)";
  }

  Channel to_child_, to_parent_;
  std::unique_ptr<ChildProcess> child_;
  std::unique_ptr<Peer> peer_;
  void* ep_ = nullptr;
};

// From here on this process gets EPERM from process_vm_readv/writev, as
// under a seccomp profile or Yama: CMA is refused at first use, not at init.
bool ForbidCma() {
  sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_process_vm_readv, 2, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_process_vm_writev, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
  };
  sock_fprog program{static_cast<unsigned short>(sizeof(filter) / sizeof(filter[0])), filter};
  return ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
         ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) == 0;
}

const std::vector<size_t> kEchoSizes = {0, 8, 1000, 64 << 10, (64 << 10) + 1, 1 << 20, 64 << 20};

TEST_F(ShmTwoProcessTest, MessagesOfEverySizeMakeTheRoundTrip) {
  Start({}, {}, [](Peer& peer, void* ep) { return EchoChild(peer, ep, kEchoSizes); });
  EchoSizes(kEchoSizes);
  FinishChild();
  EXPECT_GE(peer_->stats().cma_read_bytes, 65u << 20);
}

TEST_F(ShmTwoProcessTest, SmallCmaChunksStillMoveEveryByte) {
  Params params = {{"CMA_CHUNK", "64K"}};
  std::vector<size_t> sizes = {(8 << 20) + 123};
  Start(params, params, [&](Peer& peer, void* ep) { return EchoChild(peer, ep, sizes); });
  EchoSizes(sizes);
  FinishChild();
}

TEST_F(ShmTwoProcessTest, WithoutCmaLargeMessagesGoThroughTheRing) {
  Params no_cma = {{"USE_CMA", "0"}};
  std::vector<size_t> sizes = {(64 << 10) + 1, (1 << 20) + 3, 32 << 20};
  Start(no_cma, no_cma, [&](Peer& peer, void* ep) { return EchoChild(peer, ep, sizes); });
  EchoSizes(sizes);
  FinishChild();
  EXPECT_EQ(peer_->stats().cma_read_bytes, 0u);
  EXPECT_EQ(peer_->stats().streamed_bytes, (64u << 10) + 1 + (1u << 20) + 3 + (32u << 20));
}

TEST_F(ShmTwoProcessTest, CmaRefusedAtFirstUseFallsBackToTheRing) {
  std::vector<size_t> sizes = {4 << 20, 6 << 20};
  Start({}, {}, [&](Peer& peer, void* ep) {
    SHM_CHILD_CHECK(ForbidCma());
    int code = EchoChild(peer, ep, sizes);
    if (code != 0) return code;
    SHM_CHILD_CHECK(peer.host().LogContains("CMA was refused"));
    SHM_CHILD_CHECK(peer.stats().cma_read_bytes == 0);
    return 0;
  });
  EchoSizes(sizes);
  FinishChild();
  // The child could not pull, so this process streamed to it; this process
  // may still use CMA, so it pulled the echoes.
  EXPECT_EQ(peer_->stats().streamed_bytes, (4u << 20) + (6u << 20));
  EXPECT_EQ(peer_->stats().cma_read_bytes, (4u << 20) + (6u << 20));
}

// The child puts into memory this process registered; this process checks
// the data once each notification arrives.
void RunPuts(Peer& parent, void* ep) {
  constexpr size_t kTarget = 32 << 20;
  std::vector<uint8_t> target(kTarget, 0);
  void* mr = nullptr;
  ASSERT_EQ(parent.mem().reg(parent.ctx(), target.data(), target.size(), MC_MEM_HOST, &mr), MC_SUCCESS);
  std::vector<uint8_t> packed(MC_MAX_RKEY_BYTES);
  size_t len = packed.size();
  ASSERT_EQ(parent.mem().pack_rkey(parent.ctx(), mr, packed.data(), &len), MC_SUCCESS);
  uint64_t base = reinterpret_cast<uintptr_t>(target.data());
  ASSERT_EQ(parent.Send(ep, 1, packed.data(), len), MC_SUCCESS);
  ASSERT_EQ(parent.Send(ep, 2, &base, sizeof(base)), MC_SUCCESS);
  struct Expect {
    uint64_t notify;
    size_t offset, bytes;
  } expected[] = {{1, 0, 100}, {2, 1 << 20, 16 << 20}, {3, kTarget - 5, 5}};
  for (const Expect& e : expected) {
    mc_notification_v1_t n{};
    ASSERT_EQ(parent.WaitNotification(ep, &n), MC_SUCCESS);
    EXPECT_EQ(n.value, e.notify);
    EXPECT_EQ(n.addr, base + e.offset);
    EXPECT_EQ(n.bytes, e.bytes);
    EXPECT_EQ(FirstMismatch(target.data() + e.offset, e.bytes, e.notify), -1) << "put " << e.notify;
  }
  EXPECT_EQ(parent.mem().dereg(parent.ctx(), mr), MC_SUCCESS);
}

int PutChild(Peer& peer, void* ep) {
  std::vector<uint8_t> packed(MC_MAX_RKEY_BYTES);
  mc_completion_v1_t c{};
  SHM_CHILD_CHECK(peer.Recv(ep, 1, packed.data(), packed.size(), &c) == MC_SUCCESS);
  uint64_t base = 0;
  SHM_CHILD_CHECK(peer.Recv(ep, 2, &base, sizeof(base)) == MC_SUCCESS);
  void* rkey = nullptr;
  SHM_CHILD_CHECK(peer.mem().unpack_rkey(ep, packed.data(), c.bytes, &rkey) == MC_SUCCESS);
  struct Put {
    uint64_t notify;
    size_t offset, bytes;
  } puts[] = {{1, 0, 100}, {2, 1 << 20, 16 << 20}, {3, (32 << 20) - 5, 5}};
  for (const Put& p : puts) {
    std::vector<uint8_t> src(p.bytes);
    FillPattern(src.data(), p.bytes, p.notify);
    void* req = nullptr;
    SHM_CHILD_CHECK(peer.t().iput(ep, src.data(), p.bytes, nullptr, base + p.offset, rkey, p.notify, &req) ==
                    MC_SUCCESS);
    SHM_CHILD_CHECK(peer.Wait(req, &c));
    SHM_CHILD_CHECK(c.status == MC_SUCCESS);
  }
  // One byte past the registration: refused before anything is written.
  uint8_t byte = 0;
  void* req = nullptr;
  SHM_CHILD_CHECK(peer.t().iput(ep, &byte, 1, nullptr, base + (32 << 20), rkey, 9, &req) == MC_ERR_ACCESS);
  SHM_CHILD_CHECK(peer.mem().release_rkey(rkey) == MC_SUCCESS);
  uint8_t done = 0;
  SHM_CHILD_CHECK(peer.Recv(ep, kDoneTag, &done, 1) == MC_SUCCESS);
  return 0;
}

TEST_F(ShmTwoProcessTest, PutsLandInTheOtherProcessBeforeTheirNotifications) {
  Start({}, {}, [](Peer& peer, void* ep) {
    int code = PutChild(peer, ep);
    SHM_CHILD_CHECK(peer.stats().cma_write_bytes == (16u << 20));
    return code;
  });
  RunPuts(*peer_, ep_);
  FinishChild();
}

TEST_F(ShmTwoProcessTest, PutsWithoutCmaGoThroughTheRing) {
  Params no_cma = {{"USE_CMA", "0"}};
  Start(no_cma, no_cma, [](Peer& peer, void* ep) {
    int code = PutChild(peer, ep);
    SHM_CHILD_CHECK(peer.stats().cma_write_bytes == 0);
    return code;
  });
  RunPuts(*peer_, ep_);
  FinishChild();
}

TEST_F(ShmTwoProcessTest, PutsFallBackWhenCmaIsRefusedAtFirstUse) {
  Start({}, {}, [](Peer& peer, void* ep) {
    SHM_CHILD_CHECK(ForbidCma());
    int code = PutChild(peer, ep);
    SHM_CHILD_CHECK(peer.host().LogContains("CMA was refused"));
    SHM_CHILD_CHECK(peer.stats().cma_write_bytes == 0);
    return code;
  });
  RunPuts(*peer_, ep_);
  FinishChild();
}

TEST_F(ShmTwoProcessTest, AKilledPeerFailsPendingRequestsAndIsReportedOnce) {
  Start({}, {}, [this](Peer& peer, void* ep) {
    // Finish the handshake, say so, then wait to be killed.
    SHM_CHILD_CHECK(peer.Send(ep, 1, nullptr, 0) == MC_SUCCESS);
    uint8_t ready = 1;
    SHM_CHILD_CHECK(to_parent_.Write(&ready, 1));
    std::this_thread::sleep_for(testing::kDeadline);
    return 3;
  });
  ASSERT_EQ(peer_->Recv(ep_, 1, nullptr, 0), MC_SUCCESS);
  uint8_t ready = 0;
  ASSERT_TRUE(to_parent_.Read(&ready, 1));
  std::vector<uint8_t> buf(4 << 20);
  void *recv_req, *send_req;
  ASSERT_EQ(peer_->t().irecv(ep_, 5, buf.data(), 10, nullptr, &recv_req), MC_SUCCESS);
  ASSERT_EQ(peer_->t().isend(ep_, 6, buf.data(), buf.size(), nullptr, &send_req), MC_SUCCESS);
  child_->Kill();
  auto killed_at = std::chrono::steady_clock::now();
  mc_completion_v1_t c{};
  ASSERT_TRUE(peer_->Wait(recv_req, &c));
  auto noticed = std::chrono::steady_clock::now() - killed_at;
  EXPECT_EQ(c.status, MC_ERR_PEER_LOST);
  EXPECT_LT(noticed, std::chrono::seconds(1)) << "death should be seen within a few liveness periods";
  ASSERT_TRUE(peer_->Wait(send_req, &c));
  EXPECT_EQ(c.status, MC_ERR_PEER_LOST);
  ASSERT_EQ(peer_->host().failures().size(), 1u);
  EXPECT_EQ(peer_->host().failures()[0].ep, ep_);
  EXPECT_EQ(peer_->host().failures()[0].reason, MC_ERR_PEER_LOST);
  EXPECT_EQ(peer_->host().failures()[0].detail, "peer process exited");
  void* req;
  EXPECT_EQ(peer_->t().isend(ep_, 1, buf.data(), 1, nullptr, &req), MC_ERR_PEER_LOST);
  EXPECT_EQ(peer_->t().irecv(ep_, 1, buf.data(), 1, nullptr, &req), MC_ERR_PEER_LOST);
  for (int i = 0; i < 50; ++i) peer_->t().progress(peer_->ctx());
  EXPECT_EQ(peer_->host().failures().size(), 1u) << "reported once";
  EXPECT_EQ(peer_->t().close(ep_), MC_SUCCESS);
}

TEST_F(ShmTwoProcessTest, WhatAPeerSentBeforeItExitedIsStillDelivered) {
  Start({}, {}, [](Peer& peer, void* ep) {
    std::vector<uint8_t> msg(3000);
    FillPattern(msg.data(), msg.size(), 7);
    SHM_CHILD_CHECK(peer.Send(ep, 7, msg.data(), msg.size()) == MC_SUCCESS);
    std::fflush(nullptr);
    ::_exit(0);  // no finalize: the kernel closes the socket
  });
  EXPECT_EQ(child_->Wait(), 0);
  ASSERT_TRUE(peer_->ProgressUntil([&] { return !peer_->host().failures().empty(); }));
  EXPECT_EQ(peer_->host().failures()[0].detail, "peer process exited");
  std::vector<uint8_t> buf(3000);
  EXPECT_EQ(peer_->Recv(ep_, 7, buf.data(), buf.size()), MC_SUCCESS);
  EXPECT_EQ(FirstMismatch(buf.data(), buf.size(), 7), -1);
  EXPECT_EQ(peer_->Recv(ep_, 7, buf.data(), buf.size()), MC_ERR_PEER_LOST);
}

TEST_F(ShmTwoProcessTest, APeerThatFinalizesIsSeenAsClosed) {
  Start({}, {}, [](Peer& peer, void* ep) {
    SHM_CHILD_CHECK(peer.Send(ep, 1, nullptr, 0) == MC_SUCCESS);
    return 0;  // ~Peer finalizes, which closes the endpoint
  });
  EXPECT_EQ(child_->Wait(), 0);
  EXPECT_EQ(peer_->Recv(ep_, 1, nullptr, 0), MC_SUCCESS);
  ASSERT_TRUE(peer_->ProgressUntil([&] { return !peer_->host().failures().empty(); }));
  EXPECT_EQ(peer_->host().failures()[0].detail, "peer closed the endpoint");
}

}  // namespace
}  // namespace mc::shm
