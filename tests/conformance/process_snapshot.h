// What a process holds that a plugin could forget to give back: threads,
// file descriptors and shared-memory mappings. Taken before init and after
// finalize, the difference is what finalize failed to free.
#ifndef MOONCOMM_TESTS_CONFORMANCE_PROCESS_SNAPSHOT_H_
#define MOONCOMM_TESTS_CONFORMANCE_PROCESS_SNAPSHOT_H_

#include <map>
#include <set>
#include <string>
#include <vector>

namespace mc::conformance {

struct ProcessSnapshot {
  int threads = 0;
  std::map<int, std::string> fds;         // descriptor -> what it refers to
  std::set<std::string> shared_mappings;  // /dev/shm files, memfds, SysV segments mapped

  static ProcessSnapshot Take();
};

// One line per thread, descriptor or mapping that `after` holds and `before` did not.
std::vector<std::string> DescribeLeftovers(const ProcessSnapshot& before, const ProcessSnapshot& after);

// Runs LeakSanitizer now when the suite is built with it; true when it found leaks
// (its report is on stderr). Always false without ASan.
bool LeakSanitizerFindsLeaks();

}  // namespace mc::conformance

#endif  // MOONCOMM_TESTS_CONFORMANCE_PROCESS_SNAPSHOT_H_
