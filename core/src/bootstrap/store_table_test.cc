#include "bootstrap/store_table.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mc::bootstrap {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

StoreTable::Waiter MakeWaiter(StoreTable::ClientId client, std::vector<std::string> keys,
                              absl::Time deadline = absl::InfiniteFuture()) {
  return StoreTable::Waiter{client, keys.size() == 1, std::move(keys), deadline};
}

TEST(StoreTableTest, SetFindOverwrite) {
  StoreTable table;
  EXPECT_EQ(table.Find("k"), nullptr);
  table.Set("k", "one");
  ASSERT_NE(table.Find("k"), nullptr);
  EXPECT_EQ(*table.Find("k"), "one");
  table.Set("k", std::string("t\0o", 3));
  EXPECT_EQ(*table.Find("k"), std::string("t\0o", 3));
  EXPECT_EQ(table.size(), 1u);
}

TEST(StoreTableTest, AddCountsFromZeroAndRejectsNonIntegers) {
  StoreTable table;
  std::vector<StoreTable::Waiter> ready;
  EXPECT_EQ(*table.Add("n", 5, &ready), 5);
  EXPECT_EQ(*table.Add("n", -7, &ready), -2);
  EXPECT_EQ(*table.Find("n"), "-2");
  table.Set("text", "abc");
  absl::StatusOr<int64_t> bad = table.Add("text", 1, &ready);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(bad.status().message(), HasSubstr("'text'"));
  table.Set("big", "9223372036854775807");
  absl::StatusOr<int64_t> overflow = table.Add("big", 1, &ready);
  ASSERT_FALSE(overflow.ok());
  EXPECT_EQ(overflow.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(*table.Find("big"), "9223372036854775807");
}

TEST(StoreTableTest, WaiterCompletesOnlyWhenAllKeysExist) {
  StoreTable table;
  table.Park(MakeWaiter(7, {"a", "b"}));
  EXPECT_EQ(table.parked(), 1u);
  EXPECT_THAT(table.Set("a", "1"), IsEmpty());
  EXPECT_THAT(table.Set("x", "1"), IsEmpty());
  std::vector<StoreTable::Waiter> ready = table.Set("b", "2");
  ASSERT_EQ(ready.size(), 1u);
  EXPECT_EQ(ready[0].client, 7u);
  EXPECT_THAT(ready[0].keys, ElementsAre("a", "b"));
  EXPECT_EQ(table.parked(), 0u);
  // Setting again completes nothing more.
  EXPECT_THAT(table.Set("b", "3"), IsEmpty());
}

TEST(StoreTableTest, AddCompletesWaiters) {
  StoreTable table;
  table.Park(MakeWaiter(1, {"count"}));
  table.Park(MakeWaiter(2, {"count"}));
  std::vector<StoreTable::Waiter> ready;
  ASSERT_TRUE(table.Add("count", 1, &ready).ok());
  EXPECT_EQ(ready.size(), 2u);
  EXPECT_EQ(table.parked(), 0u);
}

TEST(StoreTableTest, ExpiryInDeadlineOrder) {
  StoreTable table;
  absl::Time t0 = absl::UnixEpoch();
  table.Park(MakeWaiter(1, {"a"}, t0 + absl::Seconds(3)));
  table.Park(MakeWaiter(2, {"b"}, t0 + absl::Seconds(1)));
  table.Park(MakeWaiter(3, {"c"}));
  EXPECT_EQ(table.NextDeadline(), t0 + absl::Seconds(1));
  EXPECT_THAT(table.TakeExpired(t0), IsEmpty());
  std::vector<StoreTable::Waiter> expired = table.TakeExpired(t0 + absl::Seconds(2));
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(expired[0].client, 2u);
  EXPECT_EQ(table.NextDeadline(), t0 + absl::Seconds(3));
  EXPECT_EQ(table.TakeExpired(t0 + absl::Seconds(5)).size(), 1u);
  EXPECT_EQ(table.NextDeadline(), absl::InfiniteFuture());
  EXPECT_EQ(table.parked(), 1u);  // client 3 has no deadline
}

TEST(StoreTableTest, DroppedClientIsNeverAnswered) {
  StoreTable table;
  table.Park(MakeWaiter(4, {"k"}, absl::UnixEpoch()));
  table.DropClient(4);
  EXPECT_EQ(table.parked(), 0u);
  EXPECT_THAT(table.Set("k", "v"), IsEmpty());
  EXPECT_THAT(table.TakeExpired(absl::InfiniteFuture()), IsEmpty());
}

TEST(StoreTableTest, MissingListsAbsentKeys) {
  StoreTable table;
  table.Set("b", "");
  EXPECT_THAT(table.Missing({"a", "b", "c"}), ElementsAre("a", "c"));
}

}  // namespace
}  // namespace mc::bootstrap
