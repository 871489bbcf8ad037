#include "bootstrap/wire_format.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mc::bootstrap {
namespace {

using ::testing::HasSubstr;

Message Sample() {
  return Message{static_cast<uint8_t>(Op::kWait), -1234567890123, {"a", std::string("k\0ey", 4), "\xff\xfe"},
                 std::string("va\0l\nue", 7)};
}

std::string BodyOf(const std::string& frame) { return frame.substr(kFrameHeaderBytes); }

TEST(WireFormatTest, RoundTripKeepsBinaryKeysAndValues) {
  Message in = Sample();
  std::string frame = EncodeFrame(in);
  absl::StatusOr<std::optional<size_t>> size = CompleteFrameSize(frame);
  ASSERT_TRUE(size.ok()) << size.status();
  ASSERT_TRUE(size->has_value());
  EXPECT_EQ(**size, frame.size());
  absl::StatusOr<Message> out = DecodeBody(BodyOf(frame));
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->kind, in.kind);
  EXPECT_EQ(out->number, in.number);
  EXPECT_EQ(out->keys, in.keys);
  EXPECT_EQ(out->value, in.value);
  EXPECT_EQ(out->value.size(), 7u);
}

TEST(WireFormatTest, PartialFrameIsNotComplete) {
  std::string frame = EncodeFrame(Sample());
  for (size_t cut = 0; cut < frame.size(); ++cut) {
    absl::StatusOr<std::optional<size_t>> size = CompleteFrameSize(std::string_view(frame).substr(0, cut));
    ASSERT_TRUE(size.ok()) << "cut " << cut << ": " << size.status();
    EXPECT_FALSE(size->has_value()) << "cut " << cut;
  }
  // Two frames back to back: the first one's size is reported.
  std::string two = frame + frame;
  EXPECT_EQ(CompleteFrameSize(two)->value(), frame.size());
}

TEST(WireFormatTest, BadLengthPrefixesAreErrors) {
  absl::StatusOr<std::optional<size_t>> zero = CompleteFrameSize(std::string("\0\0\0\0", 4));
  ASSERT_FALSE(zero.ok());
  EXPECT_THAT(zero.status().message(), HasSubstr("body of 0 bytes"));
  absl::StatusOr<std::optional<size_t>> huge = CompleteFrameSize("\xff\xff\xff\xff");
  ASSERT_FALSE(huge.ok());
  EXPECT_THAT(huge.status().message(), HasSubstr("4294967295"));
  EXPECT_FALSE(ParseFrameHeader("GET ").ok());  // an HTTP client, say
  EXPECT_FALSE(ParseFrameHeader("abc").ok());
}

TEST(WireFormatTest, EveryTruncatedBodyIsAnError) {
  std::string body = BodyOf(EncodeFrame(Sample()));
  for (size_t cut = 0; cut < body.size(); ++cut) {
    EXPECT_FALSE(DecodeBody(std::string_view(body).substr(0, cut)).ok()) << "cut " << cut;
  }
}

TEST(WireFormatTest, TrailingBytesAreAnError) {
  std::string body = BodyOf(EncodeFrame(Sample())) + "x";
  absl::StatusOr<Message> out = DecodeBody(body);
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), HasSubstr("unexpected bytes"));
}

TEST(WireFormatTest, UnknownKindIsAnError) {
  std::string body = BodyOf(EncodeFrame(Sample()));
  body[0] = 42;
  absl::StatusOr<Message> out = DecodeBody(body);
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), HasSubstr("unknown message kind 42"));
}

TEST(WireFormatTest, LengthsPastTheEndOrOverLimitsAreErrors) {
  Message m{static_cast<uint8_t>(Op::kSet), 0, {"key"}, "value"};
  std::string body = BodyOf(EncodeFrame(m));
  // The key's length field sits after kind (1), number (8) and key count (4).
  std::string long_key = body;
  long_key[13] = '\x7f';
  EXPECT_FALSE(DecodeBody(long_key).ok());
  std::string many_keys = body;
  many_keys[9] = '\x01';  // key count 0x01000001
  absl::StatusOr<Message> out = DecodeBody(many_keys);
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), HasSubstr("keys, over the limit"));
}

TEST(WireFormatTest, ValidateRequestChecksShape) {
  EXPECT_TRUE(ValidateRequest(Message{static_cast<uint8_t>(Op::kSet), 0, {"k"}, "v"}).ok());
  EXPECT_TRUE(ValidateRequest(Message{static_cast<uint8_t>(Op::kGet), -1, {"k"}, ""}).ok());
  EXPECT_TRUE(ValidateRequest(Message{static_cast<uint8_t>(Op::kWait), 5, {"a", "b"}, ""}).ok());
  EXPECT_FALSE(ValidateRequest(Message{static_cast<uint8_t>(Op::kSet), 0, {}, "v"}).ok());
  EXPECT_FALSE(ValidateRequest(Message{static_cast<uint8_t>(Op::kAdd), 1, {"a", "b"}, ""}).ok());
  EXPECT_FALSE(ValidateRequest(Message{static_cast<uint8_t>(Op::kWait), 0, {}, ""}).ok());
  EXPECT_FALSE(ValidateRequest(Message{static_cast<uint8_t>(Op::kGet), 0, {""}, ""}).ok());
  EXPECT_FALSE(ValidateRequest(Message{static_cast<uint8_t>(Op::kGet), -7, {"k"}, ""}).ok());
  EXPECT_FALSE(ValidateRequest(Message{static_cast<uint8_t>(Reply::kOk), 0, {}, ""}).ok());
}

}  // namespace
}  // namespace mc::bootstrap
