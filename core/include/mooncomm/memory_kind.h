// What kind of memory a pointer refers to. Built with CUDA, device memory is
// told apart from host memory; built without, everything is host memory.
#ifndef MOONCOMM_MEMORY_KIND_H_
#define MOONCOMM_MEMORY_KIND_H_

#include "mooncomm/plugin_abi.h"

namespace mc {

// True when this libmooncomm was built with CUDA support.
bool BuiltWithCuda();

// MC_MEM_CUDA for CUDA device memory, MC_MEM_HOST for anything else
// (pageable, pinned and managed host memory). Costs a driver call when
// built with CUDA: keep it off per-message paths.
mc_mem_kind_t MemoryKindOf(const void* ptr);

// "host", "cuda", "dmabuf".
const char* MemoryKindName(mc_mem_kind_t kind);

}  // namespace mc

#endif  // MOONCOMM_MEMORY_KIND_H_
