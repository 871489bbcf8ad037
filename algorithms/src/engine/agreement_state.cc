#include "engine/agreement_state.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "mooncomm/collectives.h"
#include "mooncomm/datatype.h"

namespace mc::algo {
namespace {

constexpr uint32_t kMagic = 0x4d434147;  // "MCAG"
constexpr size_t kMaxErrorBytes = 240;

// Fixed little header, then the failed bitmap, then the error text.
struct Header {
  uint32_t magic;
  uint32_t seq;
  uint32_t round;
  uint32_t sent_to_receiver;
  int32_t world_size;
  int32_t error_rank;
  uint16_t error_bytes;
  uint8_t verdict;
  uint8_t decided;
  uint8_t error_class;
  uint8_t call_kind;
  uint8_t call_type;
  uint8_t call_op;
  int32_t call_root;
  uint32_t reserved;
  uint64_t call_count;
};
static_assert(sizeof(Header) == 48);

}  // namespace

std::vector<int> AgreementState::failed_ranks() const {
  std::vector<int> out;
  for (int r = 0; r < world_size_; ++r) {
    if (failed(r)) out.push_back(r);
  }
  return out;
}

std::string CallSignature::Describe() const {
  if (!comparable() || kind >= kNumCollectiveKinds) return "an unknown call";
  const auto k = static_cast<CollectiveKind>(kind);
  std::string out = absl::StrCat(CollectiveName(k), "(");
  if (k != CollectiveKind::kBarrier && type < kNumDataTypes) {
    absl::StrAppend(&out, DataTypeName(static_cast<DataType>(type)));
  }
  if ((k == CollectiveKind::kAllreduce || k == CollectiveKind::kReduce || k == CollectiveKind::kReduceScatter) &&
      op < kNumReduceOps) {
    absl::StrAppend(&out, ", ", ReduceOpName(static_cast<ReduceOp>(op)));
  }
  if (k != CollectiveKind::kBarrier && k != CollectiveKind::kAlltoallv) absl::StrAppend(&out, ", count ", count);
  if (root >= 0) absl::StrAppend(&out, ", root ", root);
  return out + ")";
}

void AgreementState::SetError(int rank, std::string message, ErrorClass error_class) {
  RaiseVerdict(Verdict::kError);
  if (error_rank_ >= 0) {
    if (error_class < error_class_) return;
    if (error_class == error_class_ && error_rank_ <= rank) return;
  }
  error_rank_ = rank;
  error_class_ = error_class;
  if (message.size() > kMaxErrorBytes) message.resize(kMaxErrorBytes);
  error_ = std::move(message);
}

void AgreementState::Merge(const AgreementState& other) {
  RaiseVerdict(other.verdict_);
  for (size_t i = 0; i < failed_.size() && i < other.failed_.size(); ++i) failed_[i] |= other.failed_[i];
  if (other.error_rank_ >= 0) SetError(other.error_rank_, other.error_, other.error_class_);
}

bool AgreementState::operator==(const AgreementState& other) const {
  return verdict_ == other.verdict_ && failed_ == other.failed_ && error_rank_ == other.error_rank_ &&
         error_class_ == other.error_class_ && error_ == other.error_;
}

size_t AgreementState::MaxEncodedBytes(int world_size) {
  return sizeof(Header) + (world_size + 63) / 64 * sizeof(uint64_t) + kMaxErrorBytes;
}

std::string AgreementState::Encode(uint32_t seq, uint32_t round, bool decided, uint32_t sent_to_receiver,
                                   const CallSignature& call) const {
  Header h{};
  h.magic = kMagic;
  h.seq = seq;
  h.round = round;
  h.sent_to_receiver = sent_to_receiver;
  h.world_size = world_size_;
  h.error_rank = error_rank_;
  h.error_bytes = static_cast<uint16_t>(error_.size());
  h.verdict = static_cast<uint8_t>(verdict_);
  h.decided = decided ? 1 : 0;
  h.error_class = static_cast<uint8_t>(error_class_);
  h.call_kind = call.kind;
  h.call_type = call.type;
  h.call_op = call.op;
  h.call_root = call.root;
  h.call_count = call.count;
  std::string out(sizeof(h) + failed_.size() * sizeof(uint64_t) + error_.size(), '\0');
  std::memcpy(out.data(), &h, sizeof(h));
  std::memcpy(out.data() + sizeof(h), failed_.data(), failed_.size() * sizeof(uint64_t));
  std::memcpy(out.data() + sizeof(h) + failed_.size() * sizeof(uint64_t), error_.data(), error_.size());
  return out;
}

absl::StatusOr<DecodedAgreement> DecodeAgreement(absl::Span<const char> bytes, int world_size) {
  Header h;
  if (bytes.size() < sizeof(h)) return absl::DataLossError("agreement message too short");
  std::memcpy(&h, bytes.data(), sizeof(h));
  const size_t words = (world_size + 63) / 64;
  if (h.magic != kMagic || h.world_size != world_size || h.verdict > 2 || h.error_class > 1 || h.error_bytes > kMaxErrorBytes ||
      bytes.size() != sizeof(h) + words * sizeof(uint64_t) + h.error_bytes) {
    return absl::DataLossError(absl::StrCat("malformed agreement message (", bytes.size(), " bytes, world size ",
                                            h.world_size, " where ", world_size, " was expected)"));
  }
  DecodedAgreement d;
  d.seq = h.seq;
  d.round = h.round;
  d.decided = h.decided != 0;
  d.sent_to_receiver = h.sent_to_receiver;
  d.call.kind = h.call_kind;
  d.call.type = h.call_type;
  d.call.op = h.call_op;
  d.call.root = h.call_root;
  d.call.count = h.call_count;
  d.state = AgreementState(world_size);
  std::memcpy(d.state.failed_.data(), bytes.data() + sizeof(h), words * sizeof(uint64_t));
  d.state.verdict_ = static_cast<Verdict>(h.verdict);
  d.state.error_rank_ = h.error_rank;
  d.state.error_class_ = static_cast<ErrorClass>(h.error_class);
  d.state.error_.assign(bytes.data() + sizeof(h) + words * sizeof(uint64_t), h.error_bytes);
  return d;
}

}  // namespace mc::algo
