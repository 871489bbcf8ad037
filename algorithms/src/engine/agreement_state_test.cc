#include "engine/agreement_state.h"

#include "gtest/gtest.h"
#include "mooncomm/collectives.h"
#include "mooncomm/datatype.h"

namespace mc::algo {
namespace {

TEST(AgreementStateTest, RoundTripsThroughTheWire) {
  AgreementState s(130);
  s.AddFailed(0);
  s.AddFailed(64);
  s.AddFailed(129);
  s.SetError(7, "size mismatch");
  std::string bytes = s.Encode(/*seq=*/42, /*round=*/3, /*decided=*/true, /*sent_to_receiver=*/9);
  auto d = DecodeAgreement(absl::MakeConstSpan(bytes.data(), bytes.size()), 130);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->seq, 42u);
  EXPECT_EQ(d->round, 3u);
  EXPECT_TRUE(d->decided);
  EXPECT_EQ(d->sent_to_receiver, 9u);
  EXPECT_TRUE(d->state == s);
  EXPECT_EQ(d->state.failed_ranks(), (std::vector<int>{0, 64, 129}));
  EXPECT_EQ(d->state.verdict(), Verdict::kError);
  EXPECT_EQ(d->state.error(), "size mismatch");
}

TEST(AgreementStateTest, MergeTakesTheUnionAndTheLowestErrorRank) {
  AgreementState a(8), b(8);
  a.AddFailed(1);
  b.AddFailed(5);
  b.RaiseVerdict(Verdict::kRetry);
  a.Merge(b);
  EXPECT_EQ(a.failed_ranks(), (std::vector<int>{1, 5}));
  EXPECT_EQ(a.verdict(), Verdict::kRetry);
  a.SetError(6, "six");
  b.SetError(2, "two");
  a.Merge(b);
  EXPECT_EQ(a.error_rank(), 2);
  EXPECT_EQ(a.error(), "two");
  EXPECT_EQ(a.verdict(), Verdict::kError);
}

TEST(AgreementStateTest, CarriesTheSendersCall) {
  AgreementState s(4);
  CallSignature call;
  call.kind = static_cast<uint8_t>(CollectiveKind::kAllreduce);
  call.type = static_cast<uint8_t>(DataType::kInt32);
  call.op = static_cast<uint8_t>(ReduceOp::kMax);
  call.count = 1ull << 40;
  std::string bytes = s.Encode(1, 0, false, 0, call);
  auto d = DecodeAgreement(absl::MakeConstSpan(bytes.data(), bytes.size()), 4);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_TRUE(d->call == call);
  EXPECT_EQ(d->call.Describe(), "allreduce(i32, max, count 1099511627776)");
  call.kind = static_cast<uint8_t>(CollectiveKind::kBroadcast);
  call.root = 3;
  call.count = 7;
  EXPECT_EQ(call.Describe(), "broadcast(i32, count 7, root 3)");
  EXPECT_FALSE(CallSignature{}.comparable());
}

TEST(AgreementStateTest, ACallMismatchOutranksOtherErrors) {
  AgreementState a(4), b(4);
  a.SetError(0, "message truncated");
  b.SetError(3, "calls differ", ErrorClass::kCallMismatch);
  a.Merge(b);
  EXPECT_EQ(a.error_rank(), 3);
  EXPECT_EQ(a.error(), "calls differ");
  EXPECT_EQ(a.error_class(), ErrorClass::kCallMismatch);
  a.SetError(1, "calls differ at 1", ErrorClass::kCallMismatch);  // the lowest rank of the class wins
  EXPECT_EQ(a.error_rank(), 1);
  a.SetError(0, "local again");
  EXPECT_EQ(a.error_rank(), 1);
  std::string bytes = a.Encode(1, 2, true, 0);
  auto d = DecodeAgreement(absl::MakeConstSpan(bytes.data(), bytes.size()), 4);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_TRUE(d->state == a);
}

TEST(AgreementStateTest, RejectsMalformedMessages) {
  AgreementState s(4);
  std::string bytes = s.Encode(1, 0, false, 0);
  EXPECT_FALSE(DecodeAgreement(absl::MakeConstSpan(bytes.data(), 10), 4).ok());
  EXPECT_FALSE(DecodeAgreement(absl::MakeConstSpan(bytes.data(), bytes.size()), 100).ok());
  bytes[0] ^= 1;
  EXPECT_FALSE(DecodeAgreement(absl::MakeConstSpan(bytes.data(), bytes.size()), 4).ok());
}

}  // namespace
}  // namespace mc::algo
