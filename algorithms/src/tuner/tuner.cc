// The Tuner: MC_TUNE over the tuning file over the cost model.
#include "tuner/tuner.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "mooncomm/config.h"
#include "tuner/cost_model.h"
#include "tuner/tuning_file.h"

namespace mc::algo {
namespace {

absl::string_view Absl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

size_t Index(CollectiveKind coll) { return static_cast<size_t>(coll); }

// InvalidArgument when `rule` names an algorithm its collective lacks.
// `where` says which rule: "rule 3 (\"...\")".
absl::Status CheckAlgorithm(const TuneRule& rule, const std::vector<std::string>& valid, std::string_view origin,
                            std::string_view where) {
  if (std::find(valid.begin(), valid.end(), rule.algorithm) != valid.end()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(Absl(origin), ": unknown algorithm '", rule.algorithm, "' for ",
                                                 CollectiveName(rule.coll), " in ", Absl(where),
                                                 "; valid: ", valid.empty() ? "none" : absl::StrJoin(valid, ", ")));
}

// The last rule in `rules` covering (coll, bytes), or null.
const TuneRule* LastCovering(const std::vector<TuneRule>& rules, CollectiveKind coll, size_t bytes) {
  for (auto it = rules.rbegin(); it != rules.rend(); ++it) {
    if (it->Covers(coll, bytes)) return &*it;
  }
  return nullptr;
}

}  // namespace

absl::StatusOr<Tuner> Tuner::Create(const TopologyInfo& topo, std::vector<AlgorithmDesc> algorithms) {
  absl::StatusOr<std::string> tune = config::GetString("MC_TUNE");
  if (!tune.ok()) return tune.status();
  absl::StatusOr<std::string> file = config::GetString("MC_TUNING_FILE");
  if (!file.ok()) return file.status();
  return CreateWith(topo, std::move(algorithms), *tune, *file);
}

absl::StatusOr<Tuner> Tuner::CreateWith(const TopologyInfo& topo, std::vector<AlgorithmDesc> algorithms,
                                        std::string_view tune_string, std::string_view tuning_file_path) {
  Tuner tuner;
  absl::StatusOr<ModelInputs> inputs = ResolveModelInputs(topo);
  if (!inputs.ok()) return inputs.status();
  tuner.inputs_ = *std::move(inputs);
  tuner.transport_ = topo.transport;
  for (AlgorithmDesc& desc : algorithms) {
    if (Index(desc.coll) >= tuner.algorithms_.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("tuner: algorithm '", desc.name, "' for an unknown collective kind ", Index(desc.coll)));
    }
    std::vector<std::string>& list = tuner.algorithms_[Index(desc.coll)];
    if (std::find(list.begin(), list.end(), desc.name) == list.end()) list.push_back(std::move(desc.name));
  }

  absl::StatusOr<std::vector<TuneRule>> env_rules = ParseTuneString(tune_string, "MC_TUNE");
  if (!env_rules.ok()) return env_rules.status();
  for (size_t i = 0; i < env_rules->size(); ++i) {
    const TuneRule& rule = (*env_rules)[i];
    std::string where = absl::StrCat("rule ", i + 1, " (\"", FormatTuneRule(rule), "\")");
    absl::Status s = CheckAlgorithm(rule, tuner.algorithms(rule.coll), "MC_TUNE", where);
    if (!s.ok()) return s;
  }
  tuner.env_rules_ = *std::move(env_rules);

