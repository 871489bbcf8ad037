// The elementwise loops every kernel table is built from, written so that the
// compiler vectorizes them for whatever target the including function has.
#ifndef MOONCOMM_ALGORITHMS_REDUCE_KERNEL_LOOPS_H_
#define MOONCOMM_ALGORITHMS_REDUCE_KERNEL_LOOPS_H_

#include <cstddef>
#include <utility>

#include "mooncomm/datatype.h"
#include "reduce/element_ops.h"
#include "reduce/kernel_table.h"
#include "reduce/reduce_inline.h"

namespace mc::algo::reduce_internal {

template <DataType T, ReduceOp O>
MC_REDUCE_INLINE void ElementLoop(void* dst, const void* a, const void* b, size_t count) {
  using S = Unaligned<typename Element<T>::Storage>;
  S* d = static_cast<S*>(dst);
  const S* x = static_cast<const S*>(a);
  const S* y = static_cast<const S*>(b);
  MC_REDUCE_IVDEP
  for (size_t i = 0; i < count; ++i) d[i] = Combine<T, O>(x[i], y[i]);
}

// dst[i] = a[i] op b[i]; bf16 goes two elements to a 32-bit word (see
// CombineBFloat16Pair) where words are little-endian.
template <DataType T, ReduceOp O>
MC_REDUCE_INLINE void BinaryLoop(void* dst, const void* a, const void* b, size_t count) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  if constexpr (T == DataType::kBFloat16) {
    // Spelled out: `auto` would drop the alias's alignment of 1.
    using Word = Unaligned<uint32_t>;
    const size_t pairs = count / 2;
    Word* d = static_cast<Word*>(dst);
    const Word* x = static_cast<const Word*>(a);
    const Word* y = static_cast<const Word*>(b);
    MC_REDUCE_IVDEP
    for (size_t i = 0; i < pairs; ++i) d[i] = CombineBFloat16Pair<O>(x[i], y[i]);
    if (count % 2 != 0) ElementLoop<T, O>(d + pairs, x + pairs, y + pairs, 1);
    return;
  }
#endif
  ElementLoop<T, O>(dst, a, b, count);
}

// Bools are left as they are: "or" and "and" have nothing to average.
template <DataType T>
MC_REDUCE_INLINE void DivideLoop(void* buf, size_t count, int divisor) {
  if constexpr (Element<T>::kKind != ElementKind::kBool) {
    using S = Unaligned<typename Element<T>::Storage>;
    using D = typename Element<T>::Divisor;
    S* p = static_cast<S*>(buf);
    const D d = static_cast<D>(divisor);
    for (size_t i = 0; i < count; ++i) p[i] = Divide<T>(p[i], d);
  }
}

// A table of K::Binary<T, O> and K::Divide<T>, the kernels of one ISA.
template <typename K, int T, int... O>
constexpr void FillBinary(KernelTable& table, std::integer_sequence<int, O...>) {
  ((table.binary[T][O] = &K::template Binary<static_cast<DataType>(T), static_cast<ReduceOp>(O)>), ...);
}

template <typename K, int... T>
constexpr void FillTypes(KernelTable& table, std::integer_sequence<int, T...>) {
  (FillBinary<K, T>(table, std::make_integer_sequence<int, kNumCombineOps>{}), ...);
  ((table.divide[T] = &K::template Divide<static_cast<DataType>(T)>), ...);
}

template <typename K>
constexpr KernelTable MakeKernelTable() {
  KernelTable table{};
  FillTypes<K>(table, std::make_integer_sequence<int, kNumDataTypes>{});
  return table;
}

}  // namespace mc::algo::reduce_internal

#endif  // MOONCOMM_ALGORITHMS_REDUCE_KERNEL_LOOPS_H_
