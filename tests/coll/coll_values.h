// Inputs and serial reference results for the collective tests. Every rank
// can compute every other rank's input, so each checks its own result
// without trusting the library to gather anything.
//
// Inputs are small integers (or 1, 2 and -1 for products), exact in every
// type, so sums and products are exact in any order and every algorithm must
// match the reference bit for bit. Rounding is tested separately with random
// fractions (RoundingBound).
#ifndef MOONCOMM_TESTS_COLL_COLL_VALUES_H_
#define MOONCOMM_TESTS_COLL_COLL_VALUES_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "mooncomm/datatype.h"

namespace mc::test {

// Rank `rank`'s input element `i`, for reductions with `op` (or any op for
// data movement). `salt` varies inputs between cases.
double InputValue(DataType type, ReduceOp op, int rank, size_t i, uint32_t salt);
// Element i of a typed buffer, as a double, and the reverse (rounding as
// the type does).
double Load(DataType type, const void* buf, size_t i);
void Store(DataType type, void* buf, size_t i, double v);
// Fills buf[0..count) with InputValue(type, op, rank, first + j, salt).
void Fill(DataType type, ReduceOp op, int rank, size_t first, uint32_t salt, void* buf, size_t count);
// The reduction of element i over `ranks`' inputs, as the library defines it
// (integers wrap; bool: sum/max = or, prod/min = and; avg divides by the
// number of ranks in the type's own arithmetic), stored in `out` element j.
void ReferenceInto(DataType type, ReduceOp op, const std::vector<int>& ranks, size_t i, uint32_t salt, void* out,
                   size_t j);

// A 64-bit FNV-1a hash of bytes: results are compared across ranks by hash.
uint64_t HashBytes(const void* data, size_t bytes, uint64_t seed = 1469598103934665603ull);

}  // namespace mc::test

#endif  // MOONCOMM_TESTS_COLL_COLL_VALUES_H_
