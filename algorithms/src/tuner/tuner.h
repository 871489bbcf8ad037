// The tuner: which algorithm, chunk size and channel count a collective call
// uses, by collective and size.
//
//   auto tuner = mc::algo::Tuner::Create(topo, engine_algorithms);   // reads MC_TUNE, MC_TUNING_FILE
//   mc::algo::AlgorithmChoice c = tuner->Choose(mc::CollectiveKind::kAllreduce, bytes);
//
// Precedence, per (collective, size): an MC_TUNE rule, else a rule of the
// tuning file, else the cost model (the algorithm with the lowest predicted
// time; on a tie the one listed first). Within MC_TUNE, and within the file,
// the last rule that covers the size wins. A rule that names no chunk or
// channels gets the model's for its algorithm.
//
// A tuning file written for another transport or world size is ignored, not
// an error: the Tuner keeps a note saying so (notes(), and DescribeMap()
// prints it) for the caller to log, since the core has no public log API.
// Syntax errors in MC_TUNE or the file, a file that cannot be read, and a
// rule naming an algorithm the collective does not have are errors.
//
// A Tuner does not change after Create: its const methods may be called from
// several threads at once.
#ifndef MOONCOMM_ALGORITHMS_TUNER_TUNER_H_
#define MOONCOMM_ALGORITHMS_TUNER_TUNER_H_

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "mooncomm/collectives.h"
#include "tuner/algorithm_catalog.h"
#include "tuner/model_inputs.h"
#include "tuner/tune_rule.h"

namespace mc::algo {

struct AlgorithmChoice {
  std::string algorithm;   // "" when the collective has no algorithm at all
  size_t chunk_bytes = 0;  // 0: one message per transfer
  int channels = 1;
  // Who picked the algorithm: "model", "MC_TUNE", "MC_TUNING_FILE", "forced"
  // (the call's CollectiveOptions) or "none".
  std::string source;
};

class Tuner {
 public:
  // `algorithms`: every (collective, algorithm) pair the engine implements,
  // in order of preference; the model never picks a pair it cannot predict
  // (ModelAlgorithms()), unless it is a collective's only algorithm.
  // Reads MC_TUNE and MC_TUNING_FILE through mc::config.
  static absl::StatusOr<Tuner> Create(const TopologyInfo& topo, std::vector<AlgorithmDesc> algorithms);
  // The same with the two values given (tests, mc_tune); empty: unset.
  static absl::StatusOr<Tuner> CreateWith(const TopologyInfo& topo, std::vector<AlgorithmDesc> algorithms,
                                          std::string_view tune_string, std::string_view tuning_file_path);

  // bytes: the size nccl-tests prints for that collective. allreduce,
  // broadcast, reduce, sendrecv: the buffer; allgather(v), reduce_scatter,
  // alltoall(v), gather, scatter: the whole n-block buffer; barrier: 0.
  AlgorithmChoice Choose(CollectiveKind coll, size_t bytes) const;
  // Choose() under a call's options: a named algorithm is checked (an error
  // names it and lists the valid ones) and used with source "forced"; a
  // non-zero chunk_bytes or channels replaces the choice's.
  absl::StatusOr<AlgorithmChoice> Resolve(CollectiveKind coll, size_t bytes, const CollectiveOptions& options) const;

  // The model's prediction with its best chunk and channels; +infinity for
  // an algorithm the model does not know.
  double PredictMicros(CollectiveKind coll, const std::string& algorithm, size_t bytes) const;

  // The map in force: a line with the model's inputs, one line per
  // collective ("allreduce: 0-16k direct (model), 16k-inf ring (MC_TUNE)"),
  // then the notes. The model is sampled at powers of two and at every
  // rule's bounds, so a switch is shown at the sample where it is first seen.
  std::string DescribeMap() const;

  // Things the caller should log (a tuning file that was ignored, and why).
  const std::vector<std::string>& notes() const { return notes_; }
  // The collective's algorithms as given to Create, in order.
  const std::vector<std::string>& algorithms(CollectiveKind coll) const;
  const ModelInputs& model_inputs() const { return inputs_; }

 private:
  Tuner() = default;
  AlgorithmChoice FromRule(const TuneRule& rule, std::string source, size_t bytes) const;
  AlgorithmChoice FromModel(CollectiveKind coll, size_t bytes) const;
  std::string DescribeCollective(CollectiveKind coll) const;

  ModelInputs inputs_;
  std::string transport_;
  std::array<std::vector<std::string>, kNumCollectiveKinds> algorithms_;
  std::vector<TuneRule> env_rules_;   // from MC_TUNE
  std::vector<TuneRule> file_rules_;  // from MC_TUNING_FILE, when it applies
  std::string file_path_;
  bool file_applied_ = false;
  std::vector<std::string> notes_;
};

}  // namespace mc::algo

#endif  // MOONCOMM_ALGORITHMS_TUNER_TUNER_H_
