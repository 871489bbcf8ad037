// TcpStore across real processes: fork() before this process starts any
// thread, then real sockets between the processes. Every child has a
// deadline of its own and is killed if its test ends first.
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "bootstrap/socket_io.h"
#include "common/log.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mooncomm/bootstrap.h"

namespace mc {
namespace {

using ::testing::HasSubstr;

constexpr absl::Duration kTimeout = absl::Seconds(20);

// A forked child running `body`; its return value is the exit code. The
// child dies with the test process and after its own alarm; the parent kills
// it when this object goes away.
class Child {
 public:
  explicit Child(std::function<int()> body) {
    pid_ = fork();
    if (pid_ == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      alarm(60);
      int code = body();
      std::fflush(nullptr);
      _exit(code);
    }
  }
  ~Child() {
    if (pid_ > 0 && !reaped_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  pid_t pid() const { return pid_; }

  // The child's wait status, or nullopt if it is still running at the deadline
  // (then it is killed).
  std::optional<int> Wait(absl::Duration limit) {
    absl::Time deadline = absl::Now() + limit;
    while (true) {
      int status = 0;
      pid_t r = waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        reaped_ = true;
        return status;
      }
      if (absl::Now() >= deadline) return std::nullopt;
      absl::SleepFor(absl::Milliseconds(10));
    }
  }

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
};

// A pipe that carries one int from one process to another.
class IntPipe {
 public:
  IntPipe() {
    if (pipe(fds_) != 0) fds_[0] = fds_[1] = -1;
  }
  ~IntPipe() {
    for (int fd : fds_) {
      if (fd >= 0) close(fd);
    }
  }
  bool Send(int value) { return write(fds_[1], &value, sizeof(value)) == sizeof(value); }
  // -1 when nothing arrives within `limit`.
  int Receive(absl::Duration limit) {
    pollfd p{fds_[0], POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(limit))) != 1) return -1;
    int value = -1;
    return read(fds_[0], &value, sizeof(value)) == sizeof(value) ? value : -1;
  }