  if (tuning_file_path.empty()) return tuner;
  tuner.file_path_ = std::string(tuning_file_path);
  absl::StatusOr<TuningTable> table = ReadTuningFile(tuner.file_path_);
  if (!table.ok()) {
    return absl::Status(table.status().code(), absl::StrCat("MC_TUNING_FILE: ", table.status().message()));
  }
  bool transport_differs = !table->transport.empty() && table->transport != topo.transport;
  bool size_differs = table->world_size != 0 && table->world_size != topo.world_size;
  if (transport_differs || size_differs) {
    tuner.notes_.push_back(absl::StrCat(
        "MC_TUNING_FILE '", tuner.file_path_, "' ignored: written for transport ",
        table->transport.empty() ? "*" : table->transport, " and world size ",
        table->world_size == 0 ? "*" : std::to_string(table->world_size), ", this communicator uses ",
        topo.transport.empty() ? "an unknown transport" : topo.transport, " with ", topo.world_size, " ranks"));
    return tuner;
  }
  for (const TuneRule& rule : table->rules) {
    std::string where = absl::StrCat("rule \"", FormatTuneRule(rule), "\"");
    absl::Status s =
        CheckAlgorithm(rule, tuner.algorithms(rule.coll), absl::StrCat("MC_TUNING_FILE: ", tuner.file_path_), where);
    if (!s.ok()) return s;
  }
  tuner.file_rules_ = std::move(table->rules);
  tuner.file_applied_ = true;
  return tuner;
}

const std::vector<std::string>& Tuner::algorithms(CollectiveKind coll) const {
  static const std::vector<std::string> kNone;
  return Index(coll) < algorithms_.size() ? algorithms_[Index(coll)] : kNone;
}

AlgorithmChoice Tuner::Choose(CollectiveKind coll, size_t bytes) const {
  if (const TuneRule* rule = LastCovering(env_rules_, coll, bytes)) return FromRule(*rule, "MC_TUNE", bytes);
  if (const TuneRule* rule = LastCovering(file_rules_, coll, bytes)) return FromRule(*rule, "MC_TUNING_FILE", bytes);
  return FromModel(coll, bytes);
}

AlgorithmChoice Tuner::FromRule(const TuneRule& rule, std::string source, size_t bytes) const {
  Plan model = BestPlan(inputs_, rule.coll, rule.algorithm, bytes).plan;
  AlgorithmChoice choice;
  choice.algorithm = rule.algorithm;
  choice.chunk_bytes = rule.chunk_bytes != 0 ? rule.chunk_bytes : model.chunk_bytes;
  choice.channels = rule.channels != 0 ? rule.channels : model.channels;
  choice.source = std::move(source);
  return choice;
}

AlgorithmChoice Tuner::FromModel(CollectiveKind coll, size_t bytes) const {
  const std::vector<std::string>& names = algorithms(coll);
  AlgorithmChoice choice;
  if (names.empty()) {
    choice.source = "none";
    return choice;
  }
  // The first listed wins ties (within rounding: the formulas of two
  // algorithms may coincide, as ring and dbtree do for two ranks) and stands
  // in when the model knows none.
  constexpr double kTie = 1e-9;  // relative
  Estimate best = BestPlan(inputs_, coll, names.front(), bytes);
  choice.algorithm = names.front();
  for (size_t i = 1; i < names.size(); ++i) {
    Estimate estimate = BestPlan(inputs_, coll, names[i], bytes);
    if (estimate.micros < best.micros * (1 - kTie)) {
      best = estimate;
      choice.algorithm = names[i];
    }
  }
  choice.chunk_bytes = best.plan.chunk_bytes;
  choice.channels = best.plan.channels;
  choice.source = "model";
  return choice;
}

absl::StatusOr<AlgorithmChoice> Tuner::Resolve(CollectiveKind coll, size_t bytes,
                                               const CollectiveOptions& options) const {
  if (options.channels < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("CollectiveOptions: channels must be 0 (the tuner's choice) or positive, not ", options.channels));
  }
  AlgorithmChoice choice;
  if (options.algorithm.empty()) {
    choice = Choose(coll, bytes);
  } else {
    TuneRule forced;
    forced.coll = coll;
    forced.algorithm = options.algorithm;
    absl::Status s = CheckAlgorithm(forced, algorithms(coll), "CollectiveOptions", "this call");
    if (!s.ok()) return s;
    choice = FromRule(forced, "forced", bytes);
  }
  if (options.chunk_bytes != 0) choice.chunk_bytes = options.chunk_bytes;
  if (options.channels != 0) choice.channels = options.channels;
  return choice;
}

double Tuner::PredictMicros(CollectiveKind coll, const std::string& algorithm, size_t bytes) const {
  return BestPlan(inputs_, coll, algorithm, bytes).micros;
}

}  // namespace mc::algo
