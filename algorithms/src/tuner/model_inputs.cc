// Turns a TopologyInfo into the cost model's inputs.
#include "tuner/model_inputs.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace mc::algo {
namespace {

struct TransportDefaults {
  const char* name;
  double latency_us;
  double bandwidth_gbps;
  bool cpu_copies;  // the data passes through a core's memcpy (one stream <= kHostCopyBytesPerUs)
};

// shm: a polled shared-memory queue: ~1 us, and one core's copy rate.
// tcp: a kernel socket on a typical 10 GbE link, ~20 us with interrupts.
// Everything else is assumed to be an offloading fabric (RDMA-class NIC).
constexpr TransportDefaults kShm = {"shm", 1.0, 80.0, true};
constexpr TransportDefaults kTcp = {"tcp", 20.0, 10.0, true};
constexpr TransportDefaults kOffload = {"network", 5.0, 100.0, false};

const TransportDefaults& DefaultsFor(const TopologyInfo& topo) {
  if (topo.transport == "shm") return kShm;
  if (topo.transport == "tcp") return kTcp;
  if (topo.transport.empty()) return topo.single_host ? kShm : kTcp;
  return kOffload;
}

bool Usable(double value) { return std::isfinite(value) && value >= 0; }

// Gbit/s to bytes per microsecond: 1e9 / 8 bytes per second = 125 bytes/us.
double BytesPerUs(double gbps) { return gbps * 125.0; }

}  // namespace

absl::StatusOr<ModelInputs> ResolveModelInputs(const TopologyInfo& topo) {
  if (topo.world_size < 1) {
    return absl::InvalidArgumentError(absl::StrCat("tuner: world size must be at least 1, not ", topo.world_size));
  }
  if (!Usable(topo.latency_us) || !Usable(topo.bandwidth_gbps)) {
    return absl::InvalidArgumentError(absl::StrCat("tuner: latency (", topo.latency_us, " us) and bandwidth (",
                                                   topo.bandwidth_gbps, " Gbit/s) must be finite and >= 0"));
  }
  const TransportDefaults& defaults = DefaultsFor(topo);
  std::string default_source = absl::StrCat(defaults.name, " default");

  ModelInputs in;
  in.ranks = topo.world_size;
  in.latency_us = topo.latency_us > 0 ? topo.latency_us : defaults.latency_us;
  in.latency_source = topo.latency_us > 0 ? "given" : default_source;
  in.link_bytes_per_us = BytesPerUs(topo.bandwidth_gbps > 0 ? topo.bandwidth_gbps : defaults.bandwidth_gbps);
  in.bandwidth_source = topo.bandwidth_gbps > 0 ? "given" : default_source;
  // One stream is a single core copying when the transport copies on the
  // CPU; otherwise nothing below the link limits it.
  in.stream_bytes_per_us =
      defaults.cpu_copies ? std::min(in.link_bytes_per_us, kHostCopyBytesPerUs) : in.link_bytes_per_us;
  // Posting a message costs the sender about a quarter of the wire latency
  // (a doorbell or a syscall), at least 0.1 us and at most 5 us.
  in.overhead_us = std::clamp(0.25 * in.latency_us, 0.1, 5.0);
  // Many flows into one rank lose efficiency, per doubling of the flows:
  // across hosts switch buffers overflow (incast) and flows back off, 25%;
  // on one host they only compete for memory bandwidth, 5%.
  in.incast_penalty = topo.single_host ? 0.05 : 0.25;
  return in;
}

}  // namespace mc::algo
