// What one element of each DataType is, and how two of them combine.
//
// Everything here is always inlined into the loops of kernel_loops.h (and the
// x86 f16 loops), which are compiled once per instruction set.
#ifndef MOONCOMM_ALGORITHMS_REDUCE_ELEMENT_OPS_H_
#define MOONCOMM_ALGORITHMS_REDUCE_ELEMENT_OPS_H_

#include <cstdint>
#include <type_traits>

#include "mooncomm/datatype.h"
#include "reduce/half_float.h"
#include "reduce/reduce_inline.h"

namespace mc::algo::reduce_internal {

// A T that may sit at any address: the kernels take pointers of any alignment.
// Spell pointer types with it; `auto` would deduce the plain, aligned T.
template <typename T>
using Unaligned [[gnu::aligned(1)]] = T;

enum class ElementKind { kFloat, kInt, kBool };

// Storage: the element as it sits in memory. Value: what the math runs on.
// Divisor: what DivideBy divides a Value by.
template <DataType T>
struct Element;

template <typename S, typename V, typename Bits>
struct FloatElement {
  static constexpr ElementKind kKind = ElementKind::kFloat;
  using Storage = S;
  using Value = V;
  using ValueBits = Bits;  // the unsigned integer of a Value's width
  using Divisor = V;
};

template <>
struct Element<DataType::kFloat32> : FloatElement<float, float, uint32_t> {
  static MC_REDUCE_INLINE float Load(float s) { return s; }
  static MC_REDUCE_INLINE float Store(float v) { return v; }
};
template <>
struct Element<DataType::kFloat64> : FloatElement<double, double, uint64_t> {
  static MC_REDUCE_INLINE double Load(double s) { return s; }
  static MC_REDUCE_INLINE double Store(double v) { return v; }
};
template <>
struct Element<DataType::kFloat16> : FloatElement<uint16_t, float, uint32_t> {
  static MC_REDUCE_INLINE float Load(uint16_t s) { return HalfToFloat(s); }
  static MC_REDUCE_INLINE uint16_t Store(float v) { return FloatToHalf(v); }
};
template <>
struct Element<DataType::kBFloat16> : FloatElement<uint16_t, float, uint32_t> {
  static MC_REDUCE_INLINE float Load(uint16_t s) { return BFloat16ToFloat(s); }
  static MC_REDUCE_INLINE uint16_t Store(float v) { return FloatToBFloat16(v); }
};

// Integers divide through a floating type wide enough that truncating the
// rounded quotient gives the exact truncated quotient (and that vectorizes,
// unlike integer division); int64 has no such type and divides as integers.
template <typename S, typename D>
struct IntElement {
  static constexpr ElementKind kKind = ElementKind::kInt;
  using Storage = S;
  using Divisor = D;
};
template <>
struct Element<DataType::kInt8> : IntElement<int8_t, float> {};
template <>
struct Element<DataType::kUInt8> : IntElement<uint8_t, float> {};
template <>
struct Element<DataType::kInt32> : IntElement<int32_t, double> {};
template <>
struct Element<DataType::kInt64> : IntElement<int64_t, int64_t> {};

template <>
struct Element<DataType::kBool> {
  static constexpr ElementKind kKind = ElementKind::kBool;
  using Storage = uint8_t;
};

// acc = acc op b on float Values: scalars, or GCC vectors of them (Bits is then
// the unsigned vector of the same shape). Min and max return the canonical
// quiet NaN when either side is NaN and order -0 below +0, so they are
// commutative and associative bit for bit, whatever order ranks combine in.
template <ReduceOp O, typename Scalar, typename Bits, typename F>
MC_REDUCE_INLINE void CombineFloat(F& acc, const F& b) {
  if constexpr (O == ReduceOp::kProd) {
    acc = acc * b;
  } else if constexpr (O == ReduceOp::kMin || O == ReduceOp::kMax) {
    using ScalarBits = std::conditional_t<sizeof(Scalar) == 4, uint32_t, uint64_t>;
    constexpr ScalarBits kNaN = sizeof(Scalar) == 4 ? 0x7FC00000u : 0x7FF8000000000000u;
    // `one` and `other` are the same value unless the inputs compare equal
    // (then they are the two inputs, so -0 and +0 if those) or unordered (then
    // one of them is the NaN). They are exactly x86's min/max instructions.
    F one, other;
    if constexpr (O == ReduceOp::kMin) {
      one = acc < b ? acc : b;
      other = b < acc ? b : acc;
    } else {
      one = acc > b ? acc : b;
      other = b > acc ? b : acc;
    }
    const Bits x = __builtin_bit_cast(Bits, one);
    const Bits y = __builtin_bit_cast(Bits, other);
    // -0 wins a min (or the sign bits), +0 a max (and them). Where an input is
    // NaN, x | y is a NaN as well, which one compare then catches.
    const Bits either = x | y;
    Bits r = O == ReduceOp::kMin ? either : (x & y);
    const F either_value = __builtin_bit_cast(F, either);
    const Bits nan = static_cast<Bits>(Bits{} + kNaN);
    r = either_value != either_value ? nan : r;
    acc = __builtin_bit_cast(F, r);
  } else {  // kSum, and kAvg, which sums here and divides later
    acc = acc + b;
  }
}

// Integer sums and products wrap; they run in the unsigned type, where
// wrapping is defined.
template <ReduceOp O, typename T>
MC_REDUCE_INLINE T CombineInt(T a, T b) {
  using U = std::make_unsigned_t<T>;
  static_assert(sizeof(T) != 2, "uint16_t * uint16_t promotes to int and could overflow");
  if constexpr (O == ReduceOp::kProd) {
    return static_cast<T>(static_cast<U>(static_cast<U>(a) * static_cast<U>(b)));
  } else if constexpr (O == ReduceOp::kMin) {
    return a < b ? a : b;
  } else if constexpr (O == ReduceOp::kMax) {
    return a > b ? a : b;
  } else {
    return static_cast<T>(static_cast<U>(static_cast<U>(a) + static_cast<U>(b)));
  }
}

// Bools: sum and max are "or", prod and min are "and"; any nonzero byte is
// true and results are 0 or 1.
template <ReduceOp O>
MC_REDUCE_INLINE uint8_t CombineBool(uint8_t a, uint8_t b) {
  if constexpr (O == ReduceOp::kProd || O == ReduceOp::kMin) {
    return static_cast<uint8_t>((a != 0) & (b != 0));
  } else {
    return static_cast<uint8_t>((a | b) != 0);
  }
}

template <DataType T, ReduceOp O>
MC_REDUCE_INLINE typename Element<T>::Storage Combine(typename Element<T>::Storage a, typename Element<T>::Storage b) {
  using E = Element<T>;
  if constexpr (E::kKind == ElementKind::kFloat) {
    typename E::Value x = E::Load(a);
    const typename E::Value y = E::Load(b);
    CombineFloat<O, typename E::Value, typename E::ValueBits>(x, y);
    return E::Store(x);
  } else if constexpr (E::kKind == ElementKind::kInt) {
    return CombineInt<O>(a, b);
  } else {
    return CombineBool<O>(a, b);
  }
}

// Two bf16 elements at once, as the little-endian 32-bit word that holds them:
// element 2k in the low half, 2k+1 in the high half. Each half is the top of
// a float already, so this skips the widening and narrowing that one element
// at a time costs; each element is still computed exactly as Combine does.
template <ReduceOp O>
MC_REDUCE_INLINE uint32_t CombineBFloat16Pair(uint32_t a, uint32_t b) {
  float low = __builtin_bit_cast(float, a << 16);
  float high = __builtin_bit_cast(float, a & 0xFFFF0000u);
  CombineFloat<O, float, uint32_t>(low, __builtin_bit_cast(float, b << 16));
  CombineFloat<O, float, uint32_t>(high, __builtin_bit_cast(float, b & 0xFFFF0000u));
  return FloatToBFloat16High(high) | (FloatToBFloat16High(low) >> 16);
}

// x / divisor; integers truncate toward zero. Not defined for bool.
template <DataType T>
MC_REDUCE_INLINE typename Element<T>::Storage Divide(typename Element<T>::Storage x,
                                                     typename Element<T>::Divisor divisor) {
  using E = Element<T>;
  if constexpr (E::kKind == ElementKind::kFloat) {
    return E::Store(E::Load(x) / divisor);
  } else {
    using S = typename E::Storage;
    using D = typename E::Divisor;
    return static_cast<S>(static_cast<D>(x) / divisor);
  }
}

}  // namespace mc::algo::reduce_internal

#endif  // MOONCOMM_ALGORITHMS_REDUCE_ELEMENT_OPS_H_
