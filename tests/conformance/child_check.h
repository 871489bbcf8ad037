// Checks inside a forked child process. gtest assertions are useless there
// (the parent never sees the child's copy of gtest), so a child reports a
// failure as text on a pipe to the parent, also prints it to stderr, and
// leaves with a non-zero exit code:
//
//   CONF_CHECK(req != nullptr) << "isend handed out no request";        // fatal: _exit()s
//   CONF_EXPECT(len <= MC_MAX_ADDR_BYTES) << "address is " << len;      // recorded, goes on
//   CONF_CHECK_RC(t.close(ep), MC_SUCCESS) << "close of a healthy ep";  // names both codes
//
// A child never returns into gtest: it ends in FinishChild() or a fatal check.
#ifndef MOONCOMM_TESTS_CONFORMANCE_CHILD_CHECK_H_
#define MOONCOMM_TESTS_CONFORMANCE_CHILD_CHECK_H_

#include <sstream>
#include <string>

#include "mooncomm/plugin_abi.h"
#include "result_names.h"

namespace mc::conformance {

// Exit codes of a child process.
inline constexpr int kChildPassed = 0;
inline constexpr int kChildFailed = 1;
// The plugin's init said MC_ERR_NO_DEVICE: the parent skips the case.
inline constexpr int kChildNoDevice = 77;

// Set once, right after fork(), for the messages of this child.
void SetChildIdentity(const std::string& case_name, int rank, int report_fd);

// True when a CONF_EXPECT has failed in this child.
bool ChildHasFailures();

// Writes `text` to the parent's report pipe and to stderr, prefixed with the child's identity.
void ReportFromChild(const std::string& text);

// Ends the child: exit code kChildFailed if any check failed, else kChildPassed.
[[noreturn]] void FinishChild();

// Ends the child with `code` after reporting `text`.
[[noreturn]] void ExitChild(int code, const std::string& text);

namespace internal {

class CheckFailure {
 public:
  CheckFailure(bool fatal, const char* file, int line, const char* condition);
  CheckFailure(const CheckFailure&) = delete;
  CheckFailure& operator=(const CheckFailure&) = delete;
  // Reports the message; a fatal failure then _exit()s.
  ~CheckFailure();
  std::ostream& stream() { return stream_; }

 private:
  bool fatal_;
  std::ostringstream stream_;
};

}  // namespace internal
}  // namespace mc::conformance

#define CONF_INTERNAL_CHECK(fatal, cond) \
  if (cond) {                            \
  } else                                 \
    ::mc::conformance::internal::CheckFailure(fatal, __FILE__, __LINE__, #cond).stream()

#define CONF_CHECK(cond) CONF_INTERNAL_CHECK(true, cond)
#define CONF_EXPECT(cond) CONF_INTERNAL_CHECK(false, cond)

#define CONF_INTERNAL_CHECK_RC(fatal, expr, expected)                                    \
  if (const mc_result_t conf_rc_ = (expr); conf_rc_ == (expected)) {                     \
  } else                                                                                 \
    ::mc::conformance::internal::CheckFailure(fatal, __FILE__, __LINE__, #expr).stream() \
        << "returned " << ::mc::conformance::ResultName(conf_rc_) << ", expected "       \
        << ::mc::conformance::ResultName(expected) << ". "

#define CONF_CHECK_RC(expr, expected) CONF_INTERNAL_CHECK_RC(true, expr, expected)
#define CONF_EXPECT_RC(expr, expected) CONF_INTERNAL_CHECK_RC(false, expr, expected)

#endif  // MOONCOMM_TESTS_CONFORMANCE_CHILD_CHECK_H_
