// Memory-kind detection through the CUDA runtime.
#include <cuda_runtime_api.h>

#include "mooncomm/memory_kind.h"

namespace mc {

bool BuiltWithCuda() { return true; }

mc_mem_kind_t MemoryKindOf(const void* ptr) {
  cudaPointerAttributes attributes{};
  if (cudaPointerGetAttributes(&attributes, ptr) != cudaSuccess) {
    cudaGetLastError();  // no GPU or an unknown pointer: clear the sticky error, treat as host
    return MC_MEM_HOST;
  }
  return attributes.type == cudaMemoryTypeDevice ? MC_MEM_CUDA : MC_MEM_HOST;
}

}  // namespace mc
