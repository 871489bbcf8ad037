// The kernels for x86-64 with AVX2 and F16C: the generic loops compiled for
// 256-bit vectors, and f16 converted by F16C instead of by integer arithmetic.
#include "reduce/kernel_table.h"

// GCC only: clang lacks the target pragmas and vector-extension selects used here.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)

#include <immintrin.h>

#include "reduce/element_ops.h"
#include "reduce/kernel_loops.h"

namespace mc::algo::reduce_internal {
namespace {

// Everything defined from here to pop_options is compiled for this target;
// the helpers it inlines from the headers take it on too.
#pragma GCC push_options
#pragma GCC target("avx2,f16c")

using Bits8 = uint32_t __attribute__((vector_size(32)));

MC_REDUCE_INLINE __m256 LoadHalves(const unsigned char* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i_u*>(p)));
}

MC_REDUCE_INLINE void StoreHalves(unsigned char* p, __m256 v) {
  _mm_storeu_si128(reinterpret_cast<__m128i_u*>(p), _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT));
}

// Eight halves at a time; the tail takes the software conversions, which
// round and quiet NaNs exactly as F16C does.
template <ReduceOp O>
void F16Binary(void* dst, const void* a, const void* b, size_t count) {
  auto* d = static_cast<unsigned char*>(dst);
  const auto* x = static_cast<const unsigned char*>(a);
  const auto* y = static_cast<const unsigned char*>(b);
  size_t i = 0;
  for (; i + 8 <= count; i += 8) {
    __m256 acc = LoadHalves(x + 2 * i);
    const __m256 other = LoadHalves(y + 2 * i);
    CombineFloat<O, float, Bits8>(acc, other);
    StoreHalves(d + 2 * i, acc);
  }
  BinaryLoop<DataType::kFloat16, O>(d + 2 * i, x + 2 * i, y + 2 * i, count - i);
}

void F16Divide(void* buf, size_t count, int divisor) {
  auto* p = static_cast<unsigned char*>(buf);
  const __m256 d = _mm256_set1_ps(static_cast<float>(divisor));
  size_t i = 0;
  for (; i + 8 <= count; i += 8) StoreHalves(p + 2 * i, LoadHalves(p + 2 * i) / d);
  DivideLoop<DataType::kFloat16>(p + 2 * i, count - i, divisor);
}

struct Avx2Kernels {
  template <DataType T, ReduceOp O>
  static void Binary(void* dst, const void* a, const void* b, size_t count) {
    if constexpr (T == DataType::kFloat16) {
      F16Binary<O>(dst, a, b, count);
    } else {
      BinaryLoop<T, O>(dst, a, b, count);
    }
  }
  template <DataType T>
  static void Divide(void* buf, size_t count, int divisor) {
    if constexpr (T == DataType::kFloat16) {
      F16Divide(buf, count, divisor);
    } else {
      DivideLoop<T>(buf, count, divisor);
    }
  }
};

#pragma GCC pop_options

constexpr KernelTable kAvx2Table = MakeKernelTable<Avx2Kernels>();

}  // namespace

const KernelTable* Avx2KernelTable() { return &kAvx2Table; }

}  // namespace mc::algo::reduce_internal

#else  // not x86-64

namespace mc::algo::reduce_internal {
const KernelTable* Avx2KernelTable() { return nullptr; }
}  // namespace mc::algo::reduce_internal

#endif
