// The reduction kernels of one instruction set, and the choice among them.
#ifndef MOONCOMM_ALGORITHMS_REDUCE_KERNEL_TABLE_H_
#define MOONCOMM_ALGORITHMS_REDUCE_KERNEL_TABLE_H_

#include <cstddef>
#include <cstdint>

#include "mooncomm/datatype.h"

namespace mc::algo::reduce_internal {

enum class Isa : uint8_t {
  kGeneric,  // the compiler's baseline target: SSE2 on x86-64, NEON on aarch64
  kAvx2,     // AVX2 + F16C
  kAvx512,   // AVX-512 F/BW/VL/DQ
};
inline constexpr int kNumIsas = 3;
const char* IsaName(Isa isa);  // "generic", "avx2", "avx512"

// dst[i] = a[i] op b[i]; dst is a, b, or apart from both.
using BinaryKernel = void (*)(void* dst, const void* a, const void* b, size_t count);
// buf[i] /= divisor, divisor > 1.
using DivideKernel = void (*)(void* buf, size_t count, int divisor);

// The ops a kernel combines with: ReduceOp's first four. kAvg combines as kSum.
inline constexpr int kNumCombineOps = 4;
static_assert(static_cast<int>(ReduceOp::kSum) == 0 && static_cast<int>(ReduceOp::kProd) == 1 &&
              static_cast<int>(ReduceOp::kMin) == 2 && static_cast<int>(ReduceOp::kMax) == 3);

struct KernelTable {
  BinaryKernel binary[kNumDataTypes][kNumCombineOps];
  DivideKernel divide[kNumDataTypes];
};

// Each ISA's table, or null where this build has none (the x86 ones need
// x86-64 and GCC).
const KernelTable* GenericKernelTable();
const KernelTable* Avx2KernelTable();
const KernelTable* Avx512KernelTable();

// The table of `isa`, or null when this build or this CPU lacks it.
const KernelTable* KernelTableFor(Isa isa);
// The widest ISA this CPU runs, chosen once; its table is what ReduceInto uses.
Isa ActiveIsa();
const KernelTable& ActiveKernelTable();

}  // namespace mc::algo::reduce_internal

#endif  // MOONCOMM_ALGORITHMS_REDUCE_KERNEL_TABLE_H_
