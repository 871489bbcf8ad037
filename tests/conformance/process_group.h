// Real processes for a multi-process case. The gtest process forks one child
// per role before it has started any thread, never inits a plugin itself (so
// it stays single-threaded and fork stays safe for the next case), and waits
// for the children with a deadline, SIGKILLing whatever is left.
//
// Each child gets a Channel to the parent and one to every other child, runs
// its role, and leaves through FinishChild() or a failed CONF_CHECK; it never
// returns into gtest.
#ifndef MOONCOMM_TESTS_CONFORMANCE_PROCESS_GROUP_H_
#define MOONCOMM_TESTS_CONFORMANCE_PROCESS_GROUP_H_

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include "channel.h"
#include "deadline.h"

namespace mc::conformance {

// What a child sees of the group.
class ChildEnv {
 public:
  ChildEnv(int rank, int size, Channel parent, std::vector<Channel> peers)
      : rank_(rank), size_(size), parent_(std::move(parent)), peers_(std::move(peers)) {}
  int rank() const { return rank_; }
  int size() const { return size_; }
  Channel& parent() { return parent_; }
  Channel& peer(int rank) { return peers_.at(static_cast<size_t>(rank)); }

 private:
  int rank_;
  int size_;
  Channel parent_;
  std::vector<Channel> peers_;  // peers_[rank_] is unused
};

using ChildMain = std::function<void(ChildEnv&)>;

struct ChildOutcome {
  int rank = -1;
  pid_t pid = -1;
  bool exited = false;
  int exit_code = -1;
  int term_signal = 0;          // the signal that ended it, 0 when it exited
  bool killed_by_case = false;  // the case SIGKILLed it on purpose
  bool timed_out = false;       // still running at the deadline, then SIGKILLed
  std::string report;           // what the child reported before it ended

  bool passed() const { return exited && exit_code == 0; }
  // "rank 1 (pid 4242) exited with code 1: <report>".
  std::string Describe() const;
};

class ProcessGroup {
 public:
  // Forks one child per entry of `mains`; the child runs mains[rank].
  // On a failure to create the processes, ok() is false and a gtest failure was recorded.
  ProcessGroup(const std::string& case_name, std::vector<ChildMain> mains);
  ~ProcessGroup();  // SIGKILLs and reaps any child still alive
  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;

  bool ok() const { return ok_; }
  int size() const { return static_cast<int>(children_.size()); }
  pid_t pid(int rank) const { return children_.at(static_cast<size_t>(rank)).pid; }
  Channel& channel(int rank) { return channels_.at(static_cast<size_t>(rank)); }

  // SIGKILLs the child and reaps it before returning (so it is truly gone).
  void Kill(int rank);
  // Waits until every child has ended or the deadline passes; then SIGKILLs the rest.
  std::vector<ChildOutcome> Wait(const Deadline& deadline);

 private:
  struct Child {
    pid_t pid = -1;
    int report_fd = -1;  // read end of the child's report pipe
    bool reaped = false;
    ChildOutcome outcome;
  };
  void Reap(Child& child, int status);
  void KillAndReapAll();

  bool ok_ = false;
  std::vector<Child> children_;
  std::vector<Channel> channels_;  // parent's end, per child
};

// The current gtest case's full name, "Conformance/tcp.TaggedSizes".
std::string CurrentCaseName();

// gtest side: a child that found no device skips the case; any child that
// neither passed nor was killed by the case on purpose is a failure.
void ExpectChildrenPassed(const std::vector<ChildOutcome>& outcomes);

// Runs `mains` as child processes and checks that they all pass, within kCaseTimeout.
void RunChildren(std::vector<ChildMain> mains);

}  // namespace mc::conformance

#endif  // MOONCOMM_TESTS_CONFORMANCE_PROCESS_GROUP_H_
