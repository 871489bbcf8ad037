// The slice of the verbs API the protocol uses, as interfaces: queue pairs
// with their completion queue, memory registration, and the port that makes
// queue pairs. ibv_port.h implements them over libibverbs; the tests drive
// the same protocol code over an in-process fake (fake_fabric.h).
#ifndef MOONCOMM_PLUGINS_RDMA_VERBS_VERBS_H_
#define MOONCOMM_PLUGINS_RDMA_VERBS_VERBS_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "mooncomm/plugin_abi.h"
#include "status.h"
#include "wire.h"

namespace mc::rdma {

enum class WorkOp : uint8_t { kSend, kWrite, kWriteImm, kRead };

struct Sge {
  uint64_t addr = 0;
  uint32_t length = 0;
  uint32_t lkey = 0;
};

// One send-queue work request. Every one is signaled (completes on the CQ).
struct SendWork {
  uint64_t wr_id = 0;
  WorkOp op = WorkOp::kSend;
  Sge sge;
  bool inline_data = false;  // the payload is copied into the request: no lkey, buffer reusable at once
  uint64_t remote_addr = 0;  // kWrite, kWriteImm, kRead
  uint32_t rkey = 0;
  uint32_t imm = 0;  // kWriteImm, host order
};

enum class CompletionStatus : uint8_t {
  kSuccess,
  kFlushed,       // the queue pair was in the error state (after a failure or close)
  kRemoteAccess,  // bad rkey or range at the peer
  kError,         // anything else: retries exceeded, the peer's queue pair gone, ...
};

struct WorkCompletion {
  uint64_t wr_id = 0;
  CompletionStatus status = CompletionStatus::kSuccess;
  int qp = 0;               // index of the queue pair in its set
  bool is_recv = false;     // a receive buffer was consumed
  bool with_imm = false;    // receive: by an RDMA WRITE WITH IMMEDIATE
  uint32_t byte_len = 0;    // receive of a SEND: bytes that arrived
  uint32_t imm = 0;         // host order
  const char* detail = "";  // a static text for logs when status is not kSuccess
};

// The queue pairs of one connection and the completion queue they share.
// Receives are posted on queue pair 0 only.
class QueuePairSet {
 public:
  virtual ~QueuePairSet() = default;
  virtual int size() const = 0;
  // Largest payload an inline send can carry.
  virtual uint32_t max_inline() const = 0;
  // 0 or an errno value.
  virtual int PostSend(int qp, const SendWork& work) = 0;
  virtual int PostRecv(uint64_t wr_id, const Sge& sge) = 0;
  // How many completions were written to `out` (at most `max`); < 0: the CQ failed.
  virtual int Poll(WorkCompletion* out, int max) = 0;
  // Moves every queue pair to the error state: outstanding work is flushed
  // and the device touches none of its buffers any more.
  virtual void Shutdown() = 0;
};

// Queue pairs before and while they are linked to a peer's.
class LinkableQueuePairs : public QueuePairSet {
 public:
  // Fills what the peer needs to link to us: hca_guid, lid, gid, port, mtu,
  // link type, READ limits, qpn and psn.
  virtual void Describe(ConnInfo* info) const = 0;
  // INIT -> RTR -> RTS against the peer's queue pairs (same count).
  virtual Status Link(const ConnInfo& remote) = 0;
  // RDMA READs one queue pair may have outstanding once linked.
  virtual uint32_t read_limit() const = 0;
  // True when `qp_num` is one of ours (async events name queue pairs by number).
  virtual bool Owns(uint32_t qp_num) const = 0;
};

struct MemoryRegion {
  uint64_t addr = 0;
  uint64_t length = 0;
  uint32_t lkey = 0;
  uint32_t rkey = 0;
  void* handle = nullptr;  // the implementation's (struct ibv_mr*)
};

// Registers memory with one protection domain (one device). Regions are
// registered for local write, remote read and remote write.
class MemoryDomain {
 public:
  virtual ~MemoryDomain() = default;
  virtual StatusOr<MemoryRegion> Register(void* addr, size_t len, bool on_demand) = 0;
  virtual void Deregister(const MemoryRegion& region) = 0;
  // The device pages on demand (ODP): registrations follow remapped memory.
  virtual bool on_demand_paging() const = 0;
  // Names the device in packed remote keys.
  virtual uint64_t guid() const = 0;
};

struct QueuePairShape {
  int count = 1;
  uint32_t send_depth = 0;
  uint32_t recv_depth = 0;
};

// One usable port: what a device index of the ABI stands for.
class Port {
 public:
  virtual ~Port() = default;
  virtual const mc_device_props_v1_t& props() const = 0;
  virtual MemoryDomain* domain() = 0;
  // The netdev the side socket prefers ("" when none: InfiniBand).
  virtual const std::string& netdev() const = 0;
  virtual StatusOr<std::unique_ptr<LinkableQueuePairs>> CreateQueuePairs(const QueuePairShape& shape) = 0;
};

}  // namespace mc::rdma

#endif  // MOONCOMM_PLUGINS_RDMA_VERBS_VERBS_H_
