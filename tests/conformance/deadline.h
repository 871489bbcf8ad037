// A point in time that a wait must not pass. Every wait in the conformance
// suite has one, so a broken transport fails a test instead of hanging it.
#ifndef MOONCOMM_TESTS_CONFORMANCE_DEADLINE_H_
#define MOONCOMM_TESTS_CONFORMANCE_DEADLINE_H_

#include <chrono>
#include <cstdint>

namespace mc::conformance {

using Clock = std::chrono::steady_clock;  // CLOCK_MONOTONIC: comparable across processes

class Deadline {
 public:
  static Deadline After(Clock::duration timeout) { return Deadline(Clock::now() + timeout); }
  static Deadline At(Clock::time_point at) { return Deadline(at); }

  bool Expired() const { return Clock::now() >= at_; }
  Clock::time_point at() const { return at_; }
  // Milliseconds left, rounded up, 0 once expired (for poll()).
  int RemainingMs() const {
    auto left = std::chrono::ceil<std::chrono::milliseconds>(at_ - Clock::now()).count();
    return left <= 0 ? 0 : static_cast<int>(left > INT32_MAX ? INT32_MAX : left);
  }

 private:
  explicit Deadline(Clock::time_point at) : at_(at) {}
  Clock::time_point at_;
};

// Seconds between two points, for messages.
inline double SecondsBetween(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

// Limits shared by all cases. A single operation (one message, one accept) gets
// kOpTimeout; a whole multi-process case gets kCaseTimeout.
inline constexpr std::chrono::seconds kOpTimeout{10};
inline constexpr std::chrono::seconds kCaseTimeout{60};

}  // namespace mc::conformance

#endif  // MOONCOMM_TESTS_CONFORMANCE_DEADLINE_H_
