// mc_tune's command line.
#ifndef MOONCOMM_TOOLS_MC_TUNE_TUNE_OPTIONS_H_
#define MOONCOMM_TOOLS_MC_TUNE_TUNE_OPTIONS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "mooncomm/collectives.h"
#include "mooncomm/datatype.h"

namespace mc::tune {

struct TuneOptions {
  int np = 0;                          // --np: spawn this many local ranks (0: started by a launcher)
  uint64_t min_bytes = 1ull << 10;     // -b
  uint64_t max_bytes = 16ull << 20;    // -e
  uint64_t factor = 4;                 // -f
  std::vector<CollectiveKind> ops;     // --ops (default: every collective mc_perf measures)
  std::string output = "mooncomm-tuning.txt";  // -o: the tuning file
  std::string chart;                   // --chart PNG ("" after parsing: none); default <output stem>.png
  std::string csv;                     // --csv: the measurements; default <output stem>.csv
  std::string python = "python3";      // --python: runs plot_tuning.py
  int iters = 200;                     // -n, -w, -r: as mc_perf's, per algorithm and size
  int warmup = 5;
  int reps = 3;
  DataType dtype = DataType::kFloat32;  // -d
  bool check = false;                  // --check: verify every timed algorithm's result once
  double margin = 0.05;                // --margin PCT/100: how much faster than the current choice a winner must be
};

// Parses argv; errors name the flag and the bad value. `--help` yields
// Cancelled with the usage text as the message.
absl::StatusOr<TuneOptions> ParseTuneOptions(int argc, char** argv);

// "tuning.txt" -> "tuning"; "a/b.tune" -> "a/b"; "x" -> "x".
std::string Stem(const std::string& path);

}  // namespace mc::tune

#endif  // MOONCOMM_TOOLS_MC_TUNE_TUNE_OPTIONS_H_
