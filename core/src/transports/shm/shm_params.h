// The shm transport's MC_SHM_* parameters: declared once here, read through
// the host's get_param at init, and checked together.
#ifndef MOONCOMM_SRC_TRANSPORTS_SHM_SHM_PARAMS_H_
#define MOONCOMM_SRC_TRANSPORTS_SHM_SHM_PARAMS_H_

#include <cstddef>
#include <cstdint>

#include "absl/status/statusor.h"
#include "mooncomm/plugin_abi.h"

namespace mc::shm {

struct ShmParams {
  uint64_t eager_limit;  // messages up to this size are copied through the ring
  uint64_t ring_bytes;   // data bytes of each direction's ring
  bool use_cma;          // large messages and puts by process_vm_readv/writev
  uint64_t cma_chunk;    // bytes per CMA call
};

extern const mc_param_v1_t kShmParamTable[];
extern const size_t kShmParamCount;

// Reads every param through host->get_param. Errors name the variable and
// its value: "MC_SHM_RING_BYTES='100000' must be a power of two ...".
absl::StatusOr<ShmParams> LoadShmParams(const mc_host_v1_t& host);

}  // namespace mc::shm

#endif  // MOONCOMM_SRC_TRANSPORTS_SHM_SHM_PARAMS_H_
