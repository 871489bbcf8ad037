// Message contents that can be checked byte for byte: every byte depends on
// the message's seed, its length and its offset, so a message delivered to the
// wrong receive, shifted, cut short or mixed with another one is caught.
#ifndef MOONCOMM_TESTS_CONFORMANCE_PATTERN_H_
#define MOONCOMM_TESTS_CONFORMANCE_PATTERN_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace mc::conformance {

// A seed naming one message: who sent it, to whom, with which tag, which one.
uint64_t MessageSeed(uint64_t src, uint64_t dst, uint64_t tag, uint64_t index);

void FillPattern(void* buf, size_t len, uint64_t seed);

// Empty when buf holds FillPattern(len, seed); else "byte 17 of 4095 is 0x3c, expected 0x9a".
std::string DescribePatternMismatch(const void* buf, size_t len, uint64_t seed);

// Offset of the first byte in [0, len) that is not `value`, if any.
std::optional<size_t> FindByteOtherThan(const void* buf, size_t len, uint8_t value);

// A heap buffer with guard zones before and after it, so that a plugin that
// writes outside the buffer it was given is caught. The data starts filled
// with kPoison; the guards hold kGuard.
class GuardedBuffer {
 public:
  static constexpr uint8_t kPoison = 0x5a;
  static constexpr uint8_t kGuard = 0xa5;

  explicit GuardedBuffer(size_t len, size_t guard = 4096);
  uint8_t* data() { return storage_.get() + guard_; }
  const uint8_t* data() const { return storage_.get() + guard_; }
  size_t size() const { return len_; }
  uint64_t addr() const { return reinterpret_cast<uint64_t>(data()); }
  size_t guard() const { return guard_; }

  // Empty when both guards are intact; else where the first damage is.
  std::string DescribeGuardDamage() const;
  // Refills [offset, offset + len) with kPoison.
  void Poison(size_t offset, size_t len);

 private:
  size_t len_;
  size_t guard_;
  std::unique_ptr<uint8_t[]> storage_;
};

}  // namespace mc::conformance

#endif  // MOONCOMM_TESTS_CONFORMANCE_PATTERN_H_
