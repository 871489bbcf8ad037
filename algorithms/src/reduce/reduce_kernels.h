// Elementwise reduction of host buffers: what the collectives run on the data
// they receive.
//
// Every element is computed on its own, in the same way whatever the pointers'
// alignment, the count or the CPU's instruction set, so the same inputs give
// the same bits on every call and in every process. Pointers need no
// alignment; with count 0 they are not touched.
//
// Per type: integer sums and products wrap. f16 and bf16 are converted to
// float, combined, and rounded back to nearest-even. bool bytes combine as
// "or" (sum, max) and "and" (prod, min), any nonzero byte being true, and
// come out 0 or 1. Float min and max give the quiet NaN when either side is
// NaN and treat -0 as below +0. A NaN out of a sum or product is whichever
// one the hardware propagates.
#ifndef MOONCOMM_ALGORITHMS_REDUCE_REDUCE_KERNELS_H_
#define MOONCOMM_ALGORITHMS_REDUCE_REDUCE_KERNELS_H_

#include <cstddef>

#include "mooncomm/datatype.h"

namespace mc::algo {

// dst[i] = dst[i] op src[i]. src is apart from dst or is dst itself. kAvg sums;
// DivideBy finishes it.
void ReduceInto(void* dst, const void* src, size_t count, DataType type, ReduceOp op);

// dst[i] = a[i] op b[i]. dst is a, or b, or apart from both (a and b may overlap
// each other freely). kAvg sums, like ReduceInto.
void Reduce2(void* dst, const void* a, const void* b, size_t count, DataType type, ReduceOp op);

// buf[i] /= divisor, for kAvg: floats round to nearest, integers truncate toward
// zero, bools are left as they are. divisor must be at least 1.
void DivideBy(void* buf, size_t count, DataType type, int divisor);

}  // namespace mc::algo

#endif  // MOONCOMM_ALGORITHMS_REDUCE_REDUCE_KERNELS_H_
