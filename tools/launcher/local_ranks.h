// Starts N local ranks of a program as real processes (fork + exec), with
// MC_RANK / MC_WORLD_SIZE / MC_BOOTSTRAP set, and waits for them. Used by the
// tools' `--np N` and by the multi-process tests.
#ifndef MOONCOMM_TOOLS_LAUNCHER_LOCAL_RANKS_H_
#define MOONCOMM_TOOLS_LAUNCHER_LOCAL_RANKS_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace mc {

struct LocalLaunch {
  std::vector<std::string> argv;  // argv[0] is the program path
  int num_ranks = 2;
  std::map<std::string, std::string> env;  // added to (or replacing in) our environment
  absl::Duration timeout = absl::Minutes(5);  // then every rank still running is SIGKILLed
  // When a rank fails (non-zero exit or a signal), kill the others at once.
  bool kill_all_on_failure = true;
};

struct RankExit {
  int rank = -1;
  bool exited = false;   // exited normally (else killed by a signal)
  int exit_code = -1;
  int signal = 0;
  bool timed_out = false;  // killed by us at the timeout
};

// Runs the ranks to completion. Errors only for failures to start.
absl::StatusOr<std::vector<RankExit>> RunLocalRanks(const LocalLaunch& launch);

// True when a launcher (MC_RANK, torchrun, Open MPI, Slurm) already started
// this process as one rank of many.
bool StartedByLauncher();

// A TCP port on 127.0.0.1 that was free a moment ago.
absl::StatusOr<int> PickFreePort();

// "rank 1: exited with code 3", "rank 2: killed by signal 9 (timed out)".
std::string Describe(const RankExit& exit);

}  // namespace mc

#endif  // MOONCOMM_TOOLS_LAUNCHER_LOCAL_RANKS_H_
