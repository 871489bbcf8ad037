#include "pattern.h"

#include <cstdio>
#include <cstring>

namespace mc::conformance {
namespace {

// SplitMix64's finaliser: a cheap, well-mixed function of one word.
uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

uint64_t MessageKey(size_t len, uint64_t seed) { return Mix(seed ^ Mix(len)); }

// The 8 bytes of the pattern starting at offset 8 * word.
uint64_t PatternWord(uint64_t key, size_t word) { return Mix(key + word); }

std::string Hex(unsigned value) {
  char text[8];
  std::snprintf(text, sizeof(text), "0x%02x", value);
  return text;
}

}  // namespace

uint64_t MessageSeed(uint64_t src, uint64_t dst, uint64_t tag, uint64_t index) {
  return Mix(Mix(Mix(src) ^ dst) ^ tag) ^ Mix(index + 0x51);
}

void FillPattern(void* buf, size_t len, uint64_t seed) {
  const uint64_t key = MessageKey(len, seed);
  auto* bytes = static_cast<uint8_t*>(buf);
  size_t word = 0;
  for (; (word + 1) * 8 <= len; ++word) {
    uint64_t value = PatternWord(key, word);
    std::memcpy(bytes + word * 8, &value, 8);
  }
  if (word * 8 < len) {
    uint64_t value = PatternWord(key, word);
    std::memcpy(bytes + word * 8, &value, len - word * 8);
  }
}

std::string DescribePatternMismatch(const void* buf, size_t len, uint64_t seed) {
  const uint64_t key = MessageKey(len, seed);
  const auto* bytes = static_cast<const uint8_t*>(buf);
  size_t word = 0;
  for (; (word + 1) * 8 <= len; ++word) {  // fast path: whole words
    uint64_t actual;
    std::memcpy(&actual, bytes + word * 8, 8);
    if (actual != PatternWord(key, word)) break;
  }
  for (size_t at = word * 8; at < len; ++at) {  // the first bad byte, if any
    uint64_t expected_word = PatternWord(key, at / 8);
    uint8_t expected;
    std::memcpy(&expected, reinterpret_cast<const uint8_t*>(&expected_word) + at % 8, 1);
    if (bytes[at] == expected) continue;
    return "byte " + std::to_string(at) + " of " + std::to_string(len) + " is " + Hex(bytes[at]) + ", expected " +
           Hex(expected);
  }
  return "";
}

std::optional<size_t> FindByteOtherThan(const void* buf, size_t len, uint8_t value) {
  const auto* bytes = static_cast<const uint8_t*>(buf);
  for (size_t i = 0; i < len; ++i) {
    if (bytes[i] != value) return i;
  }
  return std::nullopt;
}

GuardedBuffer::GuardedBuffer(size_t len, size_t guard)
    : len_(len), guard_(guard), storage_(std::make_unique_for_overwrite<uint8_t[]>(len + 2 * guard)) {
  std::memset(storage_.get(), kGuard, guard_);
  std::memset(data(), kPoison, len_);
  std::memset(data() + len_, kGuard, guard_);
}

std::string GuardedBuffer::DescribeGuardDamage() const {
  if (std::optional<size_t> at = FindByteOtherThan(storage_.get(), guard_, kGuard)) {
    return "the plugin wrote " + std::to_string(guard_ - *at) + " bytes before the start of the buffer";
  }
  if (std::optional<size_t> at = FindByteOtherThan(data() + len_, guard_, kGuard)) {
    return "the plugin wrote past the end of the buffer (byte " + std::to_string(len_ + *at) + " of a " +
           std::to_string(len_) + "-byte buffer)";
  }
  return "";
}

void GuardedBuffer::Poison(size_t offset, size_t len) { std::memset(data() + offset, kPoison, len); }

}  // namespace mc::conformance
