// Tuner::DescribeMap: the size-to-algorithm map in force, for logs and mc_tune.
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "tuner/tuner.h"

namespace mc::algo {
namespace {

// Sizes beyond this are shown as the last range ("...-inf").
constexpr int kLargestSampleShift = 40;  // 1 TiB

}  // namespace

std::string Tuner::DescribeCollective(CollectiveKind coll) const {
  std::string line = absl::StrCat(CollectiveName(coll), ":");
  if (algorithms(coll).empty()) return absl::StrCat(line, " no algorithms");

  // Sample sizes: 0, powers of two, and every rule's bounds for coll.
  std::set<uint64_t> samples = {0};
  for (int shift = 0; shift <= kLargestSampleShift; ++shift) samples.insert(uint64_t{1} << shift);
  for (const std::vector<TuneRule>* rules : {&env_rules_, &file_rules_}) {
    for (const TuneRule& rule : *rules) {
      if (rule.coll != coll) continue;
      samples.insert(rule.lo);
      if (rule.hi != kInfiniteSize) samples.insert(rule.hi);
    }
  }

  // Consecutive samples with the same algorithm and source form one range.
  std::vector<std::string> ranges;
  uint64_t start = 0;
  AlgorithmChoice current = Choose(coll, 0);
  auto close_range = [&](uint64_t end) {
    ranges.push_back(absl::StrCat(FormatSizeText(start), "-", FormatSizeText(end), " ", current.algorithm, " (",
                                  current.source, ")"));
  };
  for (uint64_t size : samples) {
    AlgorithmChoice choice = Choose(coll, static_cast<size_t>(size));
    if (choice.algorithm == current.algorithm && choice.source == current.source) continue;
    close_range(size);
    start = size;
    current = std::move(choice);
  }
  close_range(kInfiniteSize);
  return absl::StrCat(line, " ", absl::StrJoin(ranges, ", "));
}

std::string Tuner::DescribeMap() const {
  std::string text = absl::StrFormat(
      "tuner: %d ranks over %s; latency %g us (%s), bandwidth %g Gbit/s (%s), overhead %g us/message, "
      "reduce %g GB/s\n",
      inputs_.ranks, transport_.empty() ? "an unknown transport" : transport_, inputs_.latency_us,
      inputs_.latency_source, inputs_.link_bytes_per_us / 125.0, inputs_.bandwidth_source, inputs_.overhead_us,
      inputs_.reduce_bytes_per_us / 1000.0);
  if (file_applied_) {
    absl::StrAppend(&text, "tuning file: ", file_path_, " (", file_rules_.size(), " rules)\n");
  }
  for (int i = 0; i < kNumCollectiveKinds; ++i) {
    absl::StrAppend(&text, DescribeCollective(static_cast<CollectiveKind>(i)), "\n");
  }
  for (const std::string& note : notes_) absl::StrAppend(&text, "note: ", note, "\n");
  return text;
}

}  // namespace mc::algo
