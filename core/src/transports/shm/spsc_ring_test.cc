#include "transports/shm/spsc_ring.h"

#include <sys/mman.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "transports/shm/shm_test_util.h"

namespace mc::shm {
namespace {

// A ring in anonymous shared memory, so a forked child shares it too.
class RingMemory {
 public:
  explicit RingMemory(uint64_t capacity) : capacity_(capacity), bytes_(RingRegionBytes(capacity)) {
    void* p = ::mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    region_ = p == MAP_FAILED ? nullptr : static_cast<uint8_t*>(p);
    if (region_ != nullptr) InitRing(region_, capacity);
  }
  ~RingMemory() {
    if (region_ != nullptr) ::munmap(region_, bytes_);
  }
  uint8_t* region() const { return region_; }
  size_t bytes() const { return bytes_; }
  uint64_t capacity() const { return capacity_; }
  uint8_t* data() const { return region_ + kRingControlBytes; }

 private:
  uint64_t capacity_;
  size_t bytes_;
  uint8_t* region_;
};

class RingTest : public ::testing::Test {
 protected:
  void SetUp() override { Attach(4096); }
  void Attach(uint64_t capacity) {
    memory_ = std::make_unique<RingMemory>(capacity);
    ASSERT_NE(memory_->region(), nullptr);
    producer_.Attach(memory_->region(), capacity);
    ASSERT_TRUE(consumer_.Attach(memory_->region(), memory_->bytes()).ok());
  }

  // Writes a record whose body is `len` bytes of pattern `seed`.
  bool Put(uint32_t type, size_t len, uint64_t seed) {
    uint8_t* body = producer_.Reserve(len);
    if (body == nullptr) return false;
    testing::FillPattern(body, len, seed);
    producer_.Commit(type);
    return true;
  }

  // Reads one record and checks it.
  void Expect(uint32_t type, size_t len, uint64_t seed) {
    RingRecord record;
    ASSERT_EQ(consumer_.Next(&record), RingConsumer::Peek::kRecord);
    EXPECT_EQ(record.type, type);
    ASSERT_EQ(record.body_bytes, len);
    EXPECT_EQ(testing::FirstMismatch(record.body, len, seed), -1);
    consumer_.Release();
  }

