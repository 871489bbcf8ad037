#include "transports/tcp/memory_registry.h"

#include <vector>

#include "gtest/gtest.h"

namespace mc::tcp {
namespace {

TEST(TcpMemoryRegistryTest, RangeInsideHandlesEdgesAndOverflow) {
  EXPECT_TRUE(RangeInside(100, 50, 100, 50));
  EXPECT_TRUE(RangeInside(100, 50, 149, 1));
  EXPECT_TRUE(RangeInside(100, 50, 150, 0));
  EXPECT_FALSE(RangeInside(100, 50, 99, 1));
  EXPECT_FALSE(RangeInside(100, 50, 149, 2));
  EXPECT_FALSE(RangeInside(100, 50, 100, 51));
  EXPECT_FALSE(RangeInside(100, 50, 120, UINT64_MAX));
  EXPECT_FALSE(RangeInside(100, 50, UINT64_MAX, 2));
}

TEST(TcpMemoryRegistryTest, RegisterPackUnpack) {
  MemoryRegistry registry;
  std::vector<char> buf(4096);
  Registration* reg = nullptr;
  ASSERT_EQ(registry.Register(buf.data(), buf.size(), MC_MEM_HOST, &reg), MC_SUCCESS);
  uint8_t packed[kPackedKeyBytes];
  PackKey(*reg, packed);
  absl::StatusOr<RemoteKey> key = UnpackKey(packed);
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->key, reg->key);
  EXPECT_EQ(key->base, reinterpret_cast<uintptr_t>(buf.data()));
  EXPECT_EQ(key->length, buf.size());
  EXPECT_EQ(registry.Find(reg->key), reg);
  uint32_t id = reg->key;
  EXPECT_TRUE(registry.Deregister(reg));
  EXPECT_EQ(registry.Find(id), nullptr);
}

TEST(TcpMemoryRegistryTest, RefusesOtherKindsAndBadArguments) {
  MemoryRegistry registry;
  char byte = 0;
  Registration* reg = nullptr;
  EXPECT_EQ(registry.Register(&byte, 1, MC_MEM_CUDA, &reg), MC_ERR_UNSUPPORTED);
  EXPECT_EQ(registry.Register(&byte, 1, MC_MEM_DMABUF, &reg), MC_ERR_UNSUPPORTED);
  EXPECT_EQ(registry.Register(&byte, 1, static_cast<mc_mem_kind_t>(17), &reg), MC_ERR_INVALID_ARG);
  EXPECT_EQ(registry.Register(nullptr, 16, MC_MEM_HOST, &reg), MC_ERR_INVALID_ARG);
}

TEST(TcpMemoryRegistryTest, UnpackRejectsGarbage) {
  uint8_t packed[kPackedKeyBytes] = {};
  EXPECT_FALSE(UnpackKey(packed).ok());  // no magic
  Registration reg;
  reg.key = 1;
  reg.base = UINT64_MAX - 10;
  reg.length = 100;  // wraps around the address space
  PackKey(reg, packed);
  EXPECT_FALSE(UnpackKey(packed).ok());
  reg.length = 5;
  PackKey(reg, packed);
  EXPECT_TRUE(UnpackKey(packed).ok());
  EXPECT_FALSE(UnpackKey(absl::MakeConstSpan(packed, kPackedKeyBytes - 1)).ok());
}

TEST(TcpMemoryRegistryTest, KeysAreDistinctAndRemoteKeysAreOwned) {
  MemoryRegistry registry;
  std::vector<char> buf(64);
  Registration* a = nullptr;
  Registration* b = nullptr;
  ASSERT_EQ(registry.Register(buf.data(), 32, MC_MEM_HOST, &a), MC_SUCCESS);
  ASSERT_EQ(registry.Register(buf.data() + 32, 32, MC_MEM_HOST, &b), MC_SUCCESS);
  EXPECT_NE(a->key, b->key);
  EXPECT_NE(a->key, 0u);
  RemoteKey* rk = registry.AddRemoteKey(RemoteKey{});
  EXPECT_TRUE(registry.ReleaseRemoteKey(rk));
  RemoteKey other;
  EXPECT_FALSE(registry.ReleaseRemoteKey(&other));
  registry.AddRemoteKey(RemoteKey{});  // freed by the registry's destructor (checked by ASan)
}

}  // namespace
}  // namespace mc::tcp
