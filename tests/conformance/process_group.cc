#include "process_group.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <thread>
#include <utility>

#include "child_check.h"
#include "gtest/gtest.h"

namespace mc::conformance {
namespace {

void CloseFd(int& fd) {
  if (fd >= 0) close(fd);
  fd = -1;
}

// Every descriptor made before forking, so that each child keeps only its own.
struct Plumbing {
  std::vector<int> parent_end, child_end;  // parent <-> child i
  std::vector<std::vector<int>> mesh;      // mesh[i][j]: child i's end towards child j
  std::vector<int> report_read, report_write;

  explicit Plumbing(int n)
      : parent_end(n, -1),
        child_end(n, -1),
        mesh(n, std::vector<int>(n, -1)),
        report_read(n, -1),
        report_write(n, -1) {}

  bool Create() {
    const int n = static_cast<int>(parent_end.size());
    for (int i = 0; i < n; ++i) {
      int sv[2];
      if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return false;
      parent_end[i] = sv[0];
      child_end[i] = sv[1];
      int pipe_fds[2];
      if (pipe2(pipe_fds, O_CLOEXEC) != 0) return false;
      report_read[i] = pipe_fds[0];
      report_write[i] = pipe_fds[1];
      fcntl(report_read[i], F_SETFL, O_NONBLOCK);
      fcntl(report_write[i], F_SETFL, O_NONBLOCK);  // a child never blocks on its report
      for (int j = i + 1; j < n; ++j) {
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return false;
        mesh[i][j] = sv[0];
        mesh[j][i] = sv[1];
      }
    }
    return true;
  }

  // In child `rank`: closes everything that belongs to the parent or to other children.
  void KeepOnlyChild(int rank) {
    const int n = static_cast<int>(parent_end.size());
    for (int i = 0; i < n; ++i) {
      CloseFd(parent_end[i]);
      CloseFd(report_read[i]);
      if (i == rank) continue;
      CloseFd(child_end[i]);
      CloseFd(report_write[i]);
      for (int j = 0; j < n; ++j) CloseFd(mesh[i][j]);
    }
  }

  // In the parent after forking: closes the children's ends.
  void KeepOnlyParent() {
    for (size_t i = 0; i < parent_end.size(); ++i) {
      CloseFd(child_end[i]);
      CloseFd(report_write[i]);
      for (int& fd : mesh[i]) CloseFd(fd);
    }
  }

