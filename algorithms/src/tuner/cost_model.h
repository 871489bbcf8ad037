// The cost model: predicted microseconds for one collective call with a given
// algorithm, and the chunk size and channel count that minimize it.
//
// An alpha-beta model (latency + bytes / bandwidth per message) with a
// per-message CPU overhead, a reduction rate, and a loss for many flows into
// one rank. Formulas, one per (collective, algorithm), are in cost_model.cc.
#ifndef MOONCOMM_ALGORITHMS_TUNER_COST_MODEL_H_
#define MOONCOMM_ALGORITHMS_TUNER_COST_MODEL_H_

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string_view>

#include "mooncomm/collectives.h"
#include "tuner/model_inputs.h"

namespace mc::algo {

// Chunk sizes the model considers: powers of two in [kMinChunkBytes, kMaxChunkBytes].
inline constexpr size_t kMinChunkBytes = size_t{4} << 10;
inline constexpr size_t kMaxChunkBytes = size_t{4} << 20;
// Channel counts the model considers: 1, 2, 4 ... kMaxModelChannels.
inline constexpr int kMaxModelChannels = 8;

struct Plan {
  size_t chunk_bytes = 0;  // 0: each transfer is one message
  int channels = 1;
};

struct Estimate {
  double micros = std::numeric_limits<double>::infinity();
  Plan plan;
};

// `bytes` is the size nccl-tests prints for the collective (see tuner.h).
// +infinity for an algorithm the model does not know for `coll`.
double PredictWithPlan(const ModelInputs& in, CollectiveKind coll, std::string_view algorithm, uint64_t bytes,
                       const Plan& plan);

// The plan with the lowest prediction. Chunked algorithms
// (IsChunkedAlgorithm) search chunks and channels; others get {0, 1}. On a
// tie the larger chunk and then the fewer channels win.
Estimate BestPlan(const ModelInputs& in, CollectiveKind coll, std::string_view algorithm, uint64_t bytes);

}  // namespace mc::algo

#endif  // MOONCOMM_ALGORITHMS_TUNER_COST_MODEL_H_
