#include "transports/shm/spsc_ring.h"

#include <atomic>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace mc::shm {
namespace {

constexpr uint64_t kRingMagic = 0x474e4952'4d485343ull;  // "CSHMRING"
constexpr uint64_t kMinCapacity = 4096;
constexpr uint64_t kMaxCapacity = 1ull << 30;

// The control block. The consumer's position sits on its own cache line so
// the producer's reads of it never share a line with anything else.
struct RingControl {
  uint64_t magic;
  uint64_t capacity;
  alignas(64) uint64_t consumed;
};
static_assert(sizeof(RingControl) <= kRingControlBytes);

struct RecordHeader {
  uint64_t stamp;  // position | 1 once published; 0 or stale otherwise
  uint32_t type;
  uint32_t body_bytes;
};
static_assert(sizeof(RecordHeader) == kRingHeaderBytes);

uint64_t AlignRecord(uint64_t bytes) { return (bytes + kRingRecordAlign - 1) & ~(kRingRecordAlign - 1); }

uint64_t LoadAcquire(uint64_t* p) { return std::atomic_ref<uint64_t>(*p).load(std::memory_order_acquire); }
void StoreRelease(uint64_t* p, uint64_t v) { std::atomic_ref<uint64_t>(*p).store(v, std::memory_order_release); }
void StoreRelaxed(uint64_t* p, uint64_t v) { std::atomic_ref<uint64_t>(*p).store(v, std::memory_order_relaxed); }

RecordHeader* HeaderAt(uint8_t* data, uint64_t offset) { return reinterpret_cast<RecordHeader*>(data + offset); }

// A record (header included) must leave room for a pad and the stamp slot
// behind it; half the ring minus one slot always fits into an empty ring.
uint64_t MaxRecordBytes(uint64_t capacity) { return capacity / 2 - kRingRecordAlign; }

}  // namespace

bool IsValidRingCapacity(uint64_t capacity) {
  return capacity >= kMinCapacity && capacity <= kMaxCapacity && (capacity & (capacity - 1)) == 0;
}

size_t RingMaxBodyBytes(uint64_t capacity) { return MaxRecordBytes(capacity) - kRingHeaderBytes; }

void InitRing(uint8_t* region, uint64_t capacity) {
  auto* control = reinterpret_cast<RingControl*>(region);
  control->magic = kRingMagic;
  control->capacity = capacity;
  StoreRelaxed(&control->consumed, 0);
}

void RingProducer::Attach(uint8_t* region, uint64_t capacity) {
  data_ = region + kRingControlBytes;
  consumed_ = &reinterpret_cast<RingControl*>(region)->consumed;
  capacity_ = capacity;
  head_ = 0;
  cached_tail_ = 0;
  reserved_bytes_ = 0;
}

bool RingProducer::HasRoom(uint64_t bytes) {
  if (head_ + bytes - cached_tail_ <= capacity_) return true;
  cached_tail_ = LoadAcquire(consumed_);
  return head_ + bytes - cached_tail_ <= capacity_;
}

uint8_t* RingProducer::Reserve(size_t body_bytes) {
  uint64_t size = AlignRecord(kRingHeaderBytes + body_bytes);
  if (body_bytes > RingMaxBodyBytes(capacity_)) return nullptr;
  uint64_t offset = head_ & (capacity_ - 1);
  uint64_t to_end = capacity_ - offset;
  uint64_t pad = size > to_end ? to_end : 0;
  // The record, any padding before it, and the stamp slot behind it.
  if (!HasRoom(pad + size + kRingRecordAlign)) return nullptr;
  if (pad != 0) {
    RecordHeader* header = HeaderAt(data_, offset);
    header->type = kRingPadType;
    header->body_bytes = static_cast<uint32_t>(pad - kRingHeaderBytes);
    StoreRelaxed(&HeaderAt(data_, 0)->stamp, 0);
    StoreRelease(&header->stamp, head_ | 1);
    head_ += pad;
    offset = 0;
  }
  StoreRelaxed(&HeaderAt(data_, (head_ + size) & (capacity_ - 1))->stamp, 0);
  HeaderAt(data_, offset)->body_bytes = static_cast<uint32_t>(body_bytes);
  reserved_bytes_ = size;
  return data_ + offset + kRingHeaderBytes;
}

void RingProducer::Commit(uint32_t type) {
  RecordHeader* header = HeaderAt(data_, head_ & (capacity_ - 1));
  header->type = type;
  StoreRelease(&header->stamp, head_ | 1);
  head_ += reserved_bytes_;
  reserved_bytes_ = 0;
}

absl::Status RingConsumer::Attach(uint8_t* region, size_t region_bytes) {
  if (region_bytes < kRingControlBytes) return absl::InvalidArgumentError("shared ring is too small");
  auto* control = reinterpret_cast<RingControl*>(region);
  uint64_t capacity = control->capacity;
  if (control->magic != kRingMagic) return absl::InvalidArgumentError("shared ring has a bad magic number");
  if (!IsValidRingCapacity(capacity) || RingRegionBytes(capacity) != region_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("shared ring claims ", capacity, " data bytes in a region of ", region_bytes));
  }
  data_ = region + kRingControlBytes;
  consumed_ = &control->consumed;
  capacity_ = capacity;
  tail_ = 0;
  pending_bytes_ = 0;
  return absl::OkStatus();
}

RingConsumer::Peek RingConsumer::Next(RingRecord* record) {
  for (;;) {
    uint64_t offset = tail_ & (capacity_ - 1);
    RecordHeader* header = HeaderAt(data_, offset);
    if (LoadAcquire(&header->stamp) != (tail_ | 1)) return Peek::kEmpty;
    // Read each field once: the peer could change them under us.
    uint32_t type = header->type;
    uint64_t body_bytes = header->body_bytes;
    uint64_t size = AlignRecord(kRingHeaderBytes + body_bytes);
    if (size > capacity_ - offset) return Peek::kCorrupt;
    if (type == kRingPadType) {
      tail_ += size;
      StoreRelease(consumed_, tail_);
      continue;
    }
    record->type = type;
    record->body = data_ + offset + kRingHeaderBytes;
    record->body_bytes = body_bytes;
    pending_bytes_ = size;
    return Peek::kRecord;
  }
}

void RingConsumer::Release() {
  tail_ += pending_bytes_;
  pending_bytes_ = 0;
  StoreRelease(consumed_, tail_);
}

}  // namespace mc::shm
