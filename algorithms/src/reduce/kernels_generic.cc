// The kernels for the compiler's baseline target: what every CPU of the
// architecture runs (SSE2 on x86-64, NEON on aarch64).
#include "reduce/kernel_loops.h"
#include "reduce/kernel_table.h"

namespace mc::algo::reduce_internal {
namespace {

struct GenericKernels {
  template <DataType T, ReduceOp O>
  static void Binary(void* dst, const void* a, const void* b, size_t count) {
    BinaryLoop<T, O>(dst, a, b, count);
  }
  template <DataType T>
  static void Divide(void* buf, size_t count, int divisor) {
    DivideLoop<T>(buf, count, divisor);
  }
};

constexpr KernelTable kGenericTable = MakeKernelTable<GenericKernels>();

}  // namespace

const KernelTable* GenericKernelTable() { return &kGenericTable; }

}  // namespace mc::algo::reduce_internal
