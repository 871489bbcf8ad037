#include "bootstrap/host_port.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mooncomm/bootstrap.h"

namespace mc {
namespace {

using ::testing::HasSubstr;
using ::testing::Pair;

TEST(ParseHostPortTest, AcceptsNamesIPv4AndBracketedIPv6) {
  EXPECT_THAT(*ParseHostPort("node1:29500"), Pair("node1", 29500));
  EXPECT_THAT(*ParseHostPort("10.1.2.3:1"), Pair("10.1.2.3", 1));
  EXPECT_THAT(*ParseHostPort("[::1]:65535"), Pair("::1", 65535));
  EXPECT_THAT(*ParseHostPort("[fe80::1%eth0]:80"), Pair("fe80::1%eth0", 80));
  EXPECT_THAT(*ParseHostPort("  host:42 \n"), Pair("host", 42));
}

struct BadCase {
  const char* text;
  const char* message;
};

class ParseHostPortErrorTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(ParseHostPortErrorTest, NamesTheProblem) {
  absl::StatusOr<std::pair<std::string, int>> parsed = ParseHostPort(GetParam().text);
  ASSERT_FALSE(parsed.ok()) << GetParam().text;
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(parsed.status().message(), HasSubstr(GetParam().message));
}

INSTANTIATE_TEST_SUITE_P(
    All, ParseHostPortErrorTest,
    ::testing::Values(BadCase{"", "empty address"}, BadCase{"   ", "empty address"},
                      BadCase{"node1", "has no port"}, BadCase{"node1:", "has no port after"},
                      BadCase{":29500", "has no host"}, BadCase{"node1:http", "'http' is not a number"},
                      BadCase{"node1:-5", "is not a number"}, BadCase{"node1:0", "outside 1-65535"},
                      BadCase{"node1:65536", "outside 1-65535"}, BadCase{"node1:99999999999", "not a number"},
                      BadCase{"::1:29500", "brackets"}, BadCase{"[::1:29500", "no closing ']'"},
                      BadCase{"[::1]29500", "needs ':port'"}, BadCase{"[]:29500", "has no host"}));

TEST(FormatHostPortTest, BracketsIPv6) {
  EXPECT_EQ(bootstrap::FormatHostPort("10.0.0.1", 5), "10.0.0.1:5");
  EXPECT_EQ(bootstrap::FormatHostPort("::1", 5), "[::1]:5");
  EXPECT_THAT(*ParseHostPort(bootstrap::FormatHostPort("fe80::2", 7)), Pair("fe80::2", 7));
}

}  // namespace
}  // namespace mc
