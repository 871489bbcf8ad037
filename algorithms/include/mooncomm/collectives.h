// Collectives over a Communicator: every rank of the communicator calls the
// same collectives in the same order. Built only on the Communicator's public
// point-to-point API, so they run over every transport.
//
//   auto comm = mc::Communicator::Create();
//   auto coll = mc::Collectives::Create(comm->get());
//   auto r = (*coll)->Allreduce(in, out, n, mc::DataType::kFloat32, mc::ReduceOp::kSum);
//   // r->participants: the ranks whose data is in `out`, identical on every survivor.
//
// Failures. When a rank dies during a collective, the survivors agree on who
// failed, run the collective again over the survivors from the original
// input (reductions leave the failed ranks out) and return the ranks that
// took part. A failed rank stays out of every later collective. Blocks that
// belong to ranks outside `participants` (allgather, alltoall, gather, ...)
// are zero-filled. A collective whose root has failed returns a
// PeerFailedError naming the root after the survivors have agreed.
//
// Buffers. "In place" is send == recv (for allgather / gather: send points
// at this rank's block of recv). Counts are in elements of `type`.
#ifndef MOONCOMM_COLLECTIVES_H_
#define MOONCOMM_COLLECTIVES_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "mooncomm/communicator.h"
#include "mooncomm/datatype.h"

namespace mc {

enum class CollectiveKind : uint8_t {
  kAllreduce,
  kAllgather,
  kAllgatherv,
  kReduceScatter,
  kBroadcast,
  kReduce,
  kAlltoall,
  kAlltoallv,
  kGather,
  kScatter,
  kBarrier,
  kSendRecv,  // grouped send / receive
};
inline constexpr int kNumCollectiveKinds = 12;
const char* CollectiveName(CollectiveKind kind);  // "allreduce", "reduce_scatter", ...
absl::StatusOr<CollectiveKind> ParseCollective(std::string_view name);

// Per call. Empty algorithm: the tuner chooses.
struct CollectiveOptions {
  std::string algorithm;   // "ring", "tree", "dbtree", "direct", "pipelined", ...
  size_t chunk_bytes = 0;  // 0: the tuner's choice
  int channels = 0;        // 0: the tuner's choice
};

struct CollectiveResult {
  std::vector<int> participants;  // ascending communicator ranks whose data took part
  std::string algorithm;          // the algorithm that produced the result
};

// One operation of a grouped send / receive.
struct P2POp {
  enum Kind : uint8_t { kSend, kRecv } kind;
  int peer;
  void* buf;  // const for sends
  size_t bytes;
  uint64_t tag = 0;
};

class Collectives {
 public:
  // `comm` must outlive the Collectives; one Collectives per Communicator.
  static absl::StatusOr<std::unique_ptr<Collectives>> Create(Communicator* comm);
  ~Collectives();
  Collectives(const Collectives&) = delete;
  Collectives& operator=(const Collectives&) = delete;

  Communicator& comm();
  // Ranks that took part in the last collective and are still believed alive.
  std::vector<int> active_ranks() const;

  using Result = absl::StatusOr<CollectiveResult>;
  Result Allreduce(const void* send, void* recv, size_t count, DataType type, ReduceOp op,
                   const CollectiveOptions& options = {});
  // recv holds size() blocks of `count`, in rank order.
  Result Allgather(const void* send, void* recv, size_t count, DataType type, const CollectiveOptions& options = {});
  // Rank r contributes counts[r] elements, placed at displs[r] in recv.
  Result Allgatherv(const void* send, void* recv, absl::Span<const size_t> counts, absl::Span<const size_t> displs,
                    DataType type, const CollectiveOptions& options = {});
  // send holds size() blocks of `recv_count`; rank r receives the reduction of block r.
  Result ReduceScatter(const void* send, void* recv, size_t recv_count, DataType type, ReduceOp op,
                       const CollectiveOptions& options = {});
  Result Broadcast(void* buf, size_t count, DataType type, int root, const CollectiveOptions& options = {});
  // recv is used at the root only.
  Result Reduce(const void* send, void* recv, size_t count, DataType type, ReduceOp op, int root,
                const CollectiveOptions& options = {});
  // send and recv hold size() blocks of `count`; block p of send goes to rank p.
  Result Alltoall(const void* send, void* recv, size_t count, DataType type, const CollectiveOptions& options = {});
  Result Alltoallv(const void* send, absl::Span<const size_t> send_counts, absl::Span<const size_t> send_displs,
                   void* recv, absl::Span<const size_t> recv_counts, absl::Span<const size_t> recv_displs,
                   DataType type, const CollectiveOptions& options = {});
  // recv (root only) holds size() blocks of `count`.
  Result Gather(const void* send, void* recv, size_t count, DataType type, int root,
                const CollectiveOptions& options = {});
  // send (root only) holds size() blocks of `count`.
  Result Scatter(const void* send, void* recv, size_t count, DataType type, int root,
                 const CollectiveOptions& options = {});
  Result Barrier(const CollectiveOptions& options = {});
  // Point-to-point through the tuner's "sendrecv" choice: a large message may
  // travel as several chunks in flight. Both sides must use these (not the
  // Communicator's) for the same message, with equal sizes. tag < 2^63.
  absl::Status Send(int peer, uint64_t tag, const void* buf, size_t bytes);
  absl::Status Recv(int peer, uint64_t tag, void* buf, size_t bytes);
  // The size-to-algorithm map in force (what MC_LOG_LEVEL=info prints).
  std::string DescribeTuning() const;

  // Sends and receives with many peers at once; any posting order across
  // ranks completes (every operation is posted before any is waited on).
  // A failed peer fails only its own operations: the status is the first
  // error, the rest still complete.
  absl::Status GroupedSendRecv(absl::Span<const P2POp> ops);

  class Impl;

 private:
  explicit Collectives(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mc

#endif  // MOONCOMM_COLLECTIVES_H_
