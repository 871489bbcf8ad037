// Two real processes (fork before any thread) over real sockets: messages of
// every protocol path both ways, a put, and a peer that dies. The child
// reports through its exit code; a child that outlives its test is killed.
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "transports/tcp/tcp_test_host.h"

namespace mc::tcp::testing {
namespace {

std::vector<char> Pattern(size_t n, int seed) {
  std::vector<char> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<char>((i * 31 + seed) & 0xff);
  return v;
}

// A forked child running `body`; its return value is the exit code.
class Child {
 public:
  explicit Child(const std::function<int(int read_fd)>& body) {
    int fds[2];
    if (pipe(fds) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      close(fds[1]);
      alarm(60);  // last resort if the parent vanished
      _exit(body(fds[0]));
    }
    close(fds[0]);
    write_fd_ = fds[1];
  }
  ~Child() {
    if (write_fd_ >= 0) close(write_fd_);
    if (pid_ > 0 && !reaped_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  bool started() const { return pid_ > 0; }
  void Tell(const std::vector<uint8_t>& bytes) {
    uint32_t n = static_cast<uint32_t>(bytes.size());
    ASSERT_EQ(write(write_fd_, &n, sizeof(n)), static_cast<ssize_t>(sizeof(n)));
    ASSERT_EQ(write(write_fd_, bytes.data(), n), static_cast<ssize_t>(n));
  }
  // The child's exit code, -1 if it did not exit by the deadline (it is
  // killed), or 128 + signal.
  int Wait(std::chrono::milliseconds limit = kWait) {
    auto deadline = Clock::now() + limit;
    while (Clock::now() < deadline) {
      int status = 0;
      pid_t r = waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        reaped_ = true;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      usleep(1000);
    }
    return -1;
  }

 private:
  pid_t pid_ = -1;
  int write_fd_ = -1;
  bool reaped_ = false;
};

// Child side: read the listen address the parent sent through the pipe.
bool ReadAddress(int fd, std::vector<uint8_t>* addr) {
  pollfd p{fd, POLLIN, 0};
  if (poll(&p, 1, 20000) != 1) return false;
  uint32_t n = 0;
  if (read(fd, &n, sizeof(n)) != sizeof(n) || n > MC_MAX_ADDR_BYTES) return false;
  addr->resize(n);
  return read(fd, addr->data(), n) == static_cast<ssize_t>(n);
}

// Child side: wait for a request without gtest; false on error or timeout.
bool ChildWait(void* req, mc_completion_v1_t* c, mc_result_t want = MC_SUCCESS) {
  auto deadline = Clock::now() + kWait;
  while (Clock::now() < deadline) {
    int done = 0;
    if (Ops().test(req, &done, c) != MC_SUCCESS) return false;
    if (done) return c->status == want;
  }
  return false;
}

// Child side: init and connect to the parent.
bool ChildConnect(int pipe_fd, TestHost* host, void** ctx, void** ep) {
  std::vector<uint8_t> addr;
  if (!ReadAddress(pipe_fd, &addr)) return false;
  if (InitTcp(*host, ctx) != MC_SUCCESS) return false;
  return Ops().connect(*ctx, 0, addr.data(), addr.size(), "child", 5, ep) == MC_SUCCESS;
}

TEST(TcpTwoProcessTest, EveryPathBothWays) {
  Child child([](int pipe_fd) -> int {
    TestHost host;
    void* ctx = nullptr;
    void* ep = nullptr;
    if (!ChildConnect(pipe_fd, &host, &ctx, &ep)) return 2;
    mc_completion_v1_t c;
    // 1: eager and rendezvous to the parent.
    std::vector<char> small = Pattern(1000, 1), big = Pattern(5 << 20, 2);
    void* s1 = nullptr;
    void* s2 = nullptr;
    if (Ops().isend(ep, 1, small.data(), small.size(), nullptr, &s1) != MC_SUCCESS) return 3;
    if (Ops().isend(ep, 2, big.data(), big.size(), nullptr, &s2) != MC_SUCCESS) return 3;
    if (!ChildWait(s1, &c) || !ChildWait(s2, &c)) return 4;
    // 2: echo a message of the parent's back.
    std::vector<char> echo(3 << 20);
    void* r = nullptr;
    if (Ops().irecv(ep, 3, echo.data(), echo.size(), nullptr, &r) != MC_SUCCESS || !ChildWait(r, &c)) return 5;
    echo.resize(c.bytes);
    if (Ops().isend(ep, 4, echo.data(), echo.size(), nullptr, &s1) != MC_SUCCESS || !ChildWait(s1, &c)) return 6;
    // 3: put into the parent's buffer with the key it sent.
    std::vector<uint8_t> packed(MC_MAX_RKEY_BYTES + 8);  // 8 bytes of address first
    if (Ops().irecv(ep, 5, packed.data(), packed.size(), nullptr, &r) != MC_SUCCESS || !ChildWait(r, &c)) return 7;
    uint64_t remote = 0;
    std::memcpy(&remote, packed.data(), 8);
    void* rkey = nullptr;
    if (Mem().unpack_rkey(ep, packed.data() + 8, c.bytes - 8, &rkey) != MC_SUCCESS) return 8;
    std::vector<char> put = Pattern(1 << 20, 9);
    if (Ops().iput(ep, put.data(), put.size(), nullptr, remote, rkey, 77, &r) != MC_SUCCESS) return 9;
    if (!ChildWait(r, &c)) return 10;
    Mem().release_rkey(rkey);
    // 4: wait for the parent's goodbye, so it sees everything before we go.
    char bye = 0;
    if (Ops().irecv(ep, 6, &bye, 1, nullptr, &r) != MC_SUCCESS || !ChildWait(r, &c)) return 11;
    Ops().close(ep);
    Ops().finalize(ctx);
    return 0;
  });
  ASSERT_TRUE(child.started());

  TestHost host;
  void* ctx = nullptr;
  std::string err;
  ASSERT_EQ(InitTcp(host, &ctx, &err), MC_SUCCESS) << err;
  ListenAddress l = ListenOn(ctx);
  child.Tell(l.addr);
  std::string hello;
  void* ep = AcceptOne(l.listener, {}, &hello);
  ASSERT_NE(ep, nullptr);
  EXPECT_EQ(hello, "child");

  std::vector<char> small(1000), big(5 << 20);
  void* r1 = nullptr;
  void* r2 = nullptr;
  ASSERT_EQ(Ops().irecv(ep, 2, big.data(), big.size(), nullptr, &r2), MC_SUCCESS);
  ASSERT_EQ(Ops().irecv(ep, 1, small.data(), small.size(), nullptr, &r1), MC_SUCCESS);
  EXPECT_EQ(WaitFor(r1).status, MC_SUCCESS);
  EXPECT_EQ(WaitFor(r2).status, MC_SUCCESS);
  EXPECT_TRUE(small == Pattern(1000, 1));
  EXPECT_TRUE(big == Pattern(5 << 20, 2));

  std::vector<char> out = Pattern(2 << 20, 3), back(2 << 20);
  void* s = nullptr;
  void* r = nullptr;
  ASSERT_EQ(Ops().isend(ep, 3, out.data(), out.size(), nullptr, &s), MC_SUCCESS);
  ASSERT_EQ(Ops().irecv(ep, 4, back.data(), back.size(), nullptr, &r), MC_SUCCESS);
  EXPECT_EQ(WaitFor(s).status, MC_SUCCESS);
  mc_completion_v1_t c = WaitFor(r);
  EXPECT_EQ(c.status, MC_SUCCESS);
  EXPECT_EQ(c.bytes, out.size());
  EXPECT_TRUE(back == out);

  std::vector<char> target(2 << 20, 0);
  void* mr = nullptr;
  ASSERT_EQ(Mem().reg(ctx, target.data(), target.size(), MC_MEM_HOST, &mr), MC_SUCCESS);
  std::vector<uint8_t> key_msg(8 + MC_MAX_RKEY_BYTES);
  uint64_t remote = reinterpret_cast<uintptr_t>(target.data()) + 4096;
  std::memcpy(key_msg.data(), &remote, 8);
  size_t key_len = MC_MAX_RKEY_BYTES;
  ASSERT_EQ(Mem().pack_rkey(ctx, mr, key_msg.data() + 8, &key_len), MC_SUCCESS);
  ASSERT_EQ(Ops().isend(ep, 5, key_msg.data(), 8 + key_len, nullptr, &s), MC_SUCCESS);
  EXPECT_EQ(WaitFor(s).status, MC_SUCCESS);
  mc_notification_v1_t note{};
  ASSERT_TRUE(ProgressUntil({ctx}, [&] { return Ops().poll_notification(ep, &note) == MC_SUCCESS; }));
  EXPECT_EQ(note.value, 77u);
  EXPECT_EQ(note.addr, remote);
  EXPECT_EQ(note.bytes, size_t{1} << 20);
  std::vector<char> expected = Pattern(1 << 20, 9);
  EXPECT_EQ(std::memcmp(target.data() + 4096, expected.data(), expected.size()), 0);

  char bye = 1;
  ASSERT_EQ(Ops().isend(ep, 6, &bye, 1, nullptr, &s), MC_SUCCESS);
  EXPECT_EQ(WaitFor(s).status, MC_SUCCESS);
  EXPECT_EQ(child.Wait(), 0);
  EXPECT_EQ(Mem().dereg(ctx, mr), MC_SUCCESS);
  EXPECT_EQ(Ops().finalize(ctx), MC_SUCCESS);
}

TEST(TcpTwoProcessTest, KilledPeerIsReportedOnce) {
  Child child([](int pipe_fd) -> int {
    TestHost host;
    void* ctx = nullptr;
    void* ep = nullptr;
    if (!ChildConnect(pipe_fd, &host, &ctx, &ep)) return 2;
    char byte = 42;
    void* s = nullptr;
    mc_completion_v1_t c;
    if (Ops().isend(ep, 1, &byte, 1, nullptr, &s) != MC_SUCCESS || !ChildWait(s, &c)) return 3;
    // Die once the parent has its requests pending.
    void* r = nullptr;
    if (Ops().irecv(ep, 7, &byte, 1, nullptr, &r) != MC_SUCCESS || !ChildWait(r, &c)) return 4;
    raise(SIGKILL);
    return 5;
  });
  ASSERT_TRUE(child.started());
  TestHost host;
  void* ctx = nullptr;
  std::string err;
  ASSERT_EQ(InitTcp(host, &ctx, &err), MC_SUCCESS) << err;
  ListenAddress l = ListenOn(ctx);
  child.Tell(l.addr);
  void* ep = AcceptOne(l.listener, {});
  ASSERT_NE(ep, nullptr);
  char byte = 0;
  void* r = nullptr;
  ASSERT_EQ(Ops().irecv(ep, 1, &byte, 1, nullptr, &r), MC_SUCCESS);
  EXPECT_EQ(WaitFor(r).status, MC_SUCCESS);
  EXPECT_EQ(byte, 42);
  std::vector<char> big(1 << 20);
  void* pending_recv = nullptr;
  void* pending_send = nullptr;
  ASSERT_EQ(Ops().irecv(ep, 2, &byte, 1, nullptr, &pending_recv), MC_SUCCESS);
  ASSERT_EQ(Ops().isend(ep, 3, big.data(), big.size(), nullptr, &pending_send), MC_SUCCESS);
  void* die = nullptr;
  ASSERT_EQ(Ops().isend(ep, 7, &byte, 1, nullptr, &die), MC_SUCCESS);
  EXPECT_EQ(WaitFor(die).status, MC_SUCCESS);
  EXPECT_EQ(child.Wait(), 128 + SIGKILL);
  EXPECT_EQ(WaitFor(pending_recv).status, MC_ERR_PEER_LOST);
  EXPECT_EQ(WaitFor(pending_send).status, MC_ERR_PEER_LOST);
  ASSERT_EQ(host.FailuresOf(ep), 1);
  EXPECT_EQ(host.failures()[0].reason, MC_ERR_PEER_LOST);
  EXPECT_FALSE(host.failures()[0].detail.empty());
  void* req = nullptr;
  EXPECT_EQ(Ops().isend(ep, 1, &byte, 1, nullptr, &req), MC_ERR_PEER_LOST);
  EXPECT_EQ(Ops().close(ep), MC_SUCCESS);
  EXPECT_EQ(Ops().close_listener(l.listener), MC_SUCCESS);
  EXPECT_EQ(Ops().finalize(ctx), MC_SUCCESS);
}

}  // namespace
}  // namespace mc::tcp::testing
