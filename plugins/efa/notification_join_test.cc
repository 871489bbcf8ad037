#include "notification_join.h"

#include "gtest/gtest.h"

namespace mc::efa {
namespace {

mc_notification_v1_t Note(uint64_t value, uint64_t addr, size_t bytes) { return {value, addr, bytes}; }

TEST(NotificationJoinTest, ReleasedOnlyOnceDataAndInfoAreIn) {
  NotificationJoin join(8);
  mc_notification_v1_t n;
  join.OnInfo(1, Note(0x10, 0x1000, 64));
  EXPECT_FALSE(join.Pop(&n)) << "the info alone must not release a put with data";
  join.OnDataWritten(1);
  ASSERT_TRUE(join.Pop(&n));
  EXPECT_EQ(n.value, 0x10u);
  EXPECT_EQ(n.addr, 0x1000u);
  EXPECT_EQ(n.bytes, 64u);
  EXPECT_EQ(join.waiting(), 0u);

  join.OnDataWritten(2);  // the data first this time
  EXPECT_FALSE(join.Pop(&n));
  join.OnInfo(2, Note(0x20, 0x2000, 8));
  ASSERT_TRUE(join.Pop(&n));
  EXPECT_EQ(n.value, 0x20u);
}

TEST(NotificationJoinTest, ZeroBytePutNeedsNoData) {
  NotificationJoin join(8);
  join.OnInfo(5, Note(7, 0x3000, 0));
  mc_notification_v1_t n;
  ASSERT_TRUE(join.Pop(&n));
  EXPECT_EQ(n.value, 7u);
  EXPECT_EQ(join.waiting(), 0u);
}

TEST(NotificationJoinTest, ShortCqDataMatchesTheLowBytes) {
  NotificationJoin join(4);  // efa carries 4 bytes of CQ data
  const uint64_t seq = (uint64_t{3} << 32) | 0x1234;
  join.OnInfo(seq, Note(1, 2, 3));
  join.OnDataWritten(0x1234);
  mc_notification_v1_t n;
  ASSERT_TRUE(join.Pop(&n));
  EXPECT_EQ(n.value, 1u);
}

TEST(NotificationJoinTest, ManyOutOfOrderPutsEachReleasedOnce) {
  NotificationJoin join(8);
  for (uint64_t s = 0; s < 100; ++s) {
    if (s % 2 == 0) join.OnDataWritten(s);
    join.OnInfo(s, Note(s, s * 16, 16));
  }
  for (uint64_t s = 1; s < 100; s += 2) join.OnDataWritten(s);
  int released = 0;
  mc_notification_v1_t n;
  std::vector<bool> seen(100, false);
  while (join.Pop(&n)) {
    ASSERT_LT(n.value, 100u);
    EXPECT_FALSE(seen[n.value]);
    seen[n.value] = true;
    ++released;
  }
  EXPECT_EQ(released, 100);
  EXPECT_EQ(join.waiting(), 0u);
}

}  // namespace
}  // namespace mc::efa
