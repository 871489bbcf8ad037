// Which registration a buffer passed without one gets: the caller's own
// (reg()), a cached one, or one made for the operation and dropped after.
#include "registration_cache.h"

#include <vector>

#include "fake_fabric.h"
#include "gtest/gtest.h"

namespace mc::rdma {
namespace {

using ::mc::rdma::testing::FakeMemoryDomain;

TEST(RegistrationCacheTest, UncachedRegistrationsLiveForTheOperation) {
  FakeMemoryDomain domain(1);
  RegistrationCache cache(&domain, /*cache_unregistered=*/false, false, 8);
  std::vector<char> buf(100000);
  StatusOr<RegRef> a = cache.Acquire(buf.data() + 5, 70000);
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(domain.Covers(a->lkey, reinterpret_cast<uint64_t>(buf.data() + 5), 70000));
  StatusOr<RegRef> b = cache.Acquire(buf.data() + 5, 70000);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(domain.register_calls(), 2) << "nothing is shared when caching is off";
  EXPECT_EQ(domain.live(), 2u);
  cache.Release(&*a);
  cache.Release(&*b);
  EXPECT_EQ(domain.live(), 0u);
  EXPECT_EQ(cache.live_registrations(), 0u);
  EXPECT_EQ(a->entry, nullptr) << "Release clears the reference";
}

TEST(RegistrationCacheTest, CachedRegistrationsAreReused) {
  FakeMemoryDomain domain(1);
  RegistrationCache cache(&domain, true, false, 8);
  std::vector<char> buf(1 << 20);
  StatusOr<RegRef> a = cache.Acquire(buf.data(), buf.size());
  ASSERT_TRUE(a.ok());
  cache.Release(&*a);
  EXPECT_EQ(domain.live(), 1u) << "kept after release";
  StatusOr<RegRef> b = cache.Acquire(buf.data() + 4096, 1000);  // inside the cached range
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(domain.register_calls(), 1);
  EXPECT_EQ(cache.hits(), 1u);
  cache.Release(&*b);
}

TEST(RegistrationCacheTest, IdleEntriesAreEvictedLeastRecentlyUsedFirst) {
  FakeMemoryDomain domain(1);
  RegistrationCache cache(&domain, true, false, 2);
  std::vector<std::vector<char>> bufs(4, std::vector<char>(3 * 4096));
  StatusOr<RegRef> busy = cache.Acquire(bufs[0].data() + 4096, 10);  // held throughout
  ASSERT_TRUE(busy.ok());
  for (int i = 1; i < 4; ++i) {
    StatusOr<RegRef> r = cache.Acquire(bufs[i].data() + 4096, 10);
    ASSERT_TRUE(r.ok());
    cache.Release(&*r);
  }
  EXPECT_EQ(cache.cached_entries(), 2u);
  EXPECT_EQ(domain.live(), 2u);
  // The held entry survived; the newest idle one too.
  const int calls = domain.register_calls();
  StatusOr<RegRef> again = cache.Acquire(bufs[0].data() + 4096, 10);
  StatusOr<RegRef> newest = cache.Acquire(bufs[3].data() + 4096, 10);
  EXPECT_EQ(domain.register_calls(), calls);
  cache.Release(&*again);
  cache.Release(&*newest);
  cache.Release(&*busy);
}

TEST(RegistrationCacheTest, CallerRegistrationsComeFirst) {
  FakeMemoryDomain domain(1);
  RegistrationCache cache(&domain, true, false, 8);
  std::vector<char> buf(50000);
  StatusOr<MemoryRegion> user = domain.Register(buf.data(), buf.size(), false);
  ASSERT_TRUE(user.ok());
  cache.AddUserRegion(*user);
  StatusOr<RegRef> r = cache.Acquire(buf.data() + 100, 1000);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->lkey, user->lkey);
  EXPECT_EQ(r->entry, nullptr);
  EXPECT_EQ(domain.register_calls(), 1);
  StatusOr<RegRef> outside = cache.Acquire(buf.data() + 49000, 2000);  // runs past the user region
  ASSERT_TRUE(outside.ok());
  EXPECT_NE(outside->lkey, user->lkey);
  cache.Release(&*outside);
  cache.RemoveUserRegion(*user);
  StatusOr<RegRef> after = cache.Acquire(buf.data() + 100, 1000);
  ASSERT_TRUE(after.ok());
  EXPECT_NE(after->lkey, user->lkey);
  cache.Release(&*after);
  domain.Deregister(*user);
}

TEST(RegistrationCacheTest, OnDemandPagingIsUsedForCachedEntries) {
  FakeMemoryDomain domain(1, /*on_demand=*/true);
  RegistrationCache cache(&domain, true, true, 8);
  std::vector<char> buf(10000);
  StatusOr<RegRef> r = cache.Acquire(buf.data(), buf.size());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(domain.on_demand_registrations(), 1);
  cache.Release(&*r);
}

TEST(RegistrationCacheTest, FailuresAreReported) {
  FakeMemoryDomain domain(1);
  RegistrationCache cache(&domain, true, false, 8);
  std::vector<char> buf(10000);
  domain.FailNextRegister();
  StatusOr<RegRef> r = cache.Acquire(buf.data(), buf.size());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), MC_ERR_NO_MEMORY);
  EXPECT_EQ(cache.cached_entries(), 0u);
  EXPECT_FALSE(cache.Acquire(buf.data(), 0).ok());
}

}  // namespace
}  // namespace mc::rdma
