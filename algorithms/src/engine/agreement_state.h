// What the survivors of an attempt agree on: whether it finished everywhere,
// must be run again, or failed for a reason a retry cannot fix; and the set
// of failed communicator ranks.
#ifndef MOONCOMM_ALGORITHMS_ENGINE_AGREEMENT_STATE_H_
#define MOONCOMM_ALGORITHMS_ENGINE_AGREEMENT_STATE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace mc::algo {

// Ordered: merging two states keeps the larger verdict.
enum class Verdict : uint8_t { kOk = 0, kRetry = 1, kError = 2 };

// Ordered: an error of a larger class replaces one of a smaller class. A call
// that differs across ranks explains whatever else went wrong in the attempt
// (a truncated message, say), so it is what every rank reports.
enum class ErrorClass : uint8_t { kLocal = 0, kCallMismatch = 1 };

// What a rank called. Compared across ranks in the agreement's first round,
// so that calls that differ (collective, count, type, op, root) are an error
// on every rank, never a hang or wrong data. kind 0xff: not compared.
struct CallSignature {
  uint8_t kind = 0xff;
  uint8_t type = 0;
  uint8_t op = 0;
  int32_t root = -1;
  uint64_t count = 0;

  bool operator==(const CallSignature&) const = default;
  bool comparable() const { return kind != 0xff; }
  std::string Describe() const;  // "allreduce(f32, sum, count 10)"
};

class AgreementState {
 public:
  explicit AgreementState(int world_size = 0) : failed_((world_size + 63) / 64, 0), world_size_(world_size) {}

  Verdict verdict() const { return verdict_; }
  bool failed(int rank) const { return (failed_[rank / 64] >> (rank % 64)) & 1; }
  std::vector<int> failed_ranks() const;
  int world_size() const { return world_size_; }
  // For kError: the lowest rank that reported an error, and its message.
  int error_rank() const { return error_rank_; }
  ErrorClass error_class() const { return error_class_; }
  const std::string& error() const { return error_; }

  void AddFailed(int rank) { failed_[rank / 64] |= 1ull << (rank % 64); }
  void RaiseVerdict(Verdict v) { if (v > verdict_) verdict_ = v; }
  // Keeps the error of the larger class, then of the lowest rank.
  void SetError(int rank, std::string message, ErrorClass error_class = ErrorClass::kLocal);
  void Merge(const AgreementState& other);
  bool operator==(const AgreementState& other) const;

  // The wire form of one agreement message. `decided` marks a final state;
  // `sent_to_receiver` is how many data messages the sender posted to the
  // receiver in this attempt (the receiver drains that many).
  // `call` is the sender's own call, not part of the state.
  std::string Encode(uint32_t seq, uint32_t round, bool decided, uint32_t sent_to_receiver,
                     const CallSignature& call = {}) const;
  static size_t MaxEncodedBytes(int world_size);

 private:
  Verdict verdict_ = Verdict::kOk;
  std::vector<uint64_t> failed_;
  int world_size_;
  int error_rank_ = -1;
  ErrorClass error_class_ = ErrorClass::kLocal;
  std::string error_;
  friend struct DecodedAgreement;
  friend absl::StatusOr<struct DecodedAgreement> DecodeAgreement(absl::Span<const char> bytes, int world_size);
};

struct DecodedAgreement {
  uint32_t seq = 0;
  uint32_t round = 0;
  bool decided = false;
  uint32_t sent_to_receiver = 0;
  CallSignature call;  // the sender's
  AgreementState state;
};
absl::StatusOr<DecodedAgreement> DecodeAgreement(absl::Span<const char> bytes, int world_size);

}  // namespace mc::algo

#endif  // MOONCOMM_ALGORITHMS_ENGINE_AGREEMENT_STATE_H_