 private:
  int fds_[2] = {-1, -1};
};

absl::StatusOr<std::unique_ptr<TcpStore>> Connect(int port) {
  TcpStoreOptions options;
  options.port = port;
  options.timeout = kTimeout;
  return TcpStore::Create(options);
}

// What every rank does: publish its key, barrier, check everyone's keys are
// there, add its rank, barrier again, check the sum. 0 on success.
int RunRank(Store& store, int rank, int world) {
  auto fail = [rank](int code, const absl::Status& s) {
    std::fprintf(stderr, "rank %d: step %d: %s\n", rank, code, s.ToString().c_str());
    return code;
  };
  absl::SleepFor(absl::Milliseconds(30 * rank));  // arrive at different times
  if (absl::Status s = store.Set(absl::StrCat("rank/", rank), absl::StrCat("hello from ", rank)); !s.ok()) {
    return fail(10, s);
  }
  if (absl::Status s = StoreBarrier(store, "first", world, kTimeout); !s.ok()) return fail(11, s);
  for (int r = 0; r < world; ++r) {
    // Zero timeout: after the barrier every rank's key must already be there.
    absl::StatusOr<std::string> v = store.Get(absl::StrCat("rank/", r), absl::ZeroDuration());
    if (!v.ok()) return fail(12, v.status());
    if (*v != absl::StrCat("hello from ", r)) return fail(13, absl::DataLossError(*v));
  }
  if (absl::StatusOr<int64_t> n = store.Add("sum", rank); !n.ok()) return fail(14, n.status());
  if (absl::Status s = StoreBarrier(store, "second", world, kTimeout); !s.ok()) return fail(15, s);
  absl::StatusOr<int64_t> sum = store.Add("sum", 0);
  if (!sum.ok()) return fail(16, sum.status());
  if (*sum != world * (world - 1) / 2) return fail(17, absl::DataLossError(absl::StrCat("sum ", *sum)));
  return 0;
}

TEST(TcpStoreMultiProcessTest, BarrierAcrossProcesses) {
  constexpr int kWorld = 4;
  std::vector<std::unique_ptr<IntPipe>> pipes;
  for (int r = 1; r < kWorld; ++r) pipes.push_back(std::make_unique<IntPipe>());
  // Fork every child before this process starts the server thread.
  std::vector<std::unique_ptr<Child>> children;
  for (int r = 1; r < kWorld; ++r) {
    IntPipe* port_pipe = pipes[r - 1].get();
    children.push_back(std::make_unique<Child>([port_pipe, r] {
      int port = port_pipe->Receive(kTimeout);
      if (port <= 0) return 2;
      absl::StatusOr<std::unique_ptr<TcpStore>> store = Connect(port);
      if (!store.ok()) {
        std::fprintf(stderr, "rank %d: %s\n", r, store.status().ToString().c_str());
        return 3;
      }
      return RunRank(**store, r, kWorld);
    }));
    ASSERT_GT(children.back()->pid(), 0);
  }
  TcpStoreOptions options;
  options.is_server = true;
  options.timeout = kTimeout;
  absl::StatusOr<std::unique_ptr<TcpStore>> server = TcpStore::Create(options);
  ASSERT_TRUE(server.ok()) << server.status();
  for (auto& pipe : pipes) ASSERT_TRUE(pipe->Send((*server)->port()));

  EXPECT_EQ(RunRank(**server, 0, kWorld), 0);
  for (size_t i = 0; i < children.size(); ++i) {
    std::optional<int> status = children[i]->Wait(kTimeout);
    ASSERT_TRUE(status.has_value()) << "rank " << i + 1 << " did not finish";
    EXPECT_TRUE(WIFEXITED(*status)) << "rank " << i + 1 << " status " << *status;
    EXPECT_EQ(WEXITSTATUS(*status), 0) << "rank " << i + 1;
  }
}

TEST(TcpStoreMultiProcessTest, ServerDeathIsAnErrorNotAHang) {
  IntPipe port_pipe;
  // The child hosts the store and is killed (SIGKILL, no clean shutdown)
  // while this process waits on a key that will never come.
  Child server_process([&port_pipe] {
    TcpStoreOptions options;
    options.is_server = true;
    options.timeout = kTimeout;
    absl::StatusOr<std::unique_ptr<TcpStore>> server = TcpStore::Create(options);
    if (!server.ok()) return 2;
    port_pipe.Send((*server)->port());
    if (!(*server)->Wait({"client_ready"}, kTimeout).ok()) return 3;
    absl::SleepFor(absl::Milliseconds(300));  // let the client's Get reach the server
    raise(SIGKILL);
    return 4;
  });
  ASSERT_GT(server_process.pid(), 0);
  const int port = port_pipe.Receive(kTimeout);
  ASSERT_GT(port, 0);
  absl::StatusOr<std::unique_ptr<TcpStore>> client = Connect(port);
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE((*client)->Set("client_ready", "1").ok());

  absl::Time start = absl::Now();
  absl::StatusOr<std::string> got = (*client)->Get("never", kTimeout);
  absl::Duration took = absl::Now() - start;
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), absl::StatusCode::kUnavailable) << got.status();
  EXPECT_THAT(got.status().message(), HasSubstr(absl::StrCat("127.0.0.1:", port)));
  EXPECT_LT(took, absl::Seconds(5));

  start = absl::Now();
  absl::Status later = (*client)->Set("k", "v");
  EXPECT_EQ(later.code(), absl::StatusCode::kUnavailable) << later;
  EXPECT_THAT(later.message(), HasSubstr(absl::StrCat("127.0.0.1:", port)));
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));

  std::optional<int> status = server_process.Wait(kTimeout);
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(WIFSIGNALED(*status) && WTERMSIG(*status) == SIGKILL) << "status " << *status;
}

