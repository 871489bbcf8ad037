// Host memory registered with the tcp transport, and the keys peers use to
// put into it. TCP needs no pinning: a registration only names a range that
// remote puts may write, and the key that the target checks them against.
#ifndef MOONCOMM_SRC_TRANSPORTS_TCP_MEMORY_REGISTRY_H_
#define MOONCOMM_SRC_TRANSPORTS_TCP_MEMORY_REGISTRY_H_

#include <cstddef>
#include <cstdint>
#include <memory>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "mooncomm/plugin_abi.h"

namespace mc::tcp {

struct Registration {
  static constexpr uint32_t kMagic = 0x524d4354;  // "TCMR"
  uint32_t magic = kMagic;
  uint32_t key = 0;
  uint64_t base = 0;
  uint64_t length = 0;
};

// A peer's registration as described by its packed key, valid on one endpoint.
struct RemoteKey {
  static constexpr uint32_t kMagic = 0x4b524354;  // "TCRK"
  uint32_t magic = kMagic;
  const void* ep = nullptr;  // the endpoint it was unpacked for (compared, never used)
  class MemoryRegistry* registry = nullptr;  // the one that owns this key
  uint32_t key = 0;
  uint64_t base = 0;
  uint64_t length = 0;
};

inline constexpr size_t kPackedKeyBytes = 24;

// True when [addr, addr + n) lies inside [base, base + length), without overflow.
inline bool RangeInside(uint64_t base, uint64_t length, uint64_t addr, uint64_t n) {
  return addr >= base && n <= length && addr - base <= length - n;
}

// Packed key: "TCK1" magic (4 bytes), key (4), base (8), length (8), little-endian.
void PackKey(const Registration& reg, uint8_t out[kPackedKeyBytes]);
absl::StatusOr<RemoteKey> UnpackKey(absl::Span<const uint8_t> packed);

class MemoryRegistry {
 public:
  MemoryRegistry() = default;
  MemoryRegistry(const MemoryRegistry&) = delete;
  MemoryRegistry& operator=(const MemoryRegistry&) = delete;
  ~MemoryRegistry();

  mc_result_t Register(void* ptr, size_t len, mc_mem_kind_t kind, Registration** out);
  // False when `reg` is not a live registration of this registry.
  bool Deregister(Registration* reg);
  // The live registration of `key`, or null.
  const Registration* Find(uint32_t key) const;

  RemoteKey* AddRemoteKey(const RemoteKey& key);
  bool ReleaseRemoteKey(RemoteKey* key);

 private:
  absl::flat_hash_map<uint32_t, Registration*> regs_;
  absl::flat_hash_set<RemoteKey*> remote_keys_;
  uint32_t next_key_ = 1;
};

}  // namespace mc::tcp

#endif  // MOONCOMM_SRC_TRANSPORTS_TCP_MEMORY_REGISTRY_H_
