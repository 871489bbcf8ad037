// The kernels for x86-64 with AVX-512 (F, BW, VL, DQ): the generic loops
// compiled for 512-bit vectors, and f16 converted by AVX-512F's vcvtph2ps and
// vcvtps2ph instead of by integer arithmetic.
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
#pragma GCC target("avx2,f16c,avx512f,avx512bw,avx512vl,avx512dq,prefer-vector-width=512")

using Bits16 = uint32_t __attribute__((vector_size(64)));

// The zero-masking forms with a full mask are the plain instructions; the
// plain intrinsics trip GCC 12's -Wmaybe-uninitialized (GCC bug 105593).
MC_REDUCE_INLINE __m512 LoadHalves(const unsigned char* p) {
  return _mm512_maskz_cvtph_ps(0xFFFF, _mm256_loadu_si256(reinterpret_cast<const __m256i_u*>(p)));
}

MC_REDUCE_INLINE void StoreHalves(unsigned char* p, __m512 v) {
  _mm256_storeu_si256(reinterpret_cast<__m256i_u*>(p), _mm512_maskz_cvtps_ph(0xFFFF, v, _MM_FROUND_TO_NEAREST_INT));
}

// Sixteen halves at a time; the tail takes the software conversions, which
// round and quiet NaNs exactly as the hardware does.
template <ReduceOp O>
void F16Binary(void* dst, const void* a, const void* b, size_t count) {
  auto* d = static_cast<unsigned char*>(dst);
  const auto* x = static_cast<const unsigned char*>(a);
  const auto* y = static_cast<const unsigned char*>(b);
  size_t i = 0;
  for (; i + 16 <= count; i += 16) {
    __m512 acc = LoadHalves(x + 2 * i);
    const __m512 other = LoadHalves(y + 2 * i);
    CombineFloat<O, float, Bits16>(acc, other);
    StoreHalves(d + 2 * i, acc);
  }
  BinaryLoop<DataType::kFloat16, O>(d + 2 * i, x + 2 * i, y + 2 * i, count - i);
}

void F16Divide(void* buf, size_t count, int divisor) {
  auto* p = static_cast<unsigned char*>(buf);
  const __m512 d = _mm512_set1_ps(static_cast<float>(divisor));
  size_t i = 0;
  for (; i + 16 <= count; i += 16) StoreHalves(p + 2 * i, LoadHalves(p + 2 * i) / d);
  DivideLoop<DataType::kFloat16>(p + 2 * i, count - i, divisor);
}

struct Avx512Kernels {
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

constexpr KernelTable kAvx512Table = MakeKernelTable<Avx512Kernels>();

}  // namespace

const KernelTable* Avx512KernelTable() { return &kAvx512Table; }

}  // namespace mc::algo::reduce_internal

#else  // not x86-64

namespace mc::algo::reduce_internal {
const KernelTable* Avx512KernelTable() { return nullptr; }
}  // namespace mc::algo::reduce_internal

#endif
