// Conversions between float and the two 16-bit float formats, on raw bits.
//
// Written branch-free (selects, shifts, one float add) so that loops calling
// them vectorize. Results match x86's F16C instructions bit for bit, NaNs
// included, so that the software and hardware paths of the f16 kernels agree:
// a NaN is quieted and keeps its sign and the top of its payload.
#ifndef MOONCOMM_ALGORITHMS_REDUCE_HALF_FLOAT_H_
#define MOONCOMM_ALGORITHMS_REDUCE_HALF_FLOAT_H_

#include <cstdint>

#include "reduce/reduce_inline.h"

namespace mc::algo {

// IEEE binary16 -> float. Exact for every non-NaN value.
MC_REDUCE_INLINE float HalfToFloat(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t mag = h & 0x7FFFu;
  // Normal numbers: move the fields into place and rebias the exponent (15 -> 127).
  uint32_t bits = (mag << 13) + 0x38000000u;
  // Infinity and NaN: the exponent becomes all ones; a NaN gets the quiet bit.
  const uint32_t special = (mag << 13) | 0x7F800000u | (mag > 0x7C00u ? 0x00400000u : 0u);
  bits = mag >= 0x7C00u ? special : bits;
  // Zero and subnormals are mag * 2^-24, which int -> float and the scaling give exactly.
  const float tiny = static_cast<float>(static_cast<int32_t>(mag)) * 0x1p-24f;
  bits = mag < 0x0400u ? __builtin_bit_cast(uint32_t, tiny) : bits;
  return __builtin_bit_cast(float, bits | sign);
}

// float -> IEEE binary16, rounding to nearest, ties to even. Assumes the
// default floating-point rounding mode, like all the float math here.
MC_REDUCE_INLINE uint16_t FloatToHalf(float f) {
  const uint32_t u = __builtin_bit_cast(uint32_t, f);
  const uint32_t sign = (u >> 16) & 0x8000u;
  const uint32_t a = u & 0x7FFFFFFFu;
  // Normal results: rebias (127 -> 15) and round away the low 13 bits. A carry
  // out of the mantissa correctly bumps the exponent.
  const uint32_t normal = (a - 0x38000000u + 0x0FFFu + ((a >> 13) & 1u)) >> 13;
  // Below 2^-14 the result is subnormal: adding 0.5 makes the FPU round |f| to
  // a multiple of 2^-24, leaving that multiple in the low mantissa bits.
  const float aligned = __builtin_bit_cast(float, a) + 0.5f;
  const uint32_t subnormal = __builtin_bit_cast(uint32_t, aligned) - 0x3F000000u;
  uint32_t r = a < 0x38800000u ? subnormal : normal;
  // 65520 (the midpoint between 65504 and 2^16) and above round to infinity.
  r = a >= 0x477FF000u ? 0x7C00u : r;
  r = a > 0x7F800000u ? (0x7E00u | ((a >> 13) & 0x03FFu)) : r;
  return static_cast<uint16_t>(r | sign);
}

// bfloat16 -> float: bfloat16 is the upper half of a float, so this is exact.
MC_REDUCE_INLINE float BFloat16ToFloat(uint16_t b) { return __builtin_bit_cast(float, static_cast<uint32_t>(b) << 16); }

// float -> bfloat16 in the upper 16 bits of the result (the lower ones zero),
// rounding to nearest, ties to even; subnormals are kept.
MC_REDUCE_INLINE uint32_t FloatToBFloat16High(float f) {
  const uint32_t u = __builtin_bit_cast(uint32_t, f);
  const uint32_t rounded = u + 0x7FFFu + ((u >> 16) & 1u);
  const uint32_t quiet_nan = u | 0x00400000u;
  return ((u & 0x7FFFFFFFu) > 0x7F800000u ? quiet_nan : rounded) & 0xFFFF0000u;
}

MC_REDUCE_INLINE uint16_t FloatToBFloat16(float f) { return static_cast<uint16_t>(FloatToBFloat16High(f) >> 16); }

}  // namespace mc::algo

#endif  // MOONCOMM_ALGORITHMS_REDUCE_HALF_FLOAT_H_
