// What the cost model knows about the machine: the communicator's topology,
// filled in with documented defaults where the transport reported nothing.
#ifndef MOONCOMM_ALGORITHMS_TUNER_MODEL_INPUTS_H_
#define MOONCOMM_ALGORITHMS_TUNER_MODEL_INPUTS_H_

#include <string>

#include "absl/status/statusor.h"

namespace mc::algo {

struct TopologyInfo {
  int world_size = 0;
  // The transport of the slowest link the communicator uses ("shm", "tcp", ...).
  std::string transport;
  double latency_us = 0;      // one-way small-message latency; 0: the transport's default
  double bandwidth_gbps = 0;  // point-to-point rate in Gbit/s; 0: the transport's default
  bool single_host = false;   // every rank on this host
};

// Host constants: one core's memcpy and (vectorized, two inputs one output)
// reduction rates, in bytes per microsecond (1000 bytes/us = 1 GB/s).
inline constexpr double kHostCopyBytesPerUs = 10000;   // 10 GB/s
inline constexpr double kHostReduceBytesPerUs = 8000;  // 8 GB/s

// The resolved inputs, in the units the formulas use.
struct ModelInputs {
  int ranks = 1;
  double latency_us = 0;                               // alpha: a message's one-way latency
  double overhead_us = 0;                              // g: the sender's CPU time per message (posting, a syscall)
  double link_bytes_per_us = 0;                        // B: what one rank can inject (and absorb) per microsecond
  double stream_bytes_per_us = 0;                      // one message stream's cap (a copying core); >= B when uncapped
  double reduce_bytes_per_us = kHostReduceBytesPerUs;  // R
  double copy_bytes_per_us = kHostCopyBytesPerUs;      // local copies (world size 1)
  double incast_penalty = 0;                           // p: lost efficiency per doubling of flows into one rank
  std::string latency_source;                          // "given" or "<transport> default"
  std::string bandwidth_source;
};

// InvalidArgument for world_size < 1 or a negative / non-finite latency or
// bandwidth. Defaults when 0 (see model_inputs.cc):
//   shm:   1 us,  80 Gbit/s; streams capped by a copying core
//   tcp:  20 us,  10 Gbit/s; streams capped by a copying core
//   other (rdma-verbs, ucx, efa, cuda-ipc...): 5 us, 100 Gbit/s; no stream cap
//   ""     (not known): shm's when single_host, else tcp's
absl::StatusOr<ModelInputs> ResolveModelInputs(const TopologyInfo& topo);

}  // namespace mc::algo

#endif  // MOONCOMM_ALGORITHMS_TUNER_MODEL_INPUTS_H_
