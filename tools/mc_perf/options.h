#ifndef MOONCOMM_TOOLS_MC_PERF_OPTIONS_H_
#define MOONCOMM_TOOLS_MC_PERF_OPTIONS_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace mc::perf {

struct Options {
  std::string mode = "p2p";    // --op p2p (collectives come with the algorithm library)
  uint64_t min_bytes = 8;      // -b
  uint64_t max_bytes = 64ull << 20;  // -e
  uint64_t factor = 2;         // -f
  int iters = 1000;            // -n: timed iterations per repetition at small sizes
  int warmup = 50;             // -w
  int reps = 5;                // -r: repetitions per size; the table shows the median
  int window = 32;             // messages in flight in the bandwidth test
  int np = 0;                  // --np: spawn this many local ranks (0: started by a launcher)
  bool check = false;          // --check: verify received data
};

// Parses argv; errors name the flag and the bad value. `--help` yields
// Cancelled with the usage text as the message.
absl::StatusOr<Options> ParseOptions(int argc, char** argv);

}  // namespace mc::perf

#endif  // MOONCOMM_TOOLS_MC_PERF_OPTIONS_H_
