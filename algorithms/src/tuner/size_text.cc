// Parsing and printing of byte sizes for the tuner's grammar.
#include "tuner/size_text.h"

#include <cctype>

namespace mc::algo {
namespace {

// The shift for a suffix letter, or -1 when it is not one.
int SuffixShift(char c) {
  switch (std::tolower(static_cast<unsigned char>(c))) {
    case 'k': return 10;
    case 'm': return 20;
    case 'g': return 30;
    default: return -1;
  }
}

}  // namespace

std::optional<uint64_t> ParseSizeText(std::string_view text, bool allow_inf) {
  if (text == "inf") {
    if (!allow_inf) return std::nullopt;
    return kInfiniteSize;
  }
  int shift = 0;
  if (!text.empty() && !std::isdigit(static_cast<unsigned char>(text.back()))) {
    shift = SuffixShift(text.back());
    if (shift < 0) return std::nullopt;
    text.remove_suffix(1);
  }
  if (text.empty()) return std::nullopt;
  uint64_t value = 0;
  for (char c : text) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
    uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (kInfiniteSize - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  if (shift > 0 && value > (kInfiniteSize >> shift)) return std::nullopt;
  value <<= shift;
  // kInfiniteSize itself is spelled "inf", never as a number.
  if (value == kInfiniteSize) return std::nullopt;
  return value;
}

std::string FormatSizeText(uint64_t bytes) {
  if (bytes == kInfiniteSize) return "inf";
  if (bytes == 0) return "0";
  static constexpr struct {
    int shift;
    char suffix;
  } kUnits[] = {{30, 'g'}, {20, 'm'}, {10, 'k'}};
  for (const auto& unit : kUnits) {
    uint64_t mask = (uint64_t{1} << unit.shift) - 1;
    if ((bytes & mask) == 0) return std::to_string(bytes >> unit.shift) + unit.suffix;
  }
  return std::to_string(bytes);
}

}  // namespace mc::algo
