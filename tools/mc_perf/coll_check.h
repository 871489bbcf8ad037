// --check for the collectives: the input every rank contributes and a serial
// reference of every output element, both computed locally by every rank.
//
// Inputs are small integers (|v| <= 5 for reductions), so every value and
// every partial sum or product the algorithms form is exact in every type
// (f16 holds integers to 2048, bf16 to 256: exact up to 64 ranks for a bf16
// sum and 60 for an f16 prod), and integer sums and products wrap the same
// way in any order.
// So the result does not depend on the order of the reduction and is checked
// bit for bit. avg inputs sum to a multiple of the rank count, so the
// division is exact too (and an integer avg has nothing to truncate).
#ifndef MOONCOMM_TOOLS_MC_PERF_COLL_CHECK_H_
#define MOONCOMM_TOOLS_MC_PERF_COLL_CHECK_H_

#include <cstddef>
#include <cstdint>

#include "mooncomm/collectives.h"
#include "mooncomm/datatype.h"

namespace mc::perf {

// Element `index` of rank `rank`'s input (alltoall, scatter: the index in the
// whole n-block send buffer), as a double; exact in `type`.
double InputValue(CollectiveKind coll, DataType type, ReduceOp op, int rank, int ranks, size_t index);

// Writes `count` elements of rank's input starting at `first` into `buf`.
void FillInput(void* buf, size_t count, size_t first, CollectiveKind coll, DataType type, ReduceOp op, int rank,
               int ranks);

// The serial reduction of element `index` over ranks 0..ranks-1, rounded
// (integers: wrapped) to `type`.
double ReducedValue(DataType type, ReduceOp op, int ranks, size_t index);

// Element i of buf as a double (integers sign- or zero-extended; bool as its byte).
double LoadElement(const void* buf, size_t i, DataType type);
// Fills with a byte pattern that decodes to no value the checks expect.
void Poison(void* buf, size_t bytes);

// The number of wrong elements in this rank's output of one call with the
// inputs above. `recv`: allreduce, reduce_scatter, reduce (root), allgather,
// alltoall, gather (root), scatter: the receive buffer; broadcast: the buffer.
// `count`: the per-rank count the call was given.
int64_t CountWrong(CollectiveKind coll, DataType type, ReduceOp op, int rank, int ranks, int root, const void* recv,
                   size_t count);

}  // namespace mc::perf

#endif  // MOONCOMM_TOOLS_MC_PERF_COLL_CHECK_H_
