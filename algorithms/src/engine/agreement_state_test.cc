#include "engine/agreement_state.h"

#include "gtest/gtest.h"

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
