#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "plugin/loader.h"

namespace mc {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(TransportChoiceTest, AutoInAnyCase) {
  for (const char* text : {"auto", "AUTO", "Auto", "  auto "}) {
    absl::StatusOr<TransportChoice> choice = ParseTransportChoice(text);
    ASSERT_TRUE(choice.ok()) << text << ": " << choice.status();
    EXPECT_TRUE(choice->automatic) << text;
    EXPECT_TRUE(choice->names.empty()) << text;
  }
}

TEST(TransportChoiceTest, OneName) {
  absl::StatusOr<TransportChoice> choice = ParseTransportChoice("tcp");
  ASSERT_TRUE(choice.ok()) << choice.status();
  EXPECT_FALSE(choice->automatic);
  EXPECT_THAT(choice->names, ElementsAre("tcp"));
}

TEST(TransportChoiceTest, ListIsTrimmedLowerCasedAndKeepsOrder) {
  absl::StatusOr<TransportChoice> choice = ParseTransportChoice(" shm , TCP,rdma-verbs ,my_net2");
  ASSERT_TRUE(choice.ok()) << choice.status();
  EXPECT_FALSE(choice->automatic);
  EXPECT_THAT(choice->names, ElementsAre("shm", "tcp", "rdma-verbs", "my_net2"));
}

TEST(TransportChoiceTest, EmptyValueIsAnError) {
  for (const char* text : {"", "   "}) {
    absl::StatusOr<TransportChoice> choice = ParseTransportChoice(text);
    ASSERT_FALSE(choice.ok()) << "'" << text << "'";
    EXPECT_EQ(choice.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(choice.status().message(), HasSubstr("MC_TRANSPORT is empty"));
  }
}

TEST(TransportChoiceTest, EmptyItemIsNamedByPosition) {
  absl::StatusOr<TransportChoice> middle = ParseTransportChoice("tcp,,shm");
  ASSERT_FALSE(middle.ok());
  EXPECT_EQ(middle.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(middle.status().message(), "MC_TRANSPORT='tcp,,shm': item 2 is empty");

  absl::StatusOr<TransportChoice> trailing = ParseTransportChoice("tcp, ");
  ASSERT_FALSE(trailing.ok());
  EXPECT_THAT(trailing.status().message(), HasSubstr("item 2 is empty"));
}

TEST(TransportChoiceTest, DuplicateIsNamed) {
  absl::StatusOr<TransportChoice> choice = ParseTransportChoice("tcp,shm,TCP");
  ASSERT_FALSE(choice.ok());
  EXPECT_EQ(choice.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(choice.status().message(), AllOf(HasSubstr("item 3"), HasSubstr("'tcp'"), HasSubstr("repeats")));
}

TEST(TransportChoiceTest, BadCharacterIsNamed) {
  absl::StatusOr<TransportChoice> choice = ParseTransportChoice("tcp,sh m");
  ASSERT_FALSE(choice.ok());
  EXPECT_EQ(choice.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(choice.status().message(),
              AllOf(HasSubstr("item 2"), HasSubstr("'sh m'"), HasSubstr("bad character at position 3")));

  for (const char* text : {"tcp;shm", "/usr/lib/libmooncomm-ucx.so", "-tcp", "tcp:shm"}) {
    absl::StatusOr<TransportChoice> bad = ParseTransportChoice(text);
    EXPECT_FALSE(bad.ok()) << text;
    EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument) << text;
  }
}

TEST(TransportChoiceTest, AutoCannotBePartOfAList) {
  absl::StatusOr<TransportChoice> choice = ParseTransportChoice("shm,auto");
  ASSERT_FALSE(choice.ok());
  EXPECT_THAT(choice.status().message(), AllOf(HasSubstr("item 2"), HasSubstr("'auto'")));
}

}  // namespace
}  // namespace mc
