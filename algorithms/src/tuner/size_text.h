// Byte sizes as MC_TUNE and tuning files spell them: plain bytes ("4096"),
// a k / m / g suffix for powers of 1024 ("64k", "1M"), or "inf" for no upper
// bound (kInfiniteSize).
#ifndef MOONCOMM_ALGORITHMS_TUNER_SIZE_TEXT_H_
#define MOONCOMM_ALGORITHMS_TUNER_SIZE_TEXT_H_

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

namespace mc::algo {

inline constexpr uint64_t kInfiniteSize = std::numeric_limits<uint64_t>::max();

// The size `text` spells, or nullopt when it is not a size (empty, junk, an
// unknown suffix, or a value that overflows 64 bits). "inf" is accepted only
// when `allow_inf`.
std::optional<uint64_t> ParseSizeText(std::string_view text, bool allow_inf);

// The shortest spelling that parses back to `bytes`: 65536 -> "64k",
// 1000 -> "1000", kInfiniteSize -> "inf".
std::string FormatSizeText(uint64_t bytes);

}  // namespace mc::algo

#endif  // MOONCOMM_ALGORITHMS_TUNER_SIZE_TEXT_H_
