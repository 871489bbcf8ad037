// What an algorithm is given: the buffers and shape of one collective call.
// Buffers are laid out by communicator rank (block r belongs to rank r);
// algorithms run over the attempt's group, whose members are a subset of
// the ranks. Blocks of ranks outside the group are not touched.
#ifndef MOONCOMM_ALGORITHMS_ALGOS_ARGS_H_
#define MOONCOMM_ALGORITHMS_ALGOS_ARGS_H_

#include <cstddef>
#include <cstdint>

#include "absl/types/span.h"
#include "mooncomm/collectives.h"
#include "mooncomm/datatype.h"

namespace mc::algo {

struct CollArgs {
  CollectiveKind kind;
  const void* send = nullptr;
  void* recv = nullptr;
  // Elements. allreduce, broadcast, reduce: the whole buffer. allgather,
  // reduce_scatter, alltoall, gather, scatter: one rank's block.
  size_t count = 0;
  DataType type = DataType::kUInt8;
  size_t elem = 1;  // DataTypeSize(type)
  ReduceOp op = ReduceOp::kSum;
  int root = -1;  // communicator rank; -1 when the collective has none
  // allgatherv: recv_counts / recv_displs. alltoallv: all four. Elements,
  // indexed by communicator rank.
  absl::Span<const size_t> send_counts, send_displs, recv_counts, recv_displs;
  size_t chunk_bytes = 0;  // 0: unchunked
  int channels = 1;

  char* recv_bytes() const { return static_cast<char*>(recv); }
  const char* send_bytes() const { return static_cast<const char*>(send); }
};

}  // namespace mc::algo

#endif  // MOONCOMM_ALGORITHMS_ALGOS_ARGS_H_
