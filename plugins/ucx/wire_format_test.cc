// The ucx plugin's wire formats: listen addresses, handshake frames, packed
// keys and the UCP tag layout.
#include <arpa/inet.h>

#include <cstring>
#include <string>

#include "gtest/gtest.h"
#include "handshake.h"
#include "listen_address.h"
#include "mooncomm/plugin_abi.h"
#include "packed_key.h"
#include "tag_layout.h"

namespace mc::ucx {
namespace {

ListenAddress Ipv4Address(const char* ip, uint16_t port, uint64_t nonce) {
  ListenAddress address;
  auto* sin = reinterpret_cast<sockaddr_in*>(&address.sockaddr);
  sin->sin_family = AF_INET;
  sin->sin_port = htons(port);
  inet_pton(AF_INET, ip, &sin->sin_addr);
  address.nonce = nonce;
  return address;
}

TEST(ListenAddressTest, RoundTripsIpv4AndIpv6) {
  uint8_t bytes[kListenAddressBytes];
  static_assert(kListenAddressBytes <= MC_MAX_ADDR_BYTES);
  EncodeListenAddress(Ipv4Address("10.1.2.3", 4242, 0x1122334455667788ull), bytes);
  ListenAddress decoded;
  std::string why;
  ASSERT_TRUE(DecodeListenAddress(bytes, sizeof(bytes), &decoded, &why)) << why;
  EXPECT_EQ(FormatSockaddr(decoded.sockaddr), "10.1.2.3:4242");
  EXPECT_EQ(decoded.nonce, 0x1122334455667788ull);

  ListenAddress v6;
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(&v6.sockaddr);
  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = htons(7);
  inet_pton(AF_INET6, "fd00::5", &sin6->sin6_addr);
  EncodeListenAddress(v6, bytes);
  ASSERT_TRUE(DecodeListenAddress(bytes, sizeof(bytes), &decoded, &why)) << why;
  EXPECT_EQ(FormatSockaddr(decoded.sockaddr), "[fd00::5]:7");
}

TEST(ListenAddressTest, RefusesGarbage) {
  uint8_t bytes[kListenAddressBytes];
  EncodeListenAddress(Ipv4Address("127.0.0.1", 80, 1), bytes);
  ListenAddress decoded;
  std::string why;
  EXPECT_FALSE(DecodeListenAddress(bytes, sizeof(bytes) - 1, &decoded, &why));
  EXPECT_NE(why.find("bytes"), std::string::npos) << why;
  uint8_t zeros[kListenAddressBytes] = {};
  EXPECT_FALSE(DecodeListenAddress(zeros, sizeof(zeros), &decoded, &why));
  EXPECT_NE(why.find("not a ucx listen address"), std::string::npos) << why;
  uint8_t bad_family[kListenAddressBytes];
  std::memcpy(bad_family, bytes, sizeof(bytes));
  bad_family[5] = 9;
  EXPECT_FALSE(DecodeListenAddress(bad_family, sizeof(bad_family), &decoded, &why));
  uint8_t no_port[kListenAddressBytes];
  EncodeListenAddress(Ipv4Address("127.0.0.1", 0, 1), no_port);
  EXPECT_FALSE(DecodeListenAddress(no_port, sizeof(no_port), &decoded, &why));
  EXPECT_NE(why.find("port 0"), std::string::npos) << why;
}

TEST(HandshakeTest, HelloRoundTripsAndArrivesInPieces) {
  HelloFrame frame;
  frame.listener_nonce = 99;
  frame.endpoint_id = 12345;
  frame.hello = std::string(MC_MAX_HELLO_BYTES, 'h');
  frame.worker_address = std::string(300, '\x07');
  const std::string bytes = EncodeHello(frame);
  HelloFrame parsed;
  size_t consumed = 0;
  std::string why;
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    EXPECT_EQ(ParseHello(bytes.substr(0, cut), &parsed, &consumed, &why), ParseResult::kIncomplete) << cut;
  }
  ASSERT_EQ(ParseHello(bytes, &parsed, &consumed, &why), ParseResult::kComplete) << why;
  EXPECT_EQ(consumed, bytes.size());
  EXPECT_EQ(parsed.listener_nonce, 99u);
  EXPECT_EQ(parsed.endpoint_id, 12345u);
  EXPECT_EQ(parsed.hello, frame.hello);
  EXPECT_EQ(parsed.worker_address, frame.worker_address);
}

TEST(HandshakeTest, EmptyHelloAndReplyRoundTrip) {
  HelloFrame hello;
  hello.endpoint_id = 1;
  hello.worker_address = "w";
  HelloFrame parsed_hello;
  size_t consumed = 0;
  std::string why;
  ASSERT_EQ(ParseHello(EncodeHello(hello), &parsed_hello, &consumed, &why), ParseResult::kComplete) << why;
  EXPECT_TRUE(parsed_hello.hello.empty());

  ReplyFrame reply;
  reply.endpoint_id = kMaxEndpointId;
  reply.worker_address = std::string(1000, 'a');
  ReplyFrame parsed;
  ASSERT_EQ(ParseReply(EncodeReply(reply), &parsed, &consumed, &why), ParseResult::kComplete) << why;
  EXPECT_EQ(parsed.endpoint_id, kMaxEndpointId);
  EXPECT_EQ(parsed.worker_address, reply.worker_address);
}

TEST(HandshakeTest, RefusesBadFrames) {
  HelloFrame parsed;
  ReplyFrame reply;
  size_t consumed = 0;
  std::string why;
  EXPECT_EQ(ParseHello("GET / HTTP/1.1\r\n", &parsed, &consumed, &why), ParseResult::kInvalid);
  EXPECT_NE(why.find("HELLO"), std::string::npos) << why;

  HelloFrame frame;
  frame.endpoint_id = 0;  // ids start at 1
  frame.worker_address = "w";
  EXPECT_EQ(ParseHello(EncodeHello(frame), &parsed, &consumed, &why), ParseResult::kInvalid);
  frame.endpoint_id = kMaxEndpointId + 1;
  EXPECT_EQ(ParseHello(EncodeHello(frame), &parsed, &consumed, &why), ParseResult::kInvalid);
  frame.endpoint_id = 5;
  frame.worker_address.clear();
  EXPECT_EQ(ParseHello(EncodeHello(frame), &parsed, &consumed, &why), ParseResult::kInvalid);
  frame.worker_address = "w";
  frame.hello = std::string(MC_MAX_HELLO_BYTES + 1, 'x');
  EXPECT_EQ(ParseHello(EncodeHello(frame), &parsed, &consumed, &why), ParseResult::kInvalid);
  EXPECT_NE(why.find("hello"), std::string::npos) << why;

  // A reply where a hello is expected, and the other way round.
  ReplyFrame r;
  r.endpoint_id = 3;
  r.worker_address = "w";
  EXPECT_EQ(ParseHello(EncodeReply(r), &parsed, &consumed, &why), ParseResult::kInvalid);
  frame.hello.clear();
  EXPECT_EQ(ParseReply(EncodeHello(frame), &reply, &consumed, &why), ParseResult::kInvalid);
  r.worker_address = std::string(kMaxWorkerAddressBytes + 1, 'w');
  EXPECT_EQ(ParseReply(EncodeReply(r), &reply, &consumed, &why), ParseResult::kInvalid);
}

TEST(PackedKeyTest, RoundTripsAndChecksRanges) {
  KeyContents key;
  key.base = 0x7f0000001000ull;
  key.length = 4096;
  key.ucx_key = std::string("\x01\x02\x03\x00\x05", 5);
  const std::string bytes = EncodeKey(key);
  EXPECT_EQ(bytes.size(), kPackedKeyOverhead + 5);
  KeyContents decoded;
  std::string why;
  ASSERT_TRUE(DecodeKey(bytes.data(), bytes.size(), &decoded, &why)) << why;
  EXPECT_EQ(decoded.base, key.base);
  EXPECT_EQ(decoded.length, key.length);
  EXPECT_EQ(decoded.ucx_key, key.ucx_key);

  EXPECT_TRUE(KeyCovers(decoded, key.base, 4096));
  EXPECT_TRUE(KeyCovers(decoded, key.base + 4095, 1));
  EXPECT_TRUE(KeyCovers(decoded, key.base + 4096, 0));
  EXPECT_FALSE(KeyCovers(decoded, key.base + 4095, 2));
  EXPECT_FALSE(KeyCovers(decoded, key.base - 1, 1));
  EXPECT_FALSE(KeyCovers(decoded, key.base + 4097, 0));
  EXPECT_FALSE(KeyCovers(decoded, key.base + 16, UINT64_MAX));  // no wrap-around
}

TEST(PackedKeyTest, RefusesGarbageAndCorruption) {
  KeyContents key;
  key.base = 4096;
  key.length = 100;
  key.ucx_key = "ucx";
  const std::string good = EncodeKey(key);
  KeyContents decoded;
  std::string why;
  for (size_t i = 0; i < good.size(); ++i) {
    std::string bad = good;
    bad[i] ^= 0x10;
    EXPECT_FALSE(DecodeKey(bad.data(), bad.size(), &decoded, &why)) << "flipped byte " << i;
  }
  EXPECT_FALSE(DecodeKey(good.data(), good.size() - 1, &decoded, &why));
  const std::string zeros(16, '\0'), ones(32, '\xff'), one(1, '\x01');
  EXPECT_FALSE(DecodeKey(zeros.data(), zeros.size(), &decoded, &why));
  EXPECT_FALSE(DecodeKey(ones.data(), ones.size(), &decoded, &why));
  EXPECT_FALSE(DecodeKey(one.data(), one.size(), &decoded, &why));
}

TEST(TagLayoutTest, SeparatesEndpointsKindsAndTags) {
  const uint64_t tag = MakeUcpTag(7, TagKind::kDirect, 0x123);
  EXPECT_EQ(EndpointIdOf(tag), 7u);
  EXPECT_EQ(KindOf(tag), TagKind::kDirect);
  EXPECT_EQ(PayloadOf(tag), 0x123u);
  EXPECT_NE(MakeUcpTag(7, TagKind::kDirect, 5), MakeUcpTag(8, TagKind::kDirect, 5));
  EXPECT_NE(MakeUcpTag(7, TagKind::kDirect, 5), MakeUcpTag(7, TagKind::kIndexed, 5));
  EXPECT_EQ(MakeUcpTag(kMaxEndpointId, TagKind::kControl, 0) & kKindMask, kAnyControlTag);
  EXPECT_EQ(EndpointIdOf(MakeUcpTag(kMaxEndpointId, TagKind::kIndexed, kPayloadMask)), kMaxEndpointId);
  EXPECT_TRUE(FitsDirect(kPayloadMask));
  EXPECT_FALSE(FitsDirect(kPayloadMask + 1));
  EXPECT_FALSE(FitsDirect(~0ull));
  // No user tag, direct or indexed, looks like a control message.
  EXPECT_NE(MakeUcpTag(1, TagKind::kDirect, kPayloadMask) & kKindMask, kAnyControlTag);
  EXPECT_NE(MakeUcpTag(1, TagKind::kIndexed, kPayloadMask) & kKindMask, kAnyControlTag);
}

}  // namespace
}  // namespace mc::ucx
