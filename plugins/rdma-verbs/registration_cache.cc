#include "registration_cache.h"

#include <algorithm>

namespace mc::rdma {

struct CacheEntry {
  MemoryRegion mr;
  uint64_t start = 0;
  uint64_t end = 0;
  uint32_t refs = 0;
  bool cached = false;
  std::list<CacheEntry*>::iterator lru_position;
  std::multimap<uint64_t, CacheEntry*>::iterator map_position;
};

namespace {

constexpr uint64_t kPage = 4096;
// Cached entries looked at below an address before a miss is declared.
constexpr int kLookBehind = 8;

}  // namespace

RegistrationCache::RegistrationCache(MemoryDomain* domain, bool cache_unregistered, bool on_demand,
                                     uint32_t max_entries)
    : domain_(domain),
      cache_unregistered_(cache_unregistered),
      on_demand_(on_demand),
      max_entries_(std::max<uint32_t>(1, max_entries)) {}

RegistrationCache::~RegistrationCache() {
  // Operations still holding entries are gone with their endpoints by now.
  for (CacheEntry* e : lru_) {
    domain_->Deregister(e->mr);
    delete e;
  }
}

void RegistrationCache::AddUserRegion(const MemoryRegion& region) { user_regions_.push_back(region); }

void RegistrationCache::RemoveUserRegion(const MemoryRegion& region) {
  auto it = std::find_if(user_regions_.begin(), user_regions_.end(),
                         [&](const MemoryRegion& r) { return r.handle == region.handle; });
  if (it != user_regions_.end()) user_regions_.erase(it);
}

CacheEntry* RegistrationCache::FindCached(uint64_t start, uint64_t end) {
  auto it = by_start_.upper_bound(start);
  for (int i = 0; i < kLookBehind && it != by_start_.begin(); ++i) {
    --it;
    if (it->second->end >= end) return it->second;
  }
  return nullptr;
}

StatusOr<RegRef> RegistrationCache::Acquire(const void* addr, size_t len) {
  const uint64_t start = reinterpret_cast<uint64_t>(addr);
  if (len == 0 || start + len < start) return InvalidArgument("registration of an empty or wrapping range");
  const uint64_t end = start + len;
  // Newest first: a region registered again after a free is the one that counts.
  for (auto it = user_regions_.rbegin(); it != user_regions_.rend(); ++it) {
    if (it->addr <= start && end <= it->addr + it->length) return RegRef{it->lkey, it->rkey, nullptr};
  }
  if (cache_unregistered_) {
    if (CacheEntry* e = FindCached(start, end)) {
      ++hits_;
      ++e->refs;
      lru_.splice(lru_.begin(), lru_, e->lru_position);
      return RegRef{e->mr.lkey, e->mr.rkey, e};
    }
  }
  ++misses_;
  const uint64_t page_start = start & ~(kPage - 1);
  const uint64_t page_end = (end + kPage - 1) & ~(kPage - 1);
  StatusOr<MemoryRegion> mr =
      domain_->Register(reinterpret_cast<void*>(page_start), page_end - page_start, cache_unregistered_ && on_demand_);
  if (!mr.ok()) return mr.status();
  ++live_registrations_;
  auto* e = new CacheEntry;
  e->mr = *mr;
  e->start = page_start;
  e->end = page_end;
  e->refs = 1;
  e->cached = cache_unregistered_;
  if (e->cached) {
    lru_.push_front(e);
    e->lru_position = lru_.begin();
    e->map_position = by_start_.emplace(page_start, e);
    EvictIdle();
  }
  return RegRef{e->mr.lkey, e->mr.rkey, e};
}

void RegistrationCache::Release(RegRef* ref) {
  CacheEntry* e = ref->entry;
  *ref = RegRef();
  if (e == nullptr) return;
  if (e->refs > 0) --e->refs;
  if (e->refs > 0) return;
  if (!e->cached) {
    Destroy(e);
    return;
  }
  EvictIdle();
}

void RegistrationCache::EvictIdle() {
  auto it = lru_.end();
  while (lru_.size() > max_entries_ && it != lru_.begin()) {
    --it;
    CacheEntry* e = *it;
    if (e->refs > 0) continue;
    it = lru_.erase(it);
    by_start_.erase(e->map_position);
    e->cached = false;
    Destroy(e);
  }
}

void RegistrationCache::Destroy(CacheEntry* e) {
  domain_->Deregister(e->mr);
  --live_registrations_;
  delete e;
}

}  // namespace mc::rdma
