#include "transports/shm/registration.h"

namespace mc::shm {

bool RangeInside(uint64_t addr, uint64_t bytes, uint64_t base, uint64_t length) {
  if (addr < base) return false;
  uint64_t start = addr - base;
  return start <= length && bytes <= length - start;
}

bool Registration::Covers(uint64_t addr, uint64_t bytes) const { return RangeInside(addr, bytes, base, length); }
bool RemoteKey::Covers(uint64_t addr, uint64_t bytes) const { return RangeInside(addr, bytes, base, length); }

Registration* RegistrationTable::Add(uint64_t base, uint64_t length) {
  auto reg = std::make_unique<Registration>();
  reg->key_id = next_key_id_++;  // never reused: a stale key never matches
  reg->base = base;
  reg->length = length;
  Registration* raw = reg.get();
  by_key_.emplace(raw->key_id, raw);
  owned_.emplace(raw, std::move(reg));
  return raw;
}

bool RegistrationTable::Remove(const Registration* reg) {
  auto it = owned_.find(reg);
  if (it == owned_.end()) return false;
  by_key_.erase(reg->key_id);
  owned_.erase(it);
  return true;
}

const Registration* RegistrationTable::Find(uint64_t key_id) const {
  auto it = by_key_.find(key_id);
  return it == by_key_.end() ? nullptr : it->second;
}

RemoteKey* RemoteKeySet::Add(const RemoteKey& key) {
  auto owned = std::make_unique<RemoteKey>(key);
  owned->owner = this;
  RemoteKey* raw = owned.get();
  keys_.emplace(raw, std::move(owned));
  return raw;
}

bool RemoteKeySet::Release(RemoteKey* key) {
  auto it = keys_.find(key);
  if (it == keys_.end()) return false;
  key->magic = 0;
  keys_.erase(it);
  return true;
}

}  // namespace mc::shm
