// mc_tune's pure parts: its command line, the winners and the merged rules.
#include "mc_tune/tune_table.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mc_tune/tune_options.h"
#include "tuner/size_text.h"
#include "tuner/tune_rule.h"

namespace mc::tune {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using K = CollectiveKind;

absl::StatusOr<TuneOptions> Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "mc_tune");
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  return ParseTuneOptions(static_cast<int>(argv.size()), argv.data());
}

TEST(TuneTable, WinnersPickTheFastestFirstOnTies) {
  std::vector<Measurement> m = {
      {K::kAllreduce, 1024, "direct", 5.0, 0}, {K::kAllreduce, 1024, "ring", 9.0, 0},
      {K::kAllreduce, 4096, "direct", 7.0, 0}, {K::kAllreduce, 4096, "ring", 7.0, 0},
  };
  std::vector<Winner> w = Winners(m);
  ASSERT_EQ(w.size(), 2u);
  EXPECT_EQ(w[0].algorithm, "direct");
  EXPECT_EQ(w[1].algorithm, "direct");  // tie: the first measured
}

TEST(TuneTable, TheCurrentChoiceStaysWithinTheMargin) {
  std::vector<Measurement> m = {
      {K::kAllreduce, 1024, "direct", 5.0, 0, false}, {K::kAllreduce, 1024, "ring", 5.2, 0, true},
      {K::kAllreduce, 4096, "direct", 5.0, 0, false}, {K::kAllreduce, 4096, "ring", 6.0, 0, true},
  };
  std::vector<Winner> w = Winners(m, 0.05);
  ASSERT_EQ(w.size(), 2u);
  EXPECT_EQ(w[0].algorithm, "ring");    // 4% slower than direct: stays
  EXPECT_EQ(w[1].algorithm, "direct");  // 20% slower: replaced
  EXPECT_EQ(Winners(m, 0)[0].algorithm, "direct");
}

TEST(TuneTable, RulesMergeNeighboursAndCoverEverySize) {
  std::vector<Measurement> m;
  auto add = [&](K k, uint64_t b, const char* a, double t) { m.push_back({k, b, a, t, 0}); };
  // allreduce: direct, direct, ring, ring, tree
  for (uint64_t b : {1u << 10, 1u << 12, 1u << 14, 1u << 16, 1u << 18}) {
    add(K::kAllreduce, b, "direct", b <= (1u << 12) ? 1 : 10);
    add(K::kAllreduce, b, "ring", b <= (1u << 12) ? 2 : b == (1u << 18) ? 10 : 5);
    add(K::kAllreduce, b, "tree", b == (1u << 18) ? 1 : 20);
  }
  add(K::kBarrier, 0, "dissemination", 3);
  add(K::kBarrier, 0, "tree", 2);
  std::vector<algo::TuneRule> rules = RulesFromWinners(Winners(m));
  EXPECT_EQ(algo::FormatTuneRules(rules),
            "allreduce:0-16k:direct#allreduce:16k-256k:ring#allreduce:256k-inf:tree#barrier:0-inf:tree");
}

TEST(TuneTable, OneWinnerIsOneRule) {
  std::vector<Measurement> m = {{K::kBroadcast, 1024, "tree", 1, 0}, {K::kBroadcast, 4096, "tree", 2, 0}};
  algo::TuningTable t = MakeTable(m, 0.05, "shm", 4, {"a comment"});
  ASSERT_EQ(t.rules.size(), 1u);
  EXPECT_EQ(t.rules[0].lo, 0u);
  EXPECT_EQ(t.rules[0].hi, algo::kInfiniteSize);
  EXPECT_EQ(t.transport, "shm");
  EXPECT_EQ(t.world_size, 4);
  // The table goes through the tuning file format and back.
  absl::StatusOr<std::string> text = algo::FormatTuningTable(t);
  ASSERT_TRUE(text.ok()) << text.status();
  absl::StatusOr<algo::TuningTable> back = algo::ParseTuningTable(*text, "t");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, t);
}

TEST(TuneOptionsTest, DefaultsAndOutputs) {
  absl::StatusOr<TuneOptions> o = Parse({"--np", "2", "-o", "out/tuning.txt"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->np, 2);
  EXPECT_EQ(o->chart, "out/tuning.png");
  EXPECT_EQ(o->csv, "out/tuning.csv");
  EXPECT_EQ(o->ops.size(), 9u);
  o = Parse({"--ops", "allreduce,alltoall", "--chart", "none", "--csv", "m.csv", "-b", "4K", "-e", "1M", "-f", "2"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->ops, (std::vector<K>{K::kAllreduce, K::kAlltoall}));
  EXPECT_EQ(o->chart, "");
  EXPECT_EQ(o->csv, "m.csv");
  EXPECT_EQ(o->min_bytes, 4096u);
  EXPECT_EQ(o->factor, 2u);
  EXPECT_EQ(Stem("a.b/c"), "a.b/c");
  EXPECT_EQ(Stem(".hidden"), ".hidden");
  EXPECT_DOUBLE_EQ(o->margin, 0.05);
  o = Parse({"--margin", "12.5"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_DOUBLE_EQ(o->margin, 0.125);
}

TEST(TuneOptionsTest, ErrorsNameTheBadValue) {
  EXPECT_THAT(std::string(Parse({"--ops", "allreduce,alltoal"}).status().message()),
              AllOf(HasSubstr("alltoal"), HasSubstr("alltoall")));
  EXPECT_THAT(std::string(Parse({"--ops", "allreduce,allreduce"}).status().message()), HasSubstr("twice"));
  EXPECT_THAT(std::string(Parse({"-d", "f8"}).status().message()), HasSubstr("f8"));
  EXPECT_THAT(std::string(Parse({"--margin", "-3"}).status().message()), HasSubstr("--margin -3"));
  EXPECT_THAT(std::string(Parse({"-f", "1"}).status().message()), HasSubstr("at least 2"));
  EXPECT_THAT(std::string(Parse({"-b", "1M", "-e", "1K"}).status().message()), HasSubstr("larger"));
  EXPECT_THAT(std::string(Parse({"--np"}).status().message()), HasSubstr("--np needs a value"));
  EXPECT_THAT(std::string(Parse({"--bogus", "1"}).status().message()), HasSubstr("--bogus"));
  EXPECT_TRUE(absl::IsCancelled(Parse({"--help"}).status()));
}

}  // namespace
}  // namespace mc::tune
