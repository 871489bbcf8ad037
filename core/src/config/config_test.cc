// Config: typed parsing with errors that name the variable and the value,
// defaults and sources, plugin params, unknown variables.
#include <stdlib.h>

#include <algorithm>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mooncomm/config.h"

namespace mc::config {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

std::string Message(const absl::Status& s) { return std::string(s.message()); }

TEST(ConfigParseTest, Integers) {
  EXPECT_EQ(*ParseInt("MC_X", "42"), 42);
  EXPECT_EQ(*ParseInt("MC_X", " -7 "), -7);
  EXPECT_THAT(Message(ParseInt("MC_X", "4k").status()), AllOf(HasSubstr("MC_X"), HasSubstr("'4k'")));
  EXPECT_FALSE(ParseInt("MC_X", "").ok());
  EXPECT_FALSE(ParseInt("MC_X", "99999999999999999999").ok());
}

TEST(ConfigParseTest, Booleans) {
  for (const char* yes : {"1", "true", "YES", "on"}) EXPECT_TRUE(*ParseBool("MC_B", yes)) << yes;
  for (const char* no : {"0", "false", "No", "off"}) EXPECT_FALSE(*ParseBool("MC_B", no)) << no;
  EXPECT_THAT(Message(ParseBool("MC_B", "maybe").status()), AllOf(HasSubstr("MC_B"), HasSubstr("maybe")));
}

TEST(ConfigParseTest, SizesWithSuffixes) {
  EXPECT_EQ(*ParseSize("MC_S", "0"), 0u);
  EXPECT_EQ(*ParseSize("MC_S", "4096"), 4096u);
  EXPECT_EQ(*ParseSize("MC_S", "4K"), 4096u);
  EXPECT_EQ(*ParseSize("MC_S", "4kb"), 4096u);
  EXPECT_EQ(*ParseSize("MC_S", "256M"), 256ull << 20);
  EXPECT_EQ(*ParseSize("MC_S", "1g"), 1ull << 30);
  EXPECT_EQ(*ParseSize("MC_S", "2T"), 2ull << 40);
  for (const char* bad : {"", "K", "-1", "1.5M", "12Q", "99999999999T"}) {
    EXPECT_THAT(Message(ParseSize("MC_S", bad).status()), HasSubstr("MC_S")) << bad;
  }
}

class ConfigEnvTest : public ::testing::Test {
 protected:
  void TearDown() override {
    for (const char* name : {"MC_TIMEOUT_MS", "MC_LOG_LEVEL", "MC_TRANSPORT", "MC_NOT_A_THING", "MC_CFGTEST_DEPTH"}) {
      unsetenv(name);
    }
  }
};

TEST_F(ConfigEnvTest, DefaultsAndSources) {
  unsetenv("MC_TIMEOUT_MS");
  EXPECT_EQ(*GetInt("MC_TIMEOUT_MS"), 30000);
  EXPECT_EQ(absl::ToInt64Milliseconds(*Timeout()), 30000);
  setenv("MC_TIMEOUT_MS", "1500", 1);
  EXPECT_EQ(*GetInt("MC_TIMEOUT_MS"), 1500);
  std::vector<ParamValue> all = All();
  auto it = std::find_if(all.begin(), all.end(), [](const ParamValue& v) { return v.spec.name == "MC_TIMEOUT_MS"; });
  ASSERT_NE(it, all.end());
  EXPECT_EQ(it->value, "1500");
  EXPECT_EQ(it->source, ParamSource::kEnvironment);
  EXPECT_STREQ(SourceName(it->source), "environment");
}

TEST_F(ConfigEnvTest, EnumIsCaseInsensitiveAndBadValuesListChoices) {
  setenv("MC_LOG_LEVEL", "INFO", 1);
  EXPECT_EQ(*LogLevel(), MC_LOG_INFO);
  setenv("MC_LOG_LEVEL", "chatty", 1);
  EXPECT_THAT(Message(LogLevel().status()), AllOf(HasSubstr("MC_LOG_LEVEL"), HasSubstr("chatty"), HasSubstr("trace")));
  EXPECT_FALSE(ValidateAll().ok());
}

TEST_F(ConfigEnvTest, ValidateAllNamesTheFirstBadVariable) {
  EXPECT_TRUE(ValidateAll().ok());
  setenv("MC_TIMEOUT_MS", "-5", 1);
  EXPECT_THAT(Message(ValidateAll()), HasSubstr("MC_TIMEOUT_MS"));
  setenv("MC_TIMEOUT_MS", "ten", 1);
  EXPECT_THAT(Message(ValidateAll()), AllOf(HasSubstr("MC_TIMEOUT_MS"), HasSubstr("ten")));
}

TEST_F(ConfigEnvTest, UndeclaredNamesAreNotFound) {
  EXPECT_TRUE(absl::IsNotFound(GetInt("MC_NO_SUCH_VARIABLE").status()));
}

TEST_F(ConfigEnvTest, UnknownVariablesAreListedAndPluginParamsBecomeKnown) {
  setenv("MC_NOT_A_THING", "1", 1);
  setenv("MC_CFGTEST_DEPTH", "3", 1);
  std::vector<std::string> unknown = UnknownVariables();
  EXPECT_THAT(unknown, ::testing::Contains("MC_NOT_A_THING"));
  EXPECT_THAT(unknown, ::testing::Contains("MC_CFGTEST_DEPTH"));

  static const mc_param_v1_t kParams[] = {{"depth", MC_PARAM_INT, "8", "how deep"}};
  RegisterPluginParams("cfgtest", kParams, 1);
  RegisterPluginParams("cfgtest", kParams, 1);  // idempotent
  unknown = UnknownVariables();
  EXPECT_THAT(unknown, ::testing::Not(::testing::Contains("MC_CFGTEST_DEPTH")));
  EXPECT_EQ(*GetInt("MC_CFGTEST_DEPTH"), 3);
  absl::StatusOr<ParamSpec> spec = Spec("MC_CFGTEST_DEPTH");
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(spec->owner, "cfgtest");
  EXPECT_EQ(spec->default_value, "8");
  unsetenv("MC_CFGTEST_DEPTH");
  EXPECT_EQ(*GetInt("MC_CFGTEST_DEPTH"), 8);
}

}  // namespace
}  // namespace mc::config
