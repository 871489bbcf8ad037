#include "transports/shm/shm_params.h"

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "mooncomm/config.h"
#include "mooncomm/status.h"
#include "transports/shm/spsc_ring.h"
#include "transports/shm/wire.h"

namespace mc::shm {

const mc_param_v1_t kShmParamTable[] = {
    {"EAGER_LIMIT", MC_PARAM_SIZE, "64K",
     "Largest message copied through the shared ring; larger ones are copied once with CMA"},
    {"RING_BYTES", MC_PARAM_SIZE, "1M",
     "Bytes of each direction's shared ring per endpoint (a power of two, 64K to 1G)"},
    {"USE_CMA", MC_PARAM_BOOL, "1",
     "Copy large messages and puts once with process_vm_readv/writev; 0 copies them through the ring "
     "(two pipelined copies, using both processes' CPUs)"},
    {"CMA_CHUNK", MC_PARAM_SIZE, "1M", "Bytes copied per CMA call, so progress stays responsive (4K to 1G)"},
};
const size_t kShmParamCount = sizeof(kShmParamTable) / sizeof(kShmParamTable[0]);

namespace {

constexpr uint64_t kMinRingBytes = 64ull << 10;
constexpr uint64_t kMaxRingBytes = 1ull << 30;
constexpr uint64_t kMinCmaChunk = 4ull << 10;
constexpr uint64_t kMaxCmaChunk = 1ull << 30;

std::string FullName(const char* name) { return absl::StrCat("MC_SHM_", name); }

absl::StatusOr<std::string> RawParam(const mc_host_v1_t& host, const char* name) {
  if (host.get_param == nullptr) return absl::InvalidArgumentError("host has no get_param");
  char value[256];
  mc_result_t result = host.get_param(host.ctx, name, value, sizeof(value));
  if (result != MC_SUCCESS) {
    return absl::InvalidArgumentError(absl::StrCat("cannot read ", FullName(name), ": ", ResultName(result)));
  }
  value[sizeof(value) - 1] = '\0';
  return std::string(value);
}

absl::StatusOr<uint64_t> SizeParam(const mc_host_v1_t& host, const char* name, std::string* text) {
  absl::StatusOr<std::string> raw = RawParam(host, name);
  if (!raw.ok()) return raw.status();
  *text = *raw;
  return config::ParseSize(FullName(name), *raw);
}

}  // namespace

absl::StatusOr<ShmParams> LoadShmParams(const mc_host_v1_t& host) {
  ShmParams params{};
  std::string eager_text, ring_text, chunk_text;

  absl::StatusOr<uint64_t> ring = SizeParam(host, "RING_BYTES", &ring_text);
  if (!ring.ok()) return ring.status();
  if (*ring < kMinRingBytes || *ring > kMaxRingBytes || (*ring & (*ring - 1)) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("MC_SHM_RING_BYTES='", ring_text, "' must be a power of two from 64K to 1G"));
  }
  params.ring_bytes = *ring;

  absl::StatusOr<uint64_t> eager = SizeParam(host, "EAGER_LIMIT", &eager_text);
  if (!eager.ok()) return eager.status();
  // Two eager messages must fit into the ring at once, so the ring pipelines.
  uint64_t max_eager = std::min<uint64_t>(params.ring_bytes / 4, RingMaxBodyBytes(params.ring_bytes) - sizeof(EagerHeader));
  if (*eager > max_eager) {
    return absl::InvalidArgumentError(absl::StrCat("MC_SHM_EAGER_LIMIT='", eager_text, "' must be at most ", max_eager,
                                                   " (a quarter of MC_SHM_RING_BYTES='", ring_text,
                                                   "'); lower it or raise MC_SHM_RING_BYTES"));
  }
  params.eager_limit = *eager;

  absl::StatusOr<std::string> cma_text = RawParam(host, "USE_CMA");
  if (!cma_text.ok()) return cma_text.status();
  absl::StatusOr<bool> use_cma = config::ParseBool("MC_SHM_USE_CMA", *cma_text);
  if (!use_cma.ok()) return use_cma.status();
  params.use_cma = *use_cma;

  absl::StatusOr<uint64_t> chunk = SizeParam(host, "CMA_CHUNK", &chunk_text);
  if (!chunk.ok()) return chunk.status();
  if (*chunk < kMinCmaChunk || *chunk > kMaxCmaChunk) {
    return absl::InvalidArgumentError(absl::StrCat("MC_SHM_CMA_CHUNK='", chunk_text, "' must be from 4K to 1G"));
  }
  params.cma_chunk = *chunk;
  return params;
}

}  // namespace mc::shm
