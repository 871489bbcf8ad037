// Tags of the collectives' messages. User point-to-point tags stay below
// 2^63; every attempt of every collective gets a fresh sequence number, so a
// message of an abandoned attempt can never match a later one.
//
//   bit 63      1: a collective's message
//   bit 62      1: the agreement channel, 0: the algorithm's data
//   bits 61..30 attempt sequence number (wraps after 2^32 attempts)
//   bits 29..0  step, chosen by the algorithm (or the agreement round)
#ifndef MOONCOMM_ALGORITHMS_ENGINE_TAGS_H_
#define MOONCOMM_ALGORITHMS_ENGINE_TAGS_H_

#include <cstdint>

namespace mc::algo {

inline constexpr uint64_t kCollectiveTagBit = 1ull << 63;
inline constexpr uint64_t kAgreementTagBit = 1ull << 62;
inline constexpr uint32_t kMaxStep = (1u << 30) - 1;

inline uint64_t DataTag(uint32_t seq, uint32_t step) {
  return kCollectiveTagBit | (uint64_t{seq} << 30) | (step & kMaxStep);
}
inline uint64_t AgreementTag(uint32_t seq, uint32_t round) {
  return kCollectiveTagBit | kAgreementTagBit | (uint64_t{seq} << 30) | (round & kMaxStep);
}

}  // namespace mc::algo

#endif  // MOONCOMM_ALGORITHMS_ENGINE_TAGS_H_
