// The scalar model of reduce_reference.h.
#include "reduce/reduce_reference.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

namespace mc::algo::reference {
namespace {

template <typename To, typename From>
To Bits(From from) {
  static_assert(sizeof(To) == sizeof(From));
  To to;
  std::memcpy(&to, &from, sizeof(to));
  return to;
}

// Rounds x >= 0 (finite) to nearest-even in a binary format with `mant_bits`
// stored mantissa bits and normal exponents [min_exp, max_exp] (the bias is
// max_exp); returns the magnitude bits, the infinity bits on overflow.
uint32_t RoundMagnitude(double x, int mant_bits, int min_exp, int max_exp) {
  const uint32_t bias = static_cast<uint32_t>(max_exp);
  const uint32_t inf_bits = (2 * bias + 1) << mant_bits;
  if (x == 0) return 0;
  if (x < std::ldexp(1.0, min_exp)) {
    // Subnormal: a multiple of 2^(min_exp - mant_bits); 2^mant_bits of them is
    // the smallest normal, which the same encoding gives.
    return static_cast<uint32_t>(std::nearbyint(std::ldexp(x, mant_bits - min_exp)));
  }
  int e = std::ilogb(x);
  double q = std::nearbyint(std::ldexp(x, mant_bits - e));  // in [2^m, 2^(m+1)]
  if (q == std::ldexp(1.0, mant_bits + 1)) {
    q /= 2;
    ++e;
  }
  if (e > max_exp) return inf_bits;
  return (static_cast<uint32_t>(e + static_cast<int>(bias)) << mant_bits) |
         (static_cast<uint32_t>(q) - (1u << mant_bits));
}

template <typename F>
F Min(F a, F b) {
  if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<F>::quiet_NaN();
  if (a == b && a == 0) return std::signbit(a) || std::signbit(b) ? -F(0) : F(0);
  return a < b ? a : b;
}

template <typename F>
F Max(F a, F b) {
  if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<F>::quiet_NaN();
  if (a == b && a == 0) return std::signbit(a) && std::signbit(b) ? -F(0) : F(0);
  return a > b ? a : b;
}

template <typename F>
F ApplyFloat(F a, F b, ReduceOp op) {
  switch (op) {
    case ReduceOp::kSum:
    case ReduceOp::kAvg:
      return a + b;
    case ReduceOp::kProd:
      return a * b;
    case ReduceOp::kMin:
      return Min(a, b);
    case ReduceOp::kMax:
      return Max(a, b);
  }
  return a;
}

template <typename T>
T ApplyInt(T a, T b, ReduceOp op) {
  switch (op) {
    case ReduceOp::kSum:
    case ReduceOp::kAvg:
      return static_cast<T>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
    case ReduceOp::kProd:
      return static_cast<T>(static_cast<uint64_t>(a) * static_cast<uint64_t>(b));
    case ReduceOp::kMin:
      return a < b ? a : b;
    case ReduceOp::kMax:
      return a > b ? a : b;
  }
  return a;
}

uint8_t ApplyBool(uint8_t a, uint8_t b, ReduceOp op) {
  const bool x = a != 0;
  const bool y = b != 0;
  return (op == ReduceOp::kProd || op == ReduceOp::kMin) ? (x && y) : (x || y);
}

template <typename T>
T Load(const void* base, size_t i) {
  T v;
  std::memcpy(&v, static_cast<const char*>(base) + i * sizeof(T), sizeof(T));
  return v;
}

template <typename T>
void Store(void* base, size_t i, T v) {
  std::memcpy(static_cast<char*>(base) + i * sizeof(T), &v, sizeof(T));
}

// One element: dst[i] = a[i] op b[i].
template <typename T>
void ElementwiseReduce(void* dst, const void* a, const void* b, size_t count, DataType type, ReduceOp op) {
  for (size_t i = 0; i < count; ++i) {
    const T x = Load<T>(a, i);
    const T y = Load<T>(b, i);
    T r;
    if constexpr (std::is_floating_point_v<T>) {
      r = ApplyFloat(x, y, op);
    } else if constexpr (std::is_same_v<T, uint16_t>) {
      const bool half = type == DataType::kFloat16;
      const float fx = half ? HalfToFloat(x) : BFloat16ToFloat(x);
      const float fy = half ? HalfToFloat(y) : BFloat16ToFloat(y);
      const float fr = ApplyFloat(fx, fy, op);
      r = half ? FloatToHalf(fr) : FloatToBFloat16(fr);
    } else if (type == DataType::kBool) {
      r = ApplyBool(x, y, op);
    } else {
      r = ApplyInt(x, y, op);
    }
    Store<T>(dst, i, r);
  }
}

template <typename T>
void ElementwiseDivide(void* buf, size_t count, DataType type, int divisor) {
  for (size_t i = 0; i < count; ++i) {
    const T x = Load<T>(buf, i);
    T r;
    if constexpr (std::is_floating_point_v<T>) {
      r = x / static_cast<T>(divisor);
    } else if constexpr (std::is_same_v<T, uint16_t>) {
      const bool half = type == DataType::kFloat16;
      const float q = (half ? HalfToFloat(x) : BFloat16ToFloat(x)) / static_cast<float>(divisor);
      r = half ? FloatToHalf(q) : FloatToBFloat16(q);
    } else if (type == DataType::kBool) {
      r = x;
    } else {
      r = static_cast<T>(static_cast<int64_t>(x) / divisor);  // C++ truncates toward zero
    }
    Store<T>(buf, i, r);
  }
}

bool IsNan(const void* p, DataType type) {
  switch (type) {
    case DataType::kFloat32:
      return std::isnan(Load<float>(p, 0));
    case DataType::kFloat64:
      return std::isnan(Load<double>(p, 0));
    case DataType::kFloat16:
      return (Load<uint16_t>(p, 0) & 0x7FFF) > 0x7C00;
    case DataType::kBFloat16:
      return (Load<uint16_t>(p, 0) & 0x7FFF) > 0x7F80;
    default:
      return false;
  }
}

size_t Size(DataType type) {
  switch (type) {
    case DataType::kFloat32:
    case DataType::kInt32:
      return 4;
    case DataType::kFloat64:
    case DataType::kInt64:
      return 8;
    case DataType::kFloat16:
    case DataType::kBFloat16:
      return 2;
    default:
      return 1;
  }
}

}  // namespace

float HalfToFloat(uint16_t h) {
  const bool negative = (h & 0x8000) != 0;
  const int exp = (h >> 10) & 0x1F;
  const int mant = h & 0x3FF;
  if (exp == 31) {
    // Infinity, or a NaN made quiet with its payload kept.
    const uint32_t bits = 0x7F800000u | (mant != 0 ? 0x00400000u : 0u) | (static_cast<uint32_t>(mant) << 13);
    return Bits<float>(bits | (negative ? 0x80000000u : 0u));
  }
  const double magnitude = exp == 0 ? std::ldexp(mant, -24) : std::ldexp(1024 + mant, exp - 25);
  return static_cast<float>(negative ? -magnitude : magnitude);
}

uint16_t FloatToHalf(float f) {
  const uint32_t u = Bits<uint32_t>(f);
  const uint16_t sign = static_cast<uint16_t>((u >> 16) & 0x8000);
  if (std::isnan(f)) return static_cast<uint16_t>(sign | 0x7E00 | ((u >> 13) & 0x3FF));
  if (std::isinf(f)) return static_cast<uint16_t>(sign | 0x7C00);
  return static_cast<uint16_t>(sign | RoundMagnitude(std::fabs(static_cast<double>(f)), 10, -14, 15));
}

float BFloat16ToFloat(uint16_t b) { return Bits<float>(static_cast<uint32_t>(b) << 16); }

uint16_t FloatToBFloat16(float f) {
  const uint32_t u = Bits<uint32_t>(f);
  const uint16_t sign = static_cast<uint16_t>((u >> 16) & 0x8000);
  if (std::isnan(f)) return static_cast<uint16_t>((u >> 16) | 0x0040);
  if (std::isinf(f)) return static_cast<uint16_t>(sign | 0x7F80);
  return static_cast<uint16_t>(sign | RoundMagnitude(std::fabs(static_cast<double>(f)), 7, -126, 127));
}

void Reduce2(void* dst, const void* a, const void* b, size_t count, DataType type, ReduceOp op) {
  switch (type) {
    case DataType::kFloat32:
      return ElementwiseReduce<float>(dst, a, b, count, type, op);
    case DataType::kFloat64:
      return ElementwiseReduce<double>(dst, a, b, count, type, op);
    case DataType::kFloat16:
    case DataType::kBFloat16:
      return ElementwiseReduce<uint16_t>(dst, a, b, count, type, op);
    case DataType::kInt8:
      return ElementwiseReduce<int8_t>(dst, a, b, count, type, op);
    case DataType::kUInt8:
    case DataType::kBool:
      return ElementwiseReduce<uint8_t>(dst, a, b, count, type, op);
    case DataType::kInt32:
      return ElementwiseReduce<int32_t>(dst, a, b, count, type, op);
    case DataType::kInt64:
      return ElementwiseReduce<int64_t>(dst, a, b, count, type, op);
  }
}

void DivideBy(void* buf, size_t count, DataType type, int divisor) {
  switch (type) {
    case DataType::kFloat32:
      return ElementwiseDivide<float>(buf, count, type, divisor);
    case DataType::kFloat64:
      return ElementwiseDivide<double>(buf, count, type, divisor);
    case DataType::kFloat16:
    case DataType::kBFloat16:
      return ElementwiseDivide<uint16_t>(buf, count, type, divisor);
    case DataType::kInt8:
      return ElementwiseDivide<int8_t>(buf, count, type, divisor);
    case DataType::kUInt8:
    case DataType::kBool:
      return ElementwiseDivide<uint8_t>(buf, count, type, divisor);
    case DataType::kInt32:
      return ElementwiseDivide<int32_t>(buf, count, type, divisor);
    case DataType::kInt64:
      return ElementwiseDivide<int64_t>(buf, count, type, divisor);
  }
}

bool Matches(const void* got, const void* want, DataType type, ReduceOp op) {
  if (std::memcmp(got, want, Size(type)) == 0) return true;
  const bool any_nan_allowed = op != ReduceOp::kMin && op != ReduceOp::kMax;
  return any_nan_allowed && IsNan(want, type) && IsNan(got, type);
}

}  // namespace mc::algo::reference
