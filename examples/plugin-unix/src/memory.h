// Registered memory and remote keys. unixdemo moves put data through the
// socket, so "registering" only records a range and gives it a key: the
// target checks each incoming put against that range. An RDMA transport
// would pin the pages and get a hardware key here instead.
#ifndef UNIXDEMO_MEMORY_H_
#define UNIXDEMO_MEMORY_H_

#include <cstddef>
#include <cstdint>

namespace unixdemo {

class Context;

// What reg() returns: a range of our memory that peers may put into.
struct Registration {
  static constexpr uint32_t kMagic = 0x4d445855;  // "UXDM"
  ~Registration() { magic = 0; }

  // True when [addr, addr + len) lies inside the registered range; written
  // so that no sum can overflow.
  bool Covers(uint64_t addr, uint64_t len) const {
    const uint64_t start = reinterpret_cast<uintptr_t>(base);
    return addr >= start && addr - start <= length && len <= length - (addr - start);
  }

  uint32_t magic = kMagic;
  Context* ctx = nullptr;
  uint64_t key = 0;  // the random number a PackedKey carries
  char* base = nullptr;
  size_t length = 0;
};

// What unpack_rkey() returns: a peer's key, usable on the endpoint it was
// unpacked for (keys are per endpoint in the ABI).
struct RemoteKey {
  static constexpr uint32_t kMagic = 0x4b525855;  // "UXRK"
  ~RemoteKey() { magic = 0; }

  uint32_t magic = kMagic;
  Context* ctx = nullptr;
  uint64_t endpoint_id = 0;  // the endpoint's serial number, not its address: it may be closed first
  uint64_t key = 0;
};

}  // namespace unixdemo

#endif  // UNIXDEMO_MEMORY_H_
