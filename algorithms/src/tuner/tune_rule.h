// Tuning rules: which algorithm a collective uses for a range of sizes.
//
// MC_TUNE holds rules separated by '#' (after UCC's tuning strings):
//
//   allreduce:0-64k:tree#allreduce:64k-inf:ring:chunk=256k:channels=2
//
// One rule is   COLLECTIVE[:LO-HI]:ALGORITHM[:chunk=SIZE][:channels=N]
//   COLLECTIVE  a name CollectiveName() prints: allreduce, reduce_scatter, ...
//   LO-HI       the sizes [LO, HI) in bytes, as nccl-tests counts them for that
//               collective; plain bytes or a k / m / g suffix (powers of 1024);
//               HI may be "inf". Left out: 0-inf.
//   ALGORITHM   lower case letters, digits and '_', starting with a letter.
//               Whether it exists for the collective is checked by the Tuner.
//   chunk       pipeline chunk in bytes (> 0); left out: the model's choice.
//   channels    parallel channels, 1 to kMaxTuneChannels; left out: the model's.
// Blanks around rules and fields are ignored. Ranges may overlap and come in
// any order: for a given size the LAST rule that covers it wins.
#ifndef MOONCOMM_ALGORITHMS_TUNER_TUNE_RULE_H_
#define MOONCOMM_ALGORITHMS_TUNER_TUNE_RULE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "mooncomm/collectives.h"
#include "tuner/size_text.h"

namespace mc::algo {

inline constexpr int kMaxTuneChannels = 64;

struct TuneRule {
  CollectiveKind coll = CollectiveKind::kAllreduce;
  uint64_t lo = 0;              // inclusive, bytes
  uint64_t hi = kInfiniteSize;  // exclusive; kInfiniteSize: no upper bound
  std::string algorithm;
  size_t chunk_bytes = 0;  // 0: the model's choice
  int channels = 0;        // 0: the model's choice

  bool Covers(CollectiveKind kind, uint64_t bytes) const { return kind == coll && bytes >= lo && bytes < hi; }
  bool operator==(const TuneRule&) const = default;
};

// Parses a '#'-separated list of rules. Empty (or blank) text is no rules.
// Errors name `origin`, the problem, the bad token and the rule:
//   MC_TUNE: bad size '64q' in rule 2 ("allreduce:64q-inf:ring")
absl::StatusOr<std::vector<TuneRule>> ParseTuneString(std::string_view text, std::string_view origin = "MC_TUNE");

// Parses one rule (no '#'). Errors are "<problem> in rule \"<text>\"" with no origin.
absl::StatusOr<TuneRule> ParseTuneRule(std::string_view text);

// Canonical text: every rule with its range, sizes in the largest exact unit.
// ParseTuneString(FormatTuneRules(r)) == r.
std::string FormatTuneRule(const TuneRule& rule);
std::string FormatTuneRules(absl::Span<const TuneRule> rules);

}  // namespace mc::algo

#endif  // MOONCOMM_ALGORITHMS_TUNER_TUNE_RULE_H_
