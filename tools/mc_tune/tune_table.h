// From mc_tune's measurements to the tuning file: per collective, the fastest
// algorithm at each measured size, as rules over size ranges.
#ifndef MOONCOMM_TOOLS_MC_TUNE_TUNE_TABLE_H_
#define MOONCOMM_TOOLS_MC_TUNE_TUNE_TABLE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "mooncomm/collectives.h"
#include "tuner/tuning_file.h"

namespace mc::tune {

struct Measurement {
  CollectiveKind coll = CollectiveKind::kAllreduce;
  uint64_t bytes = 0;      // as the tuner counts them (nccl-tests' size)
  std::string algorithm;
  double time_us = 0;      // median repetition, slowest rank
  double busbw_gbps = 0;
  bool current = false;    // the tuner's choice for this size before the file (the cost model's, or MC_TUNE's)
};

// The fastest algorithm of each (collective, size); on a tie the one measured
// first. The current choice stays unless the fastest beats it by more than
// `margin` (0.05: 5%), so that noise does not overturn the model. In the
// order the collectives and sizes first appear.
struct Winner {
  CollectiveKind coll;
  uint64_t bytes;
  std::string algorithm;
  double time_us;
};
std::vector<Winner> Winners(const std::vector<Measurement>& measurements, double margin = 0);

// Rules from the winners: the winner at a measured size holds from that size
// up to the next measured one; the smallest size's rule starts at 0 and the
// largest's runs to infinity; neighbours with the same winner are merged.
std::vector<algo::TuneRule> RulesFromWinners(const std::vector<Winner>& winners);

// The table mc_tune writes: the rules above for `transport` and `world_size`.
algo::TuningTable MakeTable(const std::vector<Measurement>& measurements, double margin,
                            const std::string& transport, int world_size, std::vector<std::string> comments);

// op,bytes,algorithm,time_us,busbw_gbps,winner,current: one line per measurement.
absl::Status WriteCsv(const std::string& path, const std::vector<Measurement>& measurements, double margin);

}  // namespace mc::tune

#endif  // MOONCOMM_TOOLS_MC_TUNE_TUNE_TABLE_H_
