#include "transports/tcp/frame.h"

#include <cstring>
#include <random>

#include "gtest/gtest.h"
#include "mooncomm/plugin_abi.h"

namespace mc::tcp {
namespace {

constexpr uint64_t kMax = 1ull << 30;

FrameHeader SampleHeader() {
  FrameHeader h;
  h.type = FrameType::kPut;
  h.status = 0;
  h.length = 123456;
  h.tag = 0x0102030405060708ull;
  h.id = 42;
  h.addr = 0xdeadbeefcafef00dull;
  h.key = 7;
  return h;
}

TEST(TcpFrameTest, RoundTripsEveryField) {
  uint8_t bytes[kFrameHeaderBytes];
  EncodeFrameHeader(SampleHeader(), bytes);
  absl::StatusOr<FrameHeader> h = DecodeFrameHeader(bytes, kMax);
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->type, FrameType::kPut);
  EXPECT_EQ(h->length, 123456u);
  EXPECT_EQ(h->tag, 0x0102030405060708ull);
  EXPECT_EQ(h->id, 42u);
  EXPECT_EQ(h->addr, 0xdeadbeefcafef00dull);
  EXPECT_EQ(h->key, 7u);
}

TEST(TcpFrameTest, WireLayoutIsLittleEndianWithMagicFirst) {
  uint8_t bytes[kFrameHeaderBytes];
  EncodeFrameHeader(SampleHeader(), bytes);
  EXPECT_EQ(std::memcmp(bytes, "MCCP", 4), 0);
  EXPECT_EQ(bytes[4], kProtocolVersion);
  EXPECT_EQ(bytes[5], static_cast<uint8_t>(FrameType::kPut));
  EXPECT_EQ(bytes[16], 0x08);  // tag, least significant byte first
  EXPECT_EQ(bytes[23], 0x01);
}

TEST(TcpFrameTest, RejectsTruncatedHeader) {
  uint8_t bytes[kFrameHeaderBytes];
  EncodeFrameHeader(SampleHeader(), bytes);
  for (size_t n : {size_t{0}, size_t{1}, size_t{47}}) {
    absl::StatusOr<FrameHeader> h = DecodeFrameHeader(absl::MakeConstSpan(bytes, n), kMax);
    ASSERT_FALSE(h.ok());
    EXPECT_EQ(h.status().code(), absl::StatusCode::kDataLoss);
    EXPECT_NE(h.status().message().find("truncated"), std::string_view::npos) << h.status();
  }
}

TEST(TcpFrameTest, RejectsBadMagic) {
  uint8_t bytes[kFrameHeaderBytes];
  EncodeFrameHeader(SampleHeader(), bytes);
  bytes[0] ^= 0xff;
  absl::StatusOr<FrameHeader> h = DecodeFrameHeader(bytes, kMax);
  ASSERT_FALSE(h.ok());
  EXPECT_NE(h.status().message().find("magic"), std::string_view::npos) << h.status();
}

TEST(TcpFrameTest, RejectsOtherVersion) {
  uint8_t bytes[kFrameHeaderBytes];
  EncodeFrameHeader(SampleHeader(), bytes);
  bytes[4] = kProtocolVersion + 1;
  absl::StatusOr<FrameHeader> h = DecodeFrameHeader(bytes, kMax);
  ASSERT_FALSE(h.ok());
  EXPECT_NE(h.status().message().find("version"), std::string_view::npos) << h.status();
}

TEST(TcpFrameTest, RejectsUnknownTypes) {
  uint8_t bytes[kFrameHeaderBytes];
  EncodeFrameHeader(SampleHeader(), bytes);
  for (uint8_t type : {0, 8, 200, 255}) {
    bytes[5] = type;
    absl::StatusOr<FrameHeader> h = DecodeFrameHeader(bytes, kMax);
    ASSERT_FALSE(h.ok()) << "type " << int{type};
    EXPECT_NE(h.status().message().find("unknown frame type"), std::string_view::npos) << h.status();
  }
}

TEST(TcpFrameTest, RejectsReservedBytes) {
  uint8_t bytes[kFrameHeaderBytes];
  EncodeFrameHeader(SampleHeader(), bytes);
  bytes[47] = 1;
  EXPECT_FALSE(DecodeFrameHeader(bytes, kMax).ok());
}

TEST(TcpFrameTest, RejectsOversizeLengths) {
  FrameHeader h = SampleHeader();
  uint8_t bytes[kFrameHeaderBytes];
  for (FrameType type : {FrameType::kEager, FrameType::kRts, FrameType::kPut, FrameType::kRndvData}) {
    h.type = type;
    h.length = kMax;
    EncodeFrameHeader(h, bytes);
    EXPECT_TRUE(DecodeFrameHeader(bytes, kMax).ok()) << FrameTypeName(type);
    h.length = kMax + 1;
    EncodeFrameHeader(h, bytes);
    absl::StatusOr<FrameHeader> decoded = DecodeFrameHeader(bytes, kMax);
    ASSERT_FALSE(decoded.ok()) << FrameTypeName(type);
    EXPECT_NE(decoded.status().message().find("above the limit"), std::string_view::npos) << decoded.status();
    h.length = UINT64_MAX;
    EncodeFrameHeader(h, bytes);
    EXPECT_FALSE(DecodeFrameHeader(bytes, kMax).ok()) << FrameTypeName(type);
  }
}

TEST(TcpFrameTest, HelloIsBoundedByTheHelloLimit) {
  FrameHeader h;
  h.type = FrameType::kHello;
  h.length = MC_MAX_HELLO_BYTES;
  uint8_t bytes[kFrameHeaderBytes];
  EncodeFrameHeader(h, bytes);
  EXPECT_TRUE(DecodeFrameHeader(bytes, kMax).ok());
  h.length = MC_MAX_HELLO_BYTES + 1;
  EncodeFrameHeader(h, bytes);
  EXPECT_FALSE(DecodeFrameHeader(bytes, kMax).ok());
}

TEST(TcpFrameTest, RandomGarbageIsRejectedNotTrusted) {
  std::mt19937_64 rng(1234);
  int accepted = 0;
  for (int i = 0; i < 100000; ++i) {
    uint8_t bytes[kFrameHeaderBytes];
    for (uint8_t& b : bytes) b = static_cast<uint8_t>(rng());
    if (i % 2 == 0) std::memcpy(bytes, "MCCP\x01", 5);  // past the magic check half the time
    absl::StatusOr<FrameHeader> h = DecodeFrameHeader(bytes, kMax);
    if (h.ok()) {
      ++accepted;
      EXPECT_LE(h->length, kMax);
    }
  }
  // Random types and reserved bytes make acceptance vanishingly rare.
  EXPECT_LT(accepted, 10);
}

TEST(TcpFrameTest, PayloadTypes) {
  EXPECT_TRUE(FrameHasPayload(FrameType::kEager));
  EXPECT_TRUE(FrameHasPayload(FrameType::kPut));
  EXPECT_TRUE(FrameHasPayload(FrameType::kRndvData));
  EXPECT_TRUE(FrameHasPayload(FrameType::kHello));
  EXPECT_FALSE(FrameHasPayload(FrameType::kRts));
  EXPECT_FALSE(FrameHasPayload(FrameType::kCts));
  EXPECT_FALSE(FrameHasPayload(FrameType::kPutAck));
}

}  // namespace
}  // namespace mc::tcp