  std::unique_ptr<RingMemory> memory_;
  RingProducer producer_;
  RingConsumer consumer_;
};

TEST_F(RingTest, EmptyRingHasNoRecord) {
  RingRecord record;
  EXPECT_EQ(consumer_.Next(&record), RingConsumer::Peek::kEmpty);
}

TEST_F(RingTest, RecordsComeOutInOrderWithTheirContent) {
  for (uint32_t i = 0; i < 10; ++i) ASSERT_TRUE(Put(i + 1, i * 13, i));
  for (uint32_t i = 0; i < 10; ++i) Expect(i + 1, i * 13, i);
  RingRecord record;
  EXPECT_EQ(consumer_.Next(&record), RingConsumer::Peek::kEmpty);
}

TEST_F(RingTest, NothingIsVisibleBeforeCommit) {
  uint8_t* body = producer_.Reserve(100);
  ASSERT_NE(body, nullptr);
  RingRecord record;
  EXPECT_EQ(consumer_.Next(&record), RingConsumer::Peek::kEmpty);
  producer_.Commit(7);
  EXPECT_EQ(consumer_.Next(&record), RingConsumer::Peek::kRecord);
}

TEST_F(RingTest, FullRingRefusesUntilTheConsumerReleases) {
  int written = 0;
  while (Put(1, 1000, written)) ++written;
  // 4096 bytes hold three 1024-byte records plus the stamp slot, not four.
  EXPECT_EQ(written, 3);
  Expect(1, 1000, 0);
  EXPECT_TRUE(Put(1, 1000, written));
  for (int i = 1; i <= written; ++i) Expect(1, 1000, i);
}

TEST_F(RingTest, LargestRecordFitsAnEmptyRingAtAnyPosition) {
  size_t max_body = RingMaxBodyBytes(memory_->capacity());
  EXPECT_EQ(producer_.Reserve(max_body + 1), nullptr);
  // Walk the positions through the ring in 16-byte steps.
  for (int step = 0; step < 4096 / 16 + 3; ++step) {
    ASSERT_TRUE(Put(2, max_body, step)) << "step " << step;
    Expect(2, max_body, step);
    ASSERT_TRUE(Put(3, 0, 0));
    Expect(3, 0, 0);
  }
}

TEST_F(RingTest, WrapsAroundManyTimesWithRandomSizes) {
  Attach(64 << 10);
  std::mt19937_64 rng(42);
  size_t max_body = RingMaxBodyBytes(memory_->capacity());
  std::deque<std::pair<size_t, uint64_t>> in_flight;
  uint64_t seed = 0;
  uint64_t total = 0;
  for (int round = 0; round < 20000; ++round) {
    if (rng() % 2 == 0) {
      size_t len = rng() % 8 == 0 ? rng() % (max_body + 1) : rng() % 300;
      if (Put(static_cast<uint32_t>(1 + len % 7), len, seed)) {
        in_flight.emplace_back(len, seed++);
        total += len;
      }
    } else if (!in_flight.empty()) {
      auto [len, s] = in_flight.front();
      in_flight.pop_front();
      Expect(static_cast<uint32_t>(1 + len % 7), len, s);
      if (HasFailure()) return;
    }
  }
  while (!in_flight.empty()) {
    Expect(static_cast<uint32_t>(1 + in_flight.front().first % 7), in_flight.front().first, in_flight.front().second);
    in_flight.pop_front();
  }
  EXPECT_GT(total, 20u * memory_->capacity()) << "the test should wrap the ring many times";
}

TEST_F(RingTest, StalePayloadNeverLooksLikeARecord) {
  // Fill the ring with payload words equal to the stamps that records in
  // the next lap would carry at each offset.
  uint64_t capacity = memory_->capacity();
  size_t body = RingMaxBodyBytes(capacity);
  for (int lap = 0; lap < 4; ++lap) {
    uint8_t* p = producer_.Reserve(body);
    ASSERT_NE(p, nullptr);
    uint64_t body_offset = static_cast<uint64_t>(p - memory_->data());
    for (size_t i = 0; i + 8 <= body; i += 8) {
      uint64_t offset = body_offset + i;
      uint64_t fake = (offset + capacity * (lap + 1)) | 1;
      std::memcpy(p + i, &fake, 8);
    }
    producer_.Commit(9);
    RingRecord record;
    ASSERT_EQ(consumer_.Next(&record), RingConsumer::Peek::kRecord);
    consumer_.Release();
    // Small records walk over the old payload; the consumer must see exactly them.
    for (int i = 0; i < 40; ++i) {
      ASSERT_TRUE(Put(4, 24, i));
      Expect(4, 24, i);
      ASSERT_EQ(consumer_.Next(&record), RingConsumer::Peek::kEmpty) << "phantom record, lap " << lap;
    }
  }
}

TEST_F(RingTest, CorruptHeaderIsReported) {
  ASSERT_TRUE(Put(1, 16, 0));
  // Make the published header claim a body running past the end of the ring.
  uint32_t huge = 1u << 30;
  std::memcpy(memory_->data() + 12, &huge, sizeof(huge));
  RingRecord record;
  EXPECT_EQ(consumer_.Next(&record), RingConsumer::Peek::kCorrupt);
}

TEST(RingAttachTest, RejectsBadControlBlocks) {
  RingMemory memory(4096);
  RingConsumer consumer;
  EXPECT_FALSE(consumer.Attach(memory.region(), memory.bytes() + 4096).ok()) << "size disagrees with capacity";
  InitRing(memory.region(), 3000);
  EXPECT_FALSE(consumer.Attach(memory.region(), memory.bytes()).ok()) << "capacity not a power of two";
  std::memset(memory.region(), 0, 8);
  EXPECT_FALSE(consumer.Attach(memory.region(), memory.bytes()).ok()) << "bad magic";
  EXPECT_FALSE(IsValidRingCapacity(0));
  EXPECT_FALSE(IsValidRingCapacity(4097));
  EXPECT_TRUE(IsValidRingCapacity(1 << 20));
}

// A producer process and a consumer process hammer one ring; every record
// carries its sequence number and a pattern derived from it.
TEST(RingTwoProcessTest, ForkedProducerAndConsumerAgreeOnEveryRecord) {
  constexpr uint64_t kRecords = 50000;
  RingMemory memory(64 << 10);
  ASSERT_NE(memory.region(), nullptr);
  testing::ChildProcess producer_process([&]() -> int {
    RingProducer producer;
    producer.Attach(memory.region(), memory.capacity());
    auto deadline = std::chrono::steady_clock::now() + testing::kDeadline;
    for (uint64_t seq = 0; seq < kRecords; ++seq) {
      size_t len = 8 + (seq * 7919) % 2000;
      uint8_t* body;
      while ((body = producer.Reserve(len)) == nullptr) {
        if (std::chrono::steady_clock::now() > deadline) return 3;
        testing::YieldIfCrowded();
      }
      std::memcpy(body, &seq, 8);
      testing::FillPattern(body + 8, len - 8, seq);
      producer.Commit(static_cast<uint32_t>(1 + seq % 5));
    }
    return 0;
  });
  RingConsumer consumer;
  ASSERT_TRUE(consumer.Attach(memory.region(), memory.bytes()).ok());
  auto deadline = std::chrono::steady_clock::now() + testing::kDeadline;
  for (uint64_t seq = 0; seq < kRecords; ++seq) {
    RingRecord record;
    RingConsumer::Peek peek;
    while ((peek = consumer.Next(&record)) == RingConsumer::Peek::kEmpty) {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "stalled at record " << seq;
      testing::YieldIfCrowded();
    }
    ASSERT_EQ(peek, RingConsumer::Peek::kRecord);
    size_t len = 8 + (seq * 7919) % 2000;
    ASSERT_EQ(record.body_bytes, len);
    ASSERT_EQ(record.type, 1 + seq % 5);
    uint64_t got;
    std::memcpy(&got, record.body, 8);
    ASSERT_EQ(got, seq);
    ASSERT_EQ(testing::FirstMismatch(record.body + 8, len - 8, seq), -1) << "record " << seq;
    consumer.Release();
  }
  EXPECT_EQ(producer_process.Wait(), 0);
}

}  // namespace
}  // namespace mc::shm
