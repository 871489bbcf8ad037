// A single-producer / single-consumer ring of variable-length records in
// shared memory: one per direction of an shm endpoint.
//
// Layout: a 4 KiB control block, then `capacity` bytes of data (a power of
// two). Records are 16-byte aligned: a 16-byte header {stamp, type, bytes}
// and the body. Positions are 64-bit and only grow; a record at position p
// sits at offset p % capacity.
//
// Publication is by stamp rather than by a shared head index, so a consumer
// polling an empty ring touches one cache line (the next record's header),
// and a message costs one cache-line transfer: the producer fills the record,
// then stores stamp = p | 1 with release order; the consumer loads the stamp
// with acquire order and accepts it only when it equals its own position | 1.
// Stale bytes can never look valid because, before publishing a record, the
// producer zeroes the stamp slot just behind it (always 16 free bytes are
// kept for that). The consumer publishes its position in the control block
// after each record; the producer reads it only when the ring looks full.
//
// A record never wraps: when it does not fit before the end, the producer
// pads to the end. A record of at most MaxRecordBytes() always fits into an
// empty ring, wherever the positions stand.
#ifndef MOONCOMM_SRC_TRANSPORTS_SHM_SPSC_RING_H_
#define MOONCOMM_SRC_TRANSPORTS_SHM_SPSC_RING_H_

#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"

namespace mc::shm {

inline constexpr size_t kRingControlBytes = 4096;
inline constexpr size_t kRingRecordAlign = 16;
inline constexpr size_t kRingHeaderBytes = 16;
inline constexpr uint32_t kRingPadType = 0;  // reserved; never handed to users

// Bytes of shared memory a ring of `capacity` data bytes needs.
inline size_t RingRegionBytes(uint64_t capacity) { return kRingControlBytes + capacity; }
bool IsValidRingCapacity(uint64_t capacity);  // power of two, 4 KiB .. 1 GiB
// Largest body a single record may carry in a ring of `capacity` bytes.
size_t RingMaxBodyBytes(uint64_t capacity);

// Writes the control block of a fresh (zeroed) region.
void InitRing(uint8_t* region, uint64_t capacity);

class RingProducer {
 public:
  // `region` was set up by InitRing.
  void Attach(uint8_t* region, uint64_t capacity);

  // Room for a record with `body_bytes` of body, or nullptr when the ring is
  // full right now (or body_bytes > RingMaxBodyBytes). Nothing is visible to
  // the consumer until Commit.
  uint8_t* Reserve(size_t body_bytes);
  // Publishes the reserved record.
  void Commit(uint32_t type);

  uint64_t capacity() const { return capacity_; }

 private:
  bool HasRoom(uint64_t bytes);

  uint8_t* data_ = nullptr;
  uint64_t* consumed_ = nullptr;  // shared: the consumer's position
  uint64_t capacity_ = 0;
  uint64_t head_ = 0;         // next record position
  uint64_t cached_tail_ = 0;  // last consumer position we read
  uint64_t reserved_bytes_ = 0;
};

struct RingRecord {
  uint32_t type;
  const uint8_t* body;
  size_t body_bytes;
};

class RingConsumer {
 public:
  enum class Peek { kEmpty, kRecord, kCorrupt };

  // Checks the control block a peer wrote: magic and capacity.
  absl::Status Attach(uint8_t* region, size_t region_bytes);

  // The oldest unread record (padding is skipped). kCorrupt: a header that
  // cannot be right (a record crossing the end of the ring); the ring is
  // unusable from then on.
  Peek Next(RingRecord* record);
  // Frees the record Next returned; its body must not be read afterwards.
  void Release();

 private:
  uint8_t* data_ = nullptr;
  uint64_t* consumed_ = nullptr;
  uint64_t capacity_ = 0;
  uint64_t tail_ = 0;
  uint64_t pending_bytes_ = 0;
};

}  // namespace mc::shm

#endif  // MOONCOMM_SRC_TRANSPORTS_SHM_SPSC_RING_H_
