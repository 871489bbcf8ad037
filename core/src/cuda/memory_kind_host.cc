// Memory-kind detection without CUDA: all memory is host memory.
#include "mooncomm/memory_kind.h"

namespace mc {

bool BuiltWithCuda() { return false; }

mc_mem_kind_t MemoryKindOf(const void*) { return MC_MEM_HOST; }

}  // namespace mc
