// The one place that declares the core's MC_* variables. Plugins declare
// theirs in their mc_plugin_v1 struct.
#include "config/params.h"

namespace mc::config {

const std::vector<ParamSpec>& CoreParams() {
  static const std::vector<ParamSpec> kParams = {
      {"MC_TRANSPORT", ParamType::kString, "auto",
       "Transports to use: auto, one name, or a comma list in order of preference", {}, "core"},
      {"MC_PLUGIN_PATH", ParamType::kString, "",
       "Colon-separated directories searched for transport plugins before the install's lib dir", {}, "core"},
      {"MC_LOG_LEVEL", ParamType::kEnum, "warn", "Log threshold",
       {"error", "warn", "info", "debug", "trace"}, "core"},
      {"MC_TIMEOUT_MS", ParamType::kInt, "30000",
       "A peer that does not answer within this many milliseconds is declared failed", {}, "core"},
      {"MC_RANK", ParamType::kInt, "-1", "This process's rank (else RANK, OMPI_COMM_WORLD_RANK, SLURM_PROCID)", {}, "core"},
      {"MC_WORLD_SIZE", ParamType::kInt, "-1",
       "Number of ranks (else WORLD_SIZE, OMPI_COMM_WORLD_SIZE, SLURM_NTASKS)", {}, "core"},
      {"MC_BOOTSTRAP", ParamType::kString, "",
       "host:port of the rendezvous store hosted by rank 0 (else MASTER_ADDR:MASTER_PORT)", {}, "core"},
      {"MC_BOOTSTRAP_TIMEOUT_MS", ParamType::kInt, "60000",
       "How long to wait for the rendezvous store and for all ranks to arrive", {}, "core"},
      {"MC_HOST_ID", ParamType::kString, "",
       "Overrides this host's identity (default: hostname and boot id); ranks with equal ids share memory", {}, "core"},
      // The algorithm library's (algorithms/).
      {"MC_TUNE", ParamType::kString, "",
       "Algorithm overrides by size, e.g. allreduce:0-64k:tree#allreduce:64k-inf:ring[:chunk=256k][:channels=2]",
       {}, "algorithms"},
      {"MC_TUNING_FILE", ParamType::kString, "", "Tuning table written by mc_tune; MC_TUNE still overrides it", {},
       "algorithms"},
      {"MC_COLL_RETRY", ParamType::kBool, "1",
       "After a rank fails during a collective, finish it over the survivors (0: return the error)", {}, "algorithms"},
  };
  return kParams;
}

}  // namespace mc::config
