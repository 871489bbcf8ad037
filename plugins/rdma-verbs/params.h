// The rdma plugin's parameters (MC_RDMA_*): their declarations for the
// plugin struct, and reading + validating them through the host table.
#ifndef MOONCOMM_PLUGINS_RDMA_VERBS_PARAMS_H_
#define MOONCOMM_PLUGINS_RDMA_VERBS_PARAMS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "mooncomm/plugin_abi.h"
#include "status.h"

namespace mc::rdma {

extern const mc_param_v1_t kRdmaParams[];
extern const size_t kNumRdmaParams;

// What happens to buffers that arrive without a registration.
enum class RegCacheMode {
  kAuto,  // cache them only where the device pages on demand (ODP follows remapped memory)
  kOn,    // cache them always (unsafe if freed memory is reused at the same address)
  kOff,   // register per operation, deregister when it completes
};

struct RdmaConfig {
  std::string devices;                           // MC_RDMA_DEVICES: "" or "mlx5_0,mlx5_1:2"
  int gid_index = -1;                            // MC_RDMA_GID_INDEX: -1 chooses
  int qps_per_peer = 2;                          // MC_RDMA_QPS_PER_PEER
  uint32_t eager_limit = 8192;                   // MC_RDMA_EAGER_LIMIT
  uint32_t recv_depth = 128;                     // MC_RDMA_RECV_DEPTH: receive buffers (credits) per connection
  uint32_t send_depth = 256;                     // MC_RDMA_SEND_DEPTH: send queue entries per QP
  uint64_t chunk_bytes = 1 << 20;                // MC_RDMA_CHUNK_SIZE
  uint8_t ib_timeout = 14;                       // MC_RDMA_IB_TIMEOUT
  uint8_t retry_count = 7;                       // MC_RDMA_RETRY_COUNT
  uint8_t traffic_class = 0;                     // MC_RDMA_TRAFFIC_CLASS
  uint8_t service_level = 0;                     // MC_RDMA_SERVICE_LEVEL
  std::string socket_if;                         // MC_RDMA_SOCKET_IF
  RegCacheMode reg_cache = RegCacheMode::kAuto;  // MC_RDMA_REG_CACHE
  uint32_t reg_cache_entries = 256;              // MC_RDMA_REG_CACHE_ENTRIES
};

// Reads every parameter through host.get_param. A value that does not parse
// or is out of range is MC_ERR_INVALID_ARG naming the variable (env_prefix +
// the param's name) and the value.
StatusOr<RdmaConfig> ReadRdmaConfig(const mc_host_v1_t& host, std::string_view env_prefix = "MC_RDMA_");

// Parsers for one value of the variable `name` (for messages), exposed for tests.
// Ints: optional sign and decimal digits. Sizes: digits with an optional K, M
// or G (powers of 1024). Both reject values outside [min, max].
StatusOr<int64_t> ParseIntParam(std::string_view name, std::string_view text, int64_t min, int64_t max);
StatusOr<uint64_t> ParseSizeParam(std::string_view name, std::string_view text, uint64_t min, uint64_t max);
StatusOr<RegCacheMode> ParseRegCacheMode(std::string_view name, std::string_view text);

}  // namespace mc::rdma

#endif  // MOONCOMM_PLUGINS_RDMA_VERBS_PARAMS_H_
