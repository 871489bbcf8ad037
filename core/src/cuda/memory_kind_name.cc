#include "mooncomm/memory_kind.h"

namespace mc {

const char* MemoryKindName(mc_mem_kind_t kind) {
  switch (kind) {
    case MC_MEM_HOST: return "host";
    case MC_MEM_CUDA: return "cuda";
    case MC_MEM_DMABUF: return "dmabuf";
  }
  return "unknown";
}

}  // namespace mc
