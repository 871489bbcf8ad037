// A scalar model of the reduction kernels for the tests: one element at a
// time, by value arithmetic and plain branches, sharing no code with the
// kernels (not even their f16/bf16 conversions).
#ifndef MOONCOMM_ALGORITHMS_REDUCE_REDUCE_REFERENCE_H_
#define MOONCOMM_ALGORITHMS_REDUCE_REDUCE_REFERENCE_H_

#include <cstddef>
#include <cstdint>

#include "mooncomm/datatype.h"

namespace mc::algo::reference {

float HalfToFloat(uint16_t h);
uint16_t FloatToHalf(float f);
float BFloat16ToFloat(uint16_t b);
uint16_t FloatToBFloat16(float f);

// dst[i] = a[i] op b[i] for pointers of any alignment (dst may be a or b).
void Reduce2(void* dst, const void* a, const void* b, size_t count, DataType type, ReduceOp op);
void DivideBy(void* buf, size_t count, DataType type, int divisor);

// Whether a kernel's element `got` is right, given the model's `want`: the
// same bits, except that a NaN out of a float sum or product may carry any
// payload (the hardware picks which input's NaN survives).
bool Matches(const void* got, const void* want, DataType type, ReduceOp op);

}  // namespace mc::algo::reference

#endif  // MOONCOMM_ALGORITHMS_REDUCE_REDUCE_REFERENCE_H_
