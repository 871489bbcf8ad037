// ReduceInto, Reduce2 and DivideBy: argument checks, then the active ISA's kernel.
#include "reduce/reduce_kernels.h"

#include <cstdio>
#include <cstdlib>

#include "reduce/kernel_table.h"

namespace mc::algo {
namespace {

using reduce_internal::ActiveKernelTable;

// A bad enum or divisor is a bug in the caller, and indexing a table with it
// would be worse than stopping.
[[noreturn]] void Fail(const char* what, int value) {
  std::fprintf(stderr, "mooncomm reduce kernels: %s %d\n", what, value);
  std::abort();
}

size_t TypeIndex(DataType type) {
  const auto i = static_cast<size_t>(type);
  if (i >= static_cast<size_t>(kNumDataTypes)) Fail("invalid DataType", static_cast<int>(i));
  return i;
}

size_t OpIndex(ReduceOp op) {
  if (op == ReduceOp::kAvg) return static_cast<size_t>(ReduceOp::kSum);
  const auto i = static_cast<size_t>(op);
  if (i >= static_cast<size_t>(reduce_internal::kNumCombineOps)) Fail("invalid ReduceOp", static_cast<int>(i));
  return i;
}

}  // namespace

void ReduceInto(void* dst, const void* src, size_t count, DataType type, ReduceOp op) {
  Reduce2(dst, dst, src, count, type, op);
}

void Reduce2(void* dst, const void* a, const void* b, size_t count, DataType type, ReduceOp op) {
  const auto kernel = ActiveKernelTable().binary[TypeIndex(type)][OpIndex(op)];
  if (count != 0) kernel(dst, a, b, count);
}

void DivideBy(void* buf, size_t count, DataType type, int divisor) {
  const auto kernel = ActiveKernelTable().divide[TypeIndex(type)];
  if (divisor < 1) Fail("DivideBy needs a divisor of at least 1, got", divisor);
  if (count != 0 && divisor != 1) kernel(buf, count, divisor);
}

}  // namespace mc::algo
