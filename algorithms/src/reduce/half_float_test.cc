// The f16/bf16 conversions against the value-arithmetic model, and against
// x86's F16C instructions, whose results the f16 kernels' tails must repeat.
#include "reduce/half_float.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "reduce/reduce_reference.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#include <immintrin.h>
#endif

namespace mc::algo {
namespace {

uint32_t FloatBits(float f) { return __builtin_bit_cast(uint32_t, f); }
float BitsFloat(uint32_t u) { return __builtin_bit_cast(float, u); }

bool IsHalfNan(uint16_t h) { return (h & 0x7FFF) > 0x7C00; }
bool IsBFloat16Nan(uint16_t b) { return (b & 0x7FFF) > 0x7F80; }

// Floats to push through FloatTo*: every half and bfloat16 value, the
// midpoints between neighbours (exact in float) and one float-ulp either side
// of them, a stride through all 2^32 bit patterns, and random patterns.
std::vector<float> ProbeFloats() {
  std::vector<float> out;
  auto add_with_neighbours = [&out](float f) {
    const uint32_t u = FloatBits(f);
    out.push_back(f);
    out.push_back(BitsFloat(u + 1));
    out.push_back(BitsFloat(u - 1));
  };
  for (uint32_t h = 0; h < 0x7C00; ++h) {
    const float lo = reference::HalfToFloat(static_cast<uint16_t>(h));
    const float hi = reference::HalfToFloat(static_cast<uint16_t>(h + 1));
    add_with_neighbours(lo);
    add_with_neighbours(static_cast<float>((static_cast<double>(lo) + hi) / 2));
    add_with_neighbours(-static_cast<float>((static_cast<double>(lo) + hi) / 2));
  }
  for (uint32_t b = 0; b < 0x7F80; ++b) {
    const uint32_t lo = b << 16;
    add_with_neighbours(BitsFloat(lo | 0x8000));  // midpoint to the next bfloat16
    add_with_neighbours(BitsFloat(lo | 0x80008000u));
  }
  for (uint64_t u = 0; u < (uint64_t{1} << 32); u += 65521) out.push_back(BitsFloat(static_cast<uint32_t>(u)));
  std::mt19937 rng(12345);
  for (int i = 0; i < 200000; ++i) out.push_back(BitsFloat(rng()));
  for (uint32_t u : {0x7F800000u, 0xFF800000u, 0x7F800001u, 0x7FC00000u, 0xFFFFFFFFu, 0x7FBFFFFFu, 0x00000001u,
                     0x80000001u, 0x007FFFFFu, 0x477FEFFFu, 0x477FF000u, 0x477FF001u, 0x7F7FFFFFu, 0xFF7FFFFFu}) {
    out.push_back(BitsFloat(u));
  }
  return out;
}

TEST(HalfFloatTest, EveryHalfConvertsToTheExactFloat) {
  for (uint32_t h = 0; h <= 0xFFFF; ++h) {
    const auto half = static_cast<uint16_t>(h);
    ASSERT_EQ(FloatBits(HalfToFloat(half)), FloatBits(reference::HalfToFloat(half))) << std::hex << h;
  }
}

TEST(HalfFloatTest, EveryHalfRoundTrips) {
  for (uint32_t h = 0; h <= 0xFFFF; ++h) {
    const auto half = static_cast<uint16_t>(h);
    const uint16_t want = IsHalfNan(half) ? static_cast<uint16_t>(half | 0x0200) : half;  // NaNs come back quiet
    ASSERT_EQ(FloatToHalf(HalfToFloat(half)), want) << std::hex << h;
  }
}

TEST(HalfFloatTest, FloatToHalfRoundsToNearestEven) {
  for (float f : ProbeFloats()) {
    ASSERT_EQ(FloatToHalf(f), reference::FloatToHalf(f)) << std::hex << FloatBits(f);
  }
}

TEST(HalfFloatTest, HalfSpecialValues) {
  EXPECT_EQ(FloatToHalf(1.0f), 0x3C00);
  EXPECT_EQ(FloatToHalf(-2.0f), 0xC000);
  EXPECT_EQ(FloatToHalf(0.0f), 0x0000);
  EXPECT_EQ(FloatToHalf(-0.0f), 0x8000);
  EXPECT_EQ(FloatToHalf(65504.0f), 0x7BFF);
  EXPECT_EQ(FloatToHalf(65519.99f), 0x7BFF);
  EXPECT_EQ(FloatToHalf(65520.0f), 0x7C00);  // the midpoint rounds to even: infinity
  EXPECT_EQ(FloatToHalf(-1e9f), 0xFC00);
  EXPECT_EQ(FloatToHalf(INFINITY), 0x7C00);
  EXPECT_EQ(FloatToHalf(std::ldexp(1.0f, -24)), 0x0001);                          // smallest subnormal
  EXPECT_EQ(FloatToHalf(std::ldexp(1.0f, -25)), 0x0000);                          // half of it: tie to even 0
  EXPECT_EQ(FloatToHalf(std::ldexp(3.0f, -25)), 0x0002);                          // 1.5 of it: tie to even 2
  EXPECT_EQ(FloatToHalf(std::ldexp(1.0f, -14) - std::ldexp(1.0f, -25)), 0x0400);  // rounds up into the normals
  EXPECT_EQ(FloatToHalf(1.0f + std::ldexp(1.0f, -11)), 0x3C00);                   // tie to even: down
  EXPECT_EQ(FloatToHalf(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3C02);               // tie to even: up
  EXPECT_EQ(FloatToHalf(BitsFloat(0x7FC00000u)), 0x7E00);
  EXPECT_EQ(FloatToHalf(BitsFloat(0xFF800001u)), 0xFE00);  // signalling NaN: quieted, sign kept
  EXPECT_EQ(FloatToHalf(BitsFloat(0x7FAAAAAAu)), 0x7F55);  // payload's top bits kept
  EXPECT_EQ(FloatBits(HalfToFloat(0x7C01)), 0x7FC02000u);
  EXPECT_EQ(FloatBits(HalfToFloat(0x0001)), FloatBits(std::ldexp(1.0f, -24)));
  EXPECT_EQ(FloatBits(HalfToFloat(0x8000)), 0x80000000u);
}

TEST(BFloat16Test, EveryBFloat16ConvertsAndRoundTrips) {
  for (uint32_t b = 0; b <= 0xFFFF; ++b) {
    const auto bf = static_cast<uint16_t>(b);
    ASSERT_EQ(FloatBits(BFloat16ToFloat(bf)), b << 16);
    const uint16_t want = IsBFloat16Nan(bf) ? static_cast<uint16_t>(bf | 0x0040) : bf;
    ASSERT_EQ(FloatToBFloat16(BFloat16ToFloat(bf)), want) << std::hex << b;
  }
}

TEST(BFloat16Test, FloatToBFloat16RoundsToNearestEven) {
  for (float f : ProbeFloats()) {
    ASSERT_EQ(FloatToBFloat16(f), reference::FloatToBFloat16(f)) << std::hex << FloatBits(f);
  }
}

TEST(BFloat16Test, SpecialValues) {
  EXPECT_EQ(FloatToBFloat16(1.0f), 0x3F80);
  EXPECT_EQ(FloatToBFloat16(1.0f + std::ldexp(1.0f, -8)), 0x3F80);      // tie to even: down
  EXPECT_EQ(FloatToBFloat16(1.0f + 3 * std::ldexp(1.0f, -8)), 0x3F82);  // tie to even: up
  EXPECT_EQ(FloatToBFloat16(BitsFloat(0x7F7FFFFFu)), 0x7F80);           // FLT_MAX rounds to infinity
  EXPECT_EQ(FloatToBFloat16(BitsFloat(0x00018000u)), 0x0002);           // subnormal tie to even: up
  EXPECT_EQ(FloatToBFloat16(BitsFloat(0x00008000u)), 0x0000);           // subnormal tie to even: down
  EXPECT_EQ(FloatToBFloat16(BitsFloat(0x807FFFFFu)), 0x8080);           // rounds up into the normals
  EXPECT_EQ(FloatToBFloat16(BitsFloat(0x7F800001u)), 0x7FC0);           // signalling NaN: quieted
  EXPECT_EQ(FloatToBFloat16(BitsFloat(0xFFFFFFFFu)), 0xFFFF);
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)

__attribute__((target("f16c"))) uint16_t HardwareFloatToHalf(float f) {
  return static_cast<uint16_t>(_mm_extract_epi16(_mm_cvtps_ph(_mm_set_ss(f), _MM_FROUND_TO_NEAREST_INT), 0));
}

__attribute__((target("f16c"))) float HardwareHalfToFloat(uint16_t h) {
  return _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(h)));
}

TEST(HalfFloatTest, MatchesF16cBitForBit) {
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("f16c")) GTEST_SKIP() << "this CPU has no F16C";
  for (uint32_t h = 0; h <= 0xFFFF; ++h) {
    const auto half = static_cast<uint16_t>(h);
    ASSERT_EQ(FloatBits(HalfToFloat(half)), FloatBits(HardwareHalfToFloat(half))) << std::hex << h;
  }
  for (float f : ProbeFloats()) {
    ASSERT_EQ(FloatToHalf(f), HardwareFloatToHalf(f)) << std::hex << FloatBits(f);
  }
}

#endif

}  // namespace
}  // namespace mc::algo
