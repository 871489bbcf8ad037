// Tuning files: the table mc_tune writes from measurements and MC_TUNING_FILE
// names. Line based; blank lines are ignored and '#' starts a comment line:
//
//   # measured by mc_tune on node17
//   mooncomm-tuning 1
//   transport shm
//   world_size 8
//   rule allreduce:0-64k:dbtree:chunk=16k
//   rule allreduce:64k-inf:ring
//
// The first other line must be "mooncomm-tuning 1" (the format's version).
// "transport" and "world_size" are required once each; "*" means any. Each
// "rule" line holds one rule in MC_TUNE's grammar (tune_rule.h); as there,
// a later rule wins where ranges overlap.
#ifndef MOONCOMM_ALGORITHMS_TUNER_TUNING_FILE_H_
#define MOONCOMM_ALGORITHMS_TUNER_TUNING_FILE_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tuner/tune_rule.h"

namespace mc::algo {

inline constexpr int kTuningFileVersion = 1;

struct TuningTable {
  std::string transport;  // "" (written "*"): any transport
  int world_size = 0;     // 0 (written "*"): any world size
  std::vector<TuneRule> rules;
  std::vector<std::string> comments;  // comment lines without the '#' and one blank after it

  bool operator==(const TuningTable&) const = default;
};

// Errors name the file and the line: "t.tune:5: bad size '64q' in rule \"...\"".
// A file that cannot be opened is NotFound (or the errno's code) naming the path.
absl::StatusOr<TuningTable> ReadTuningFile(const std::string& path);
// Replaces `path` atomically (writes a temporary file next to it, then renames).
absl::Status WriteTuningFile(const std::string& path, const TuningTable& table);

// The same on text; `name` stands for the file in errors.
absl::StatusOr<TuningTable> ParseTuningTable(std::string_view text, std::string_view name);
// Comments first, then the header, transport, world_size and the rules.
// InvalidArgument when a field cannot be written (a transport with blanks, a
// comment with a line break, a negative world size).
absl::StatusOr<std::string> FormatTuningTable(const TuningTable& table);

}  // namespace mc::algo

#endif  // MOONCOMM_ALGORITHMS_TUNER_TUNING_FILE_H_