TEST(TcpStoreMultiProcessTest, BarrierTimesOutWhenARankNeverComes) {
  IntPipe port_pipe;
  // Rank 1 of 3 joins; rank 2 never does.
  Child rank1([&port_pipe] {
    int port = port_pipe.Receive(kTimeout);
    if (port <= 0) return 2;
    absl::StatusOr<std::unique_ptr<TcpStore>> store = Connect(port);
    if (!store.ok()) return 3;
    absl::Status s = StoreBarrier(**store, "partial", 3, absl::Milliseconds(500));
    if (!absl::IsDeadlineExceeded(s)) return 4;
    if (s.message().find("2 of 3 ranks arrived") == std::string_view::npos) {
      std::fprintf(stderr, "rank 1: %s\n", s.ToString().c_str());
      return 5;
    }
    return 0;
  });
  ASSERT_GT(rank1.pid(), 0);
  TcpStoreOptions options;
  options.is_server = true;
  options.timeout = kTimeout;
  absl::StatusOr<std::unique_ptr<TcpStore>> server = TcpStore::Create(options);
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_TRUE(port_pipe.Send((*server)->port()));
  // Join only once rank 1 has, so both see "2 of 3".
  ASSERT_TRUE((*server)->Wait({"partial/arrived"}, kTimeout).ok());
  absl::Status s = StoreBarrier(**server, "partial", 3, absl::Milliseconds(500));
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(s.message(), HasSubstr("2 of 3 ranks arrived"));
  std::optional<int> status = rank1.Wait(kTimeout);
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 0);
}

absl::Duration CpuTimeUsed() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return absl::DurationFromTimeval(usage.ru_utime) + absl::DurationFromTimeval(usage.ru_stime);
}

TEST(TcpStoreMultiProcessTest, ServerSurvivesRunningOutOfFileDescriptors) {
  // In a child, because it lowers the process's descriptor limit.
  Child child([] {
    SetLogThreshold(MC_LOG_ERROR);  // a spinning server must show as CPU time, not log lines
    rlimit limit{64, 64};
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0) return 2;
    TcpStoreOptions options;
    options.is_server = true;
    options.timeout = kTimeout;
    absl::StatusOr<std::unique_ptr<TcpStore>> server = TcpStore::Create(options);
    if (!server.ok()) return 3;
    absl::StatusOr<std::vector<bootstrap::SocketAddress>> address =
        bootstrap::Resolve("127.0.0.1", (*server)->port(), false);
    if (!address.ok()) return 4;
    // Connect until this process has no descriptors left: the server's accept
    // fails with EMFILE while connections wait in its backlog.
    std::vector<bootstrap::ScopedFd> raw;
    for (int i = 0; i < 200; ++i) {
      int error = 0;
      absl::StatusOr<bootstrap::ScopedFd> fd =
          bootstrap::ConnectOnce(address->front(), absl::Now() + absl::Seconds(2), &error);
      if (!fd.ok()) {
        if (error != EMFILE) {
          std::fprintf(stderr, "connect %d: %s\n", i, fd.status().ToString().c_str());
          return 5;
        }
        break;
      }
      raw.push_back(*std::move(fd));
      absl::SleepFor(absl::Milliseconds(2));  // let the server try to accept it
    }
    if (raw.size() >= 200) return 6;
    // Out of descriptors, the server must idle, not spin on the listening socket.
    absl::Duration before = CpuTimeUsed();
    absl::SleepFor(absl::Milliseconds(500));
    absl::Duration used = CpuTimeUsed() - before;
    if (used > absl::Milliseconds(50)) {
      std::fprintf(stderr, "server used %s of CPU in 500ms while out of descriptors\n",
                   absl::FormatDuration(used).c_str());
      return 7;
    }
    // Existing connections still work, and once descriptors free up new clients get in.
    if (!(*server)->Set("still", "alive").ok()) return 8;
    raw.resize(raw.size() / 2);
    absl::StatusOr<std::unique_ptr<TcpStore>> late = Connect((*server)->port());
    if (!late.ok()) {
      std::fprintf(stderr, "late client: %s\n", late.status().ToString().c_str());
      return 9;
    }
    absl::StatusOr<std::string> got = (*late)->Get("still", kTimeout);
    if (!got.ok() || *got != "alive") return 10;
    return 0;
  });
  ASSERT_GT(child.pid(), 0);
  std::optional<int> status = child.Wait(kTimeout);
  ASSERT_TRUE(status.has_value()) << "the child did not finish";
  ASSERT_TRUE(WIFEXITED(*status)) << "status " << *status;
  EXPECT_EQ(WEXITSTATUS(*status), 0);
}

}  // namespace
}  // namespace mc
