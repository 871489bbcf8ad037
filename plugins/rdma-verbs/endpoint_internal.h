// Constants and helpers shared by endpoint.cc and endpoint_completions.cc.
#ifndef MOONCOMM_PLUGINS_RDMA_VERBS_ENDPOINT_INTERNAL_H_
#define MOONCOMM_PLUGINS_RDMA_VERBS_ENDPOINT_INTERNAL_H_

#include <cstddef>
#include <cstdint>

#include "wire.h"

namespace mc::rdma::internal {

constexpr size_t kHeaderBytes = sizeof(MsgHeader);
// Larger messages than this are refused (lengths in headers are checked against it too).
constexpr uint64_t kMaxMessageBytes = uint64_t{1} << 40;

// A work request id: what it is in the top byte, the rest says which.
enum WrKind : uint64_t { kWrRecv = 1, kWrControl = 2, kWrChunk = 3 };
constexpr int kWrKindShift = 56;
constexpr uint64_t kWrValueMask = (uint64_t{1} << kWrKindShift) - 1;

inline uint64_t MakeWrId(WrKind kind, uint64_t value) {
  return (static_cast<uint64_t>(kind) << kWrKindShift) | (value & kWrValueMask);
}
inline uint64_t WrKindOf(uint64_t wr_id) { return wr_id >> kWrKindShift; }
inline uint64_t WrValueOf(uint64_t wr_id) { return wr_id & kWrValueMask; }

}  // namespace mc::rdma::internal

#endif  // MOONCOMM_PLUGINS_RDMA_VERBS_ENDPOINT_INTERNAL_H_
