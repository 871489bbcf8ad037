// Memory-kind detection: host memory is host everywhere; with CUDA and a GPU,
// cudaMalloc'ed memory is CUDA memory.
#include <cstdlib>
#include <vector>

#include "gtest/gtest.h"
#include "mooncomm/memory_kind.h"

#ifdef MC_HAVE_CUDA
#include <cuda_runtime_api.h>
#endif

namespace mc {
namespace {

TEST(MemoryKindTest, HeapAndStackMemoryAreHost) {
  std::vector<char> heap(4096);
  char stack[64];
  EXPECT_EQ(MemoryKindOf(heap.data()), MC_MEM_HOST);
  EXPECT_EQ(MemoryKindOf(stack), MC_MEM_HOST);
  EXPECT_STREQ(MemoryKindName(MC_MEM_HOST), "host");
  EXPECT_STREQ(MemoryKindName(MC_MEM_CUDA), "cuda");
}

TEST(MemoryKindTest, BuildOptionIsReported) {
#ifdef MC_HAVE_CUDA
  EXPECT_TRUE(BuiltWithCuda());
#else
  EXPECT_FALSE(BuiltWithCuda());
#endif
}

#ifdef MC_HAVE_CUDA
TEST(MemoryKindTest, DeviceMemoryIsCudaAndPinnedHostIsHost) {
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    cudaGetLastError();
    GTEST_SKIP() << "no CUDA device on this machine";
  }
  void* device = nullptr;
  void* pinned = nullptr;
  ASSERT_EQ(cudaMalloc(&device, 1 << 20), cudaSuccess);
  ASSERT_EQ(cudaMallocHost(&pinned, 1 << 20), cudaSuccess);
  EXPECT_EQ(MemoryKindOf(device), MC_MEM_CUDA);
  EXPECT_EQ(MemoryKindOf(static_cast<char*>(device) + 4096), MC_MEM_CUDA);
  EXPECT_EQ(MemoryKindOf(pinned), MC_MEM_HOST);
  cudaFree(device);
  cudaFreeHost(pinned);
}
#endif

}  // namespace
}  // namespace mc
