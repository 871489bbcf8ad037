// mc_perf's command line: the collective flags and their errors.
#include "mc_perf/options.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mc::perf {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

absl::StatusOr<Options> Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "mc_perf");
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  return ParseOptions(static_cast<int>(argv.size()), argv.data());
}

std::string Error(std::vector<std::string> args) {
  absl::StatusOr<Options> o = Parse(std::move(args));
  EXPECT_FALSE(o.ok());
  EXPECT_TRUE(o.ok() || absl::IsInvalidArgument(o.status())) << o.status();
  return o.ok() ? "" : std::string(o.status().message());
}

TEST(McPerfOptions, DefaultsToP2p) {
  absl::StatusOr<Options> o = Parse({});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->mode, "p2p");
  o = Parse({"--op", "p2p", "--window", "4", "--check"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->window, 4);
  EXPECT_TRUE(o->check);
}

TEST(McPerfOptions, CollectiveFlags) {
  absl::StatusOr<Options> o = Parse({"--op", "reduce", "-b", "1K", "-e", "64M", "-f", "4", "--np", "4", "-d", "bf16",
                                     "-o", "max", "--root", "3", "--algo", "tree", "--inplace", "--check"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->mode, "reduce");
  EXPECT_EQ(o->coll, CollectiveKind::kReduce);
  EXPECT_EQ(o->min_bytes, 1024u);
  EXPECT_EQ(o->max_bytes, 64u << 20);
  EXPECT_EQ(o->dtype, DataType::kBFloat16);
  EXPECT_EQ(o->redop, ReduceOp::kMax);
  EXPECT_EQ(o->root, 3);
  EXPECT_EQ(o->algo, "tree");
  EXPECT_TRUE(o->inplace);
  EXPECT_TRUE(o->check);

  o = Parse({"--op", "allreduce", "--dtype", "float64", "--redop", "avg"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->dtype, DataType::kFloat64);
  EXPECT_EQ(o->redop, ReduceOp::kAvg);
  EXPECT_TRUE(o->algo.empty());
}

TEST(McPerfOptions, DefaultsForCollectives) {
  absl::StatusOr<Options> o = Parse({"--op", "allgather"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->dtype, DataType::kFloat32);
  EXPECT_EQ(o->redop, ReduceOp::kSum);
  EXPECT_EQ(o->root, 0);
  EXPECT_FALSE(o->inplace);
}

TEST(McPerfOptions, EveryCollectiveAndTypeName) {
  for (CollectiveKind k : kBenchCollectives) {
    absl::StatusOr<Options> o = Parse({"--op", CollectiveName(k)});
    ASSERT_TRUE(o.ok()) << CollectiveName(k) << ": " << o.status();
    EXPECT_EQ(o->coll, k);
  }
  for (int t = 0; t < kNumDataTypes; ++t) {
    const char* name = DataTypeName(static_cast<DataType>(t));
    absl::StatusOr<Options> o = Parse({"--op", "allreduce", "-d", name});
    ASSERT_TRUE(o.ok()) << name << ": " << o.status();
    EXPECT_EQ(o->dtype, static_cast<DataType>(t));
  }
  for (int r = 0; r < kNumReduceOps; ++r) {
    const char* name = ReduceOpName(static_cast<ReduceOp>(r));
    absl::StatusOr<Options> o = Parse({"--op", "allreduce", "-o", name});
    ASSERT_TRUE(o.ok()) << name << ": " << o.status();
    EXPECT_EQ(o->redop, static_cast<ReduceOp>(r));
  }
}

TEST(McPerfOptions, BadOpNamesTheValue) {
  EXPECT_THAT(Error({"--op", "allreduse"}), AllOf(HasSubstr("allreduse"), HasSubstr("allreduce"), HasSubstr("p2p")));
  // Collectives the benchmark does not measure.
  EXPECT_THAT(Error({"--op", "alltoallv"}), HasSubstr("alltoallv"));
}

TEST(McPerfOptions, BadDtypeNamesTheValue) {
  EXPECT_THAT(Error({"--op", "allreduce", "-d", "f33"}), AllOf(HasSubstr("f33"), HasSubstr("bf16")));
  EXPECT_THAT(Error({"--op", "allreduce", "--dtype", "float"}), HasSubstr("float"));
}

TEST(McPerfOptions, BadRedopNamesTheValue) {
  EXPECT_THAT(Error({"--op", "allreduce", "-o", "mean"}), AllOf(HasSubstr("mean"), HasSubstr("avg")));
  EXPECT_THAT(Error({"--op", "allreduce", "--redop", "SUM"}), HasSubstr("SUM"));
}

TEST(McPerfOptions, BadAlgoNamesTheValueAndTheChoices) {
  EXPECT_THAT(Error({"--op", "allreduce", "--algo", "rings"}),
              AllOf(HasSubstr("rings"), HasSubstr("allreduce"), HasSubstr("ring"), HasSubstr("dbtree")));
  // An algorithm of another collective.
  EXPECT_THAT(Error({"--op", "broadcast", "--algo", "ring"}),
              AllOf(HasSubstr("'ring'"), HasSubstr("broadcast"), HasSubstr("pipelined")));
  EXPECT_THAT(Error({"--op", "barrier", "--algo", "direct"}), AllOf(HasSubstr("direct"), HasSubstr("dissemination")));
  // The order of --algo and --op does not matter.
  EXPECT_TRUE(Parse({"--algo", "pairwise", "--op", "alltoall"}).ok());
  EXPECT_THAT(Error({"--op", "allgather", "--algo", ""}), HasSubstr("empty"));
}

TEST(McPerfOptions, BadRoot) {
  EXPECT_THAT(Error({"--op", "broadcast", "--root", "-1"}), HasSubstr("-1"));
  EXPECT_THAT(Error({"--op", "broadcast", "--root", "x"}), HasSubstr("--root x"));
  EXPECT_THAT(Error({"--op", "gather", "--np", "4", "--root", "4"}), AllOf(HasSubstr("--root 4"), HasSubstr("4")));
  EXPECT_TRUE(Parse({"--op", "gather", "--np", "4", "--root", "3"}).ok());
}

TEST(McPerfOptions, CollectiveFlagsAreNotForP2p) {
  EXPECT_THAT(Error({"--algo", "ring"}), HasSubstr("p2p"));
  EXPECT_THAT(Error({"--op", "p2p", "--inplace"}), HasSubstr("--inplace"));
  EXPECT_THAT(Error({"-d", "f64"}), HasSubstr("p2p"));
}

TEST(McPerfOptions, MissingValueAndUnknownFlag) {
  EXPECT_THAT(Error({"--op", "allreduce", "--algo"}), HasSubstr("--algo needs a value"));
  EXPECT_THAT(Error({"--op", "allreduce", "--root"}), HasSubstr("--root needs a value"));
  EXPECT_THAT(Error({"--dtypes", "f32"}), HasSubstr("unknown flag --dtypes"));
}

TEST(McPerfOptions, HelpIsCancelledWithUsage) {
  absl::StatusOr<Options> o = Parse({"--help"});
  ASSERT_TRUE(absl::IsCancelled(o.status()));
  EXPECT_THAT(std::string(o.status().message()), AllOf(HasSubstr("--algo"), HasSubstr("--inplace"), HasSubstr("-d")));
}

}  // namespace
}  // namespace mc::perf