  void CloseAll() {
    KeepOnlyParent();
    for (size_t i = 0; i < parent_end.size(); ++i) {
      CloseFd(parent_end[i]);
      CloseFd(report_read[i]);
    }
  }
};

std::string ReadAvailable(int fd) {
  std::string text;
  char chunk[4096];
  for (;;) {
    ssize_t n = read(fd, chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(chunk, static_cast<size_t>(n));
  }
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

[[noreturn]] void RunChild(const std::string& case_name, int rank, Plumbing& plumbing, pid_t parent,
                           const ChildMain& main) {
  // A child must not outlive the gtest process, even if that one crashes.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(kChildFailed);
  plumbing.KeepOnlyChild(rank);
  const int n = static_cast<int>(plumbing.parent_end.size());
  std::vector<Channel> peers(static_cast<size_t>(n));
  for (int j = 0; j < n; ++j) {
    if (j != rank) peers[static_cast<size_t>(j)] = Channel(plumbing.mesh[rank][j]);
  }
  SetChildIdentity(case_name, rank, plumbing.report_write[rank]);
  ChildEnv env(rank, n, Channel(plumbing.child_end[rank]), std::move(peers));
  main(env);
  FinishChild();
}

}  // namespace

std::string ChildOutcome::Describe() const {
  std::string text = "rank " + std::to_string(rank) + " (pid " + std::to_string(pid) + ")";
  if (timed_out) {
    text += " was still running at the case's deadline and was killed";
  } else if (killed_by_case) {
    text += " was killed by the case";
  } else if (exited) {
    text += " exited with code " + std::to_string(exit_code);
  } else {
    text += " was killed by signal " + std::to_string(term_signal) + " (" + strsignal(term_signal) + ")";
  }
  if (!report.empty()) text += ":\n" + report;
  return text;
}

ProcessGroup::ProcessGroup(const std::string& case_name, std::vector<ChildMain> mains) {
  const int n = static_cast<int>(mains.size());
  Plumbing plumbing(n);
  if (!plumbing.Create()) {
    ADD_FAILURE() << "cannot create the side channels: " << std::strerror(errno);
    plumbing.CloseAll();
    return;
  }
  children_.resize(static_cast<size_t>(n));
  const pid_t parent = getpid();
  for (int rank = 0; rank < n; ++rank) {
    std::fflush(nullptr);  // nothing buffered may be written twice
    pid_t pid = fork();
    if (pid == 0) RunChild(case_name, rank, plumbing, parent, mains[static_cast<size_t>(rank)]);
    if (pid < 0) {
      ADD_FAILURE() << "fork failed: " << std::strerror(errno);
      children_.resize(static_cast<size_t>(rank));
      KillAndReapAll();
      plumbing.CloseAll();
      return;
    }
    Child& child = children_[static_cast<size_t>(rank)];
    child.pid = pid;
    child.outcome.rank = rank;
    child.outcome.pid = pid;
  }
  plumbing.KeepOnlyParent();
  for (int rank = 0; rank < n; ++rank) {
    channels_.emplace_back(plumbing.parent_end[rank]);
    children_[static_cast<size_t>(rank)].report_fd = plumbing.report_read[rank];
  }
  ok_ = true;
}

ProcessGroup::~ProcessGroup() {
  KillAndReapAll();
  for (Child& child : children_) CloseFd(child.report_fd);
}

void ProcessGroup::Reap(Child& child, int status) {
  child.reaped = true;
  if (WIFEXITED(status)) {
    child.outcome.exited = true;
    child.outcome.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    child.outcome.term_signal = WTERMSIG(status);
  }
  if (child.report_fd >= 0) child.outcome.report = ReadAvailable(child.report_fd);
}

void ProcessGroup::Kill(int rank) {
  Child& child = children_.at(static_cast<size_t>(rank));
  if (child.reaped) return;
  kill(child.pid, SIGKILL);
  int status = 0;
  while (waitpid(child.pid, &status, 0) < 0 && errno == EINTR) {
  }
  Reap(child, status);
  child.outcome.killed_by_case = true;
}

void ProcessGroup::KillAndReapAll() {
  for (Child& child : children_) {
    if (child.reaped || child.pid <= 0) continue;
    kill(child.pid, SIGKILL);
    int status = 0;
    while (waitpid(child.pid, &status, 0) < 0 && errno == EINTR) {
    }
    Reap(child, status);
  }
}

std::vector<ChildOutcome> ProcessGroup::Wait(const Deadline& deadline) {
  for (;;) {
    bool all_reaped = true;
    for (Child& child : children_) {
      if (child.reaped) continue;
      int status = 0;
      pid_t got = waitpid(child.pid, &status, WNOHANG);
      if (got == child.pid) {
        Reap(child, status);
      } else {
        all_reaped = false;
      }
    }
    if (all_reaped || deadline.Expired()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  for (Child& child : children_) {
    if (!child.reaped) child.outcome.timed_out = true;
  }
  KillAndReapAll();
  std::vector<ChildOutcome> outcomes;
  for (const Child& child : children_) outcomes.push_back(child.outcome);
  return outcomes;
}

std::string CurrentCaseName() {
  const testing::TestInfo* info = testing::UnitTest::GetInstance()->current_test_info();
  if (info == nullptr) return "?";
  return std::string(info->test_suite_name()) + "." + info->name();
}

void ExpectChildrenPassed(const std::vector<ChildOutcome>& outcomes) {
  for (const ChildOutcome& outcome : outcomes) {
    if (outcome.exited && outcome.exit_code == kChildNoDevice) {
      GTEST_SKIP() << "the plugin has no usable device here: " << outcome.report;
    }
  }
  for (const ChildOutcome& outcome : outcomes) {
    if (outcome.killed_by_case || outcome.passed()) continue;
    ADD_FAILURE() << outcome.Describe();
  }
}

void RunChildren(std::vector<ChildMain> mains) {
  ProcessGroup group(CurrentCaseName(), std::move(mains));
  if (!group.ok()) return;
  ExpectChildrenPassed(group.Wait(Deadline::After(kCaseTimeout)));
}

}  // namespace mc::conformance
