// MC_TUNE's grammar: sizes, good rules, each kind of bad token, round trips.
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tuner/size_text.h"
#include "tuner/tune_rule.h"

namespace mc::algo {
namespace {

using K = CollectiveKind;
using ::testing::StartsWith;

std::string Message(const absl::Status& status) { return std::string(status.message()); }

// The error ParseTuneString gives for `text`, or "ok".
std::string ErrorOf(std::string_view text) {
  absl::StatusOr<std::vector<TuneRule>> rules = ParseTuneString(text);
  if (rules.ok()) return "ok";
  EXPECT_EQ(rules.status().code(), absl::StatusCode::kInvalidArgument);
  return Message(rules.status());
}

TEST(SizeTextTest, ParsesBytesSuffixesAndInf) {
  EXPECT_EQ(ParseSizeText("0", false), 0u);
  EXPECT_EQ(ParseSizeText("4096", false), 4096u);
  EXPECT_EQ(ParseSizeText("64k", false), 64u << 10);
  EXPECT_EQ(ParseSizeText("64K", false), 64u << 10);
  EXPECT_EQ(ParseSizeText("3m", false), 3u << 20);
  EXPECT_EQ(ParseSizeText("2G", false), uint64_t{2} << 30);
  EXPECT_EQ(ParseSizeText("inf", true), kInfiniteSize);
  EXPECT_EQ(ParseSizeText("inf", false), std::nullopt);
}

TEST(SizeTextTest, RejectsJunkAndOverflow) {
  for (const char* bad : {"", "k", "64q", "1.5k", "-1", "+1", " 1", "1kk", "0x10", "INF", "18446744073709551615",
                          "18446744073709551616", "17179869184g", "99999999999999999999"}) {
    EXPECT_EQ(ParseSizeText(bad, true), std::nullopt) << bad;
  }
  EXPECT_EQ(ParseSizeText("18446744073709551614", false), kInfiniteSize - 1);
}

TEST(SizeTextTest, FormatsTheLargestExactUnit) {
  EXPECT_EQ(FormatSizeText(0), "0");
  EXPECT_EQ(FormatSizeText(1000), "1000");
  EXPECT_EQ(FormatSizeText(1024), "1k");
  EXPECT_EQ(FormatSizeText(1536), "1536");
  EXPECT_EQ(FormatSizeText(3u << 20), "3m");
  EXPECT_EQ(FormatSizeText(uint64_t{1} << 40), "1024g");
  EXPECT_EQ(FormatSizeText(kInfiniteSize), "inf");
  for (uint64_t v : {uint64_t{0}, uint64_t{1}, uint64_t{1023}, uint64_t{1} << 33, kInfiniteSize - 1}) {
    EXPECT_EQ(ParseSizeText(FormatSizeText(v), false), v) << v;
  }
}

TEST(TuneStringTest, EmptyTextIsNoRules) {
  EXPECT_TRUE(ParseTuneString("")->empty());
  EXPECT_TRUE(ParseTuneString("  \t ")->empty());
}

TEST(TuneStringTest, ParsesTheDocumentedExample) {
  auto rules = ParseTuneString("allreduce:0-64k:tree#allreduce:64k-inf:ring");
  ASSERT_TRUE(rules.ok()) << rules.status();
  ASSERT_EQ(rules->size(), 2u);
  EXPECT_EQ((*rules)[0], (TuneRule{K::kAllreduce, 0, 64 << 10, "tree", 0, 0}));
  EXPECT_EQ((*rules)[1], (TuneRule{K::kAllreduce, 64 << 10, kInfiniteSize, "ring", 0, 0}));
}

TEST(TuneStringTest, ParsesChunkChannelsBlanksAndDefaultRange) {
  auto rules = ParseTuneString(
      " allreduce : 1k - 2M : ring : chunk=256k : channels=2 # barrier:tree#"
      "sendrecv:1g-inf:pipelined:channels=4:chunk=1000#reduce_scatter:0-4096:direct");
  ASSERT_TRUE(rules.ok()) << rules.status();
  ASSERT_EQ(rules->size(), 4u);
  EXPECT_EQ((*rules)[0], (TuneRule{K::kAllreduce, 1024, 2 << 20, "ring", 256 << 10, 2}));
  EXPECT_EQ((*rules)[1], (TuneRule{K::kBarrier, 0, kInfiniteSize, "tree", 0, 0}));
  EXPECT_EQ((*rules)[2], (TuneRule{K::kSendRecv, uint64_t{1} << 30, kInfiniteSize, "pipelined", 1000, 4}));
  EXPECT_EQ((*rules)[3], (TuneRule{K::kReduceScatter, 0, 4096, "direct", 0, 0}));
}

TEST(TuneStringTest, EveryCollectiveNameParses) {
  for (int i = 0; i < kNumCollectiveKinds; ++i) {
    auto kind = static_cast<CollectiveKind>(i);
    auto rules = ParseTuneString(std::string(CollectiveName(kind)) + ":x");
    ASSERT_TRUE(rules.ok()) << rules.status();
    EXPECT_EQ((*rules)[0].coll, kind);
  }
}

TEST(TuneStringTest, BadSize) {
  EXPECT_EQ(ErrorOf("allreduce:0-64k:tree#allreduce:64q-inf:ring"),
            "MC_TUNE: bad size '64q' in rule 2 (\"allreduce:64q-inf:ring\")");
  EXPECT_EQ(ErrorOf("allreduce:0-12x:ring"), "MC_TUNE: bad size '12x' in rule 1 (\"allreduce:0-12x:ring\")");
  EXPECT_EQ(ErrorOf("allreduce:0-99999999999999999999:ring"),
            "MC_TUNE: bad size '99999999999999999999' in rule 1 (\"allreduce:0-99999999999999999999:ring\")");
  EXPECT_EQ(ErrorOf("allreduce:-64k:ring"), "MC_TUNE: bad size '' in rule 1 (\"allreduce:-64k:ring\")");
  EXPECT_EQ(ErrorOf("allreduce:inf-1k:ring"),
            "MC_TUNE: bad size 'inf' in rule 1 (\"allreduce:inf-1k:ring\"); inf is only valid as the upper bound");
}

TEST(TuneStringTest, BadRange) {
  EXPECT_EQ(ErrorOf("allreduce:64k:ring"),
            "MC_TUNE: bad range '64k' in rule 1 (\"allreduce:64k:ring\"); expected LO-HI, e.g. 0-64k or 64k-inf");
  EXPECT_EQ(ErrorOf("allreduce:64k-1k:ring"),
            "MC_TUNE: empty range '64k-1k' in rule 1 (\"allreduce:64k-1k:ring\"); LO must be below HI");
  EXPECT_EQ(ErrorOf("allreduce:4k-4096:ring"),
            "MC_TUNE: empty range '4k-4096' in rule 1 (\"allreduce:4k-4096:ring\"); LO must be below HI");
}

TEST(TuneStringTest, UnknownCollective) {
  EXPECT_EQ(ErrorOf("allreduc:0-inf:ring"),
            "MC_TUNE: unknown collective 'allreduc' in rule 1 (\"allreduc:0-inf:ring\"); expected one of allreduce, "
            "allgather, allgatherv, reduce_scatter, broadcast, reduce, alltoall, alltoallv, gather, scatter, "
            "barrier, sendrecv");
  EXPECT_THAT(ErrorOf(":0-inf:ring"), StartsWith("MC_TUNE: unknown collective '' in rule 1 (\":0-inf:ring\"); exp"));
}

TEST(TuneStringTest, MissingOrBadAlgorithm) {
  const std::string hint = "; expected COLLECTIVE[:LO-HI]:ALGORITHM";
  EXPECT_EQ(ErrorOf("allreduce"), "MC_TUNE: missing algorithm in rule 1 (\"allreduce\")" + hint);
  EXPECT_EQ(ErrorOf("allreduce:0-64k"), "MC_TUNE: missing algorithm in rule 1 (\"allreduce:0-64k\")" + hint);
  EXPECT_EQ(ErrorOf("allreduce:0-64k::chunk=4k"),
            "MC_TUNE: missing algorithm in rule 1 (\"allreduce:0-64k::chunk=4k\")" + hint);
  EXPECT_EQ(ErrorOf("allreduce:chunk=4k"), "MC_TUNE: missing algorithm in rule 1 (\"allreduce:chunk=4k\")" + hint);
  EXPECT_EQ(ErrorOf("allreduce:0-64k:Ring"),
            "MC_TUNE: bad algorithm name 'Ring' in rule 1 (\"allreduce:0-64k:Ring\"); expected lower case letters, "
            "digits and '_', starting with a letter");
  EXPECT_THAT(ErrorOf("allreduce:0-64k:2ring"), StartsWith("MC_TUNE: bad algorithm name '2ring' in rule 1"));
}

TEST(TuneStringTest, BadFields) {
  EXPECT_EQ(ErrorOf("allreduce:0-64k:ring:foo=1"),
            "MC_TUNE: unknown field 'foo=1' in rule 1 (\"allreduce:0-64k:ring:foo=1\"); expected chunk=SIZE or "
            "channels=N");
  EXPECT_EQ(ErrorOf("allreduce:0-64k:ring:fast"),
            "MC_TUNE: unknown field 'fast' in rule 1 (\"allreduce:0-64k:ring:fast\"); expected chunk=SIZE or "
            "channels=N");
  EXPECT_EQ(ErrorOf("allreduce:0-64k:ring:chunk=0"),
            "MC_TUNE: bad chunk '0' in rule 1 (\"allreduce:0-64k:ring:chunk=0\"); expected a positive size such as "
            "256k");
  EXPECT_THAT(ErrorOf("allreduce:0-64k:ring:chunk=inf"), StartsWith("MC_TUNE: bad chunk 'inf' in rule 1"));
  EXPECT_THAT(ErrorOf("allreduce:0-64k:ring:chunk="), StartsWith("MC_TUNE: bad chunk '' in rule 1"));
  EXPECT_EQ(ErrorOf("allreduce:0-64k:ring:channels=0"),
            "MC_TUNE: bad channels '0' in rule 1 (\"allreduce:0-64k:ring:channels=0\"); expected an integer from 1 "
            "to 64");
  for (const char* bad : {"65", "x", "2x", "-1", ""}) {
    EXPECT_THAT(ErrorOf(std::string("allreduce:ring:channels=") + bad),
                StartsWith(std::string("MC_TUNE: bad channels '") + bad + "' in rule 1"));
  }
  EXPECT_EQ(ErrorOf("allreduce:ring:chunk=1k:chunk=2k"),
            "MC_TUNE: chunk given twice at 'chunk=2k' in rule 1 (\"allreduce:ring:chunk=1k:chunk=2k\")");
  EXPECT_EQ(ErrorOf("allreduce:ring:channels=1:channels=2"),
            "MC_TUNE: channels given twice at 'channels=2' in rule 1 (\"allreduce:ring:channels=1:channels=2\")");
}

TEST(TuneStringTest, EmptyRules) {
  EXPECT_EQ(ErrorOf("allreduce:ring##broadcast:tree"), "MC_TUNE: empty rule 2 (rules are separated by a single '#')");
  EXPECT_EQ(ErrorOf("allreduce:ring#"), "MC_TUNE: empty rule 2 (rules are separated by a single '#')");
  EXPECT_EQ(ErrorOf("#allreduce:ring"), "MC_TUNE: empty rule 1 (rules are separated by a single '#')");
}

TEST(TuneStringTest, OriginNamesTheSource) {
  auto rules = ParseTuneString("allreduce:1x-2:ring", "mc_tune --rules");
  ASSERT_FALSE(rules.ok());
  EXPECT_EQ(Message(rules.status()), "mc_tune --rules: bad size '1x' in rule 1 (\"allreduce:1x-2:ring\")");
}

TEST(TuneStringTest, SingleRuleErrorsHaveNoOrigin) {
  EXPECT_EQ(Message(ParseTuneRule("allreduce:64q-inf:ring").status()),
            "bad size '64q' in rule \"allreduce:64q-inf:ring\"");
  EXPECT_EQ(Message(ParseTuneRule("  ").status()), "empty rule");
  EXPECT_EQ(*ParseTuneRule("gather:tree"), (TuneRule{K::kGather, 0, kInfiniteSize, "tree", 0, 0}));
}

TEST(TuneStringTest, FormatRoundTrips) {
  std::vector<TuneRule> rules = {
      {K::kAllreduce, 0, 64 << 10, "tree", 0, 0},
      {K::kAllreduce, 64 << 10, kInfiniteSize, "ring", 256 << 10, 2},
      {K::kBroadcast, 1000, 1536, "pipelined", 1000, 0},
      {K::kSendRecv, uint64_t{3} << 30, kInfiniteSize - 1, "direct", 0, 64},
      {K::kBarrier, 0, kInfiniteSize, "dissemination", 0, 0},
  };
  std::string text = FormatTuneRules(rules);
  EXPECT_EQ(text,
            "allreduce:0-64k:tree#allreduce:64k-inf:ring:chunk=256k:channels=2#broadcast:1000-1536:pipelined:"
            "chunk=1000#sendrecv:3g-18446744073709551614:direct:channels=64#barrier:0-inf:dissemination");
  auto parsed = ParseTuneString(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed, rules);
  EXPECT_EQ(FormatTuneRules({}), "");
}

TEST(TuneStringTest, FormatIsCanonical) {
  auto parsed = ParseTuneString(" allgather : 0-1024 : ring : channels=2:chunk=4096 # scatter:tree");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(FormatTuneRules(*parsed), "allgather:0-1k:ring:chunk=4k:channels=2#scatter:0-inf:tree");
}

}  // namespace
}  // namespace mc::algo
