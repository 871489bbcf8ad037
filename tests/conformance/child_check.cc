#include "child_check.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace mc::conformance {
namespace {

struct ChildIdentity {
  std::string prefix = "[conformance] ";
  int report_fd = -1;
};

ChildIdentity& Identity() {
  static ChildIdentity* identity = new ChildIdentity();  // never destroyed: children _exit()
  return *identity;
}

std::atomic<bool> g_failed{false};

void WriteAll(int fd, const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // the report is best effort; stderr has it too
    done += static_cast<size_t>(n);
  }
}

}  // namespace

void SetChildIdentity(const std::string& case_name, int rank, int report_fd) {
  Identity().prefix =
      "[conformance " + case_name + " rank " + std::to_string(rank) + " pid " + std::to_string(getpid()) + "] ";
  Identity().report_fd = report_fd;
}

bool ChildHasFailures() { return g_failed.load(); }

void ReportFromChild(const std::string& text) {
  std::string line = Identity().prefix + text + "\n";
  WriteAll(STDERR_FILENO, line);
  if (Identity().report_fd >= 0) WriteAll(Identity().report_fd, line);
}

void FinishChild() { _exit(ChildHasFailures() ? kChildFailed : kChildPassed); }

void ExitChild(int code, const std::string& text) {
  ReportFromChild(text);
  _exit(code);
}

namespace internal {

CheckFailure::CheckFailure(bool fatal, const char* file, int line, const char* condition) : fatal_(fatal) {
  const char* base = std::strrchr(file, '/');
  stream_ << (base != nullptr ? base + 1 : file) << ":" << line << ": " << (fatal ? "check" : "expectation")
          << " failed: " << condition << ": ";
}

CheckFailure::~CheckFailure() {
  g_failed.store(true);
  ReportFromChild(stream_.str());
  if (fatal_) _exit(kChildFailed);
}

}  // namespace internal
}  // namespace mc::conformance
