// Registrations for buffers the core hands over without one (isend / irecv
// always do). In order:
//  1. a live registration the caller made with reg() that covers the buffer;
//  2. a cached registration covering it (when caching is on);
//  3. a new registration of the buffer's pages -- cached, or, when caching is
//     off, deregistered as soon as the operation releases it.
// Caching unregistered buffers is only safe where the device pages on demand
// (ODP): a pinned registration keeps the old pages of memory that was freed
// and mapped again at the same address, and would move stale data. Hence
// MC_RDMA_REG_CACHE=auto caches only with ODP.
#ifndef MOONCOMM_PLUGINS_RDMA_VERBS_REGISTRATION_CACHE_H_
#define MOONCOMM_PLUGINS_RDMA_VERBS_REGISTRATION_CACHE_H_

#include <cstddef>
#include <cstdint>
#include <list>
#include <map>
#include <vector>

#include "status.h"
#include "verbs.h"

namespace mc::rdma {

struct CacheEntry;

// What an operation holds while it runs. Copyable keys; `entry` is set when
// the cache must be told at release.
struct RegRef {
  uint32_t lkey = 0;
  uint32_t rkey = 0;
  CacheEntry* entry = nullptr;
};

class RegistrationCache {
 public:
  // `cache_unregistered`: keep registrations of unregistered buffers (step 2/3).
  // `on_demand`: register those with on-demand paging.
  RegistrationCache(MemoryDomain* domain, bool cache_unregistered, bool on_demand, uint32_t max_entries);
  ~RegistrationCache();
  RegistrationCache(const RegistrationCache&) = delete;
  RegistrationCache& operator=(const RegistrationCache&) = delete;

  MemoryDomain* domain() const { return domain_; }

  // Registrations made with reg(), found by address; the cache borrows them.
  void AddUserRegion(const MemoryRegion& region);
  void RemoveUserRegion(const MemoryRegion& region);

  // A registration covering [addr, addr + len), len > 0.
  StatusOr<RegRef> Acquire(const void* addr, size_t len);
  // Gives back what Acquire returned (a no-op for borrowed ones); clears *ref.
  void Release(RegRef* ref);

  // For tests and logs.
  size_t cached_entries() const { return lru_.size(); }
  size_t live_registrations() const { return live_registrations_; }
  uint64_t hits() const { return hits_; }
  uint64_t misses() const { return misses_; }

 private:
  CacheEntry* FindCached(uint64_t start, uint64_t end);
  void EvictIdle();
  void Destroy(CacheEntry* entry);

  MemoryDomain* domain_;
  bool cache_unregistered_;
  bool on_demand_;
  uint32_t max_entries_;
  std::vector<MemoryRegion> user_regions_;
  std::multimap<uint64_t, CacheEntry*> by_start_;  // cached entries
  std::list<CacheEntry*> lru_;                     // cached entries, most recently used first
  size_t live_registrations_ = 0;                  // made here and not yet deregistered
  uint64_t hits_ = 0;
  uint64_t misses_ = 0;
};

}  // namespace mc::rdma

#endif  // MOONCOMM_PLUGINS_RDMA_VERBS_REGISTRATION_CACHE_H_
