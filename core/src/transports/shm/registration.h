// Memory registered with the shm transport, and remote keys for a peer's.
// Registration costs nothing here (CMA needs no pinning); the table exists so
// the target of a put can check that the put lands inside memory it
// registered, under a key it has not deregistered.
#ifndef MOONCOMM_SRC_TRANSPORTS_SHM_REGISTRATION_H_
#define MOONCOMM_SRC_TRANSPORTS_SHM_REGISTRATION_H_

#include <cstddef>
#include <cstdint>
#include <memory>

#include "absl/container/flat_hash_map.h"

namespace mc::shm {

struct Registration {
  uint64_t key_id = 0;
  uint64_t base = 0;
  uint64_t length = 0;

  bool Covers(uint64_t addr, uint64_t bytes) const;
};

struct RemoteKey {
  static constexpr uint64_t kMagic = 0x5945'4b52'4853'4d43ull;
  uint64_t magic = kMagic;
  void* owner = nullptr;  // the RemoteKeySet holding it
  uint64_t nonce = 0;     // the peer context that packed it
  uint64_t key_id = 0;
  uint64_t base = 0;
  uint64_t length = 0;

  bool Covers(uint64_t addr, uint64_t bytes) const;
};

// [addr, addr + bytes) inside [base, base + length), without overflow.
bool RangeInside(uint64_t addr, uint64_t bytes, uint64_t base, uint64_t length);

// Handles are checked by pointer value and never dereferenced before that,
// so a stale or foreign handle (deregistering twice) is an error, not a crash.
class RegistrationTable {
 public:
  Registration* Add(uint64_t base, uint64_t length);
  bool Remove(const Registration* reg);  // false if it is not a live registration of ours
  const Registration* Find(uint64_t key_id) const;
  bool Owns(const Registration* reg) const { return owned_.contains(reg); }

 private:
  uint64_t next_key_id_ = 1;
  absl::flat_hash_map<const Registration*, std::unique_ptr<Registration>> owned_;
  absl::flat_hash_map<uint64_t, const Registration*> by_key_;
};

// The remote keys a context unpacked: finalize frees the ones never released.
class RemoteKeySet {
 public:
  RemoteKey* Add(const RemoteKey& key);
  bool Release(RemoteKey* key);  // false if it is not a live key of this set

 private:
  absl::flat_hash_map<const RemoteKey*, std::unique_ptr<RemoteKey>> keys_;
};

}  // namespace mc::shm

#endif  // MOONCOMM_SRC_TRANSPORTS_SHM_REGISTRATION_H_
