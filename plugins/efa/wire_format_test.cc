#include "wire_format.h"

#include <string>

#include "gtest/gtest.h"

namespace mc::efa {
namespace {

ListenAddress SampleAddress() {
  ListenAddress a;
  a.family = 4;
  a.ip[0] = 127;
  a.ip[3] = 1;
  a.port = 40123;
  a.scope_id = 0;
  a.device_index = 3;
  a.provider_id = ProviderId("tcp;ofi_rxm");
  a.listener_id = 0x1122334455667788ull;
  return a;
}

TEST(ListenAddressTest, RoundTrips) {
  const std::string bytes = EncodeListenAddress(SampleAddress());
  ASSERT_EQ(bytes.size(), kListenAddressBytes);
  ListenAddress back;
  std::string why;
  ASSERT_TRUE(DecodeListenAddress(bytes.data(), bytes.size(), &back, &why)) << why;
  EXPECT_EQ(back.family, 4);
  EXPECT_EQ(back.ip[0], 127);
  EXPECT_EQ(back.ip[3], 1);
  EXPECT_EQ(back.port, 40123);
  EXPECT_EQ(back.device_index, 3u);
  EXPECT_EQ(back.provider_id, ProviderId("tcp;ofi_rxm"));
  EXPECT_EQ(back.listener_id, 0x1122334455667788ull);
}

TEST(ListenAddressTest, RefusesDamagedOrForeignBytes) {
  const std::string good = EncodeListenAddress(SampleAddress());
  ListenAddress back;
  std::string why;
  for (size_t i = 0; i < good.size(); ++i) {
    std::string bad = good;
    bad[i] = static_cast<char>(bad[i] ^ 0x10);
    EXPECT_FALSE(DecodeListenAddress(bad.data(), bad.size(), &back, &why)) << "flipped byte " << i;
    EXPECT_FALSE(why.empty());
  }
  EXPECT_FALSE(DecodeListenAddress(good.data(), good.size() - 1, &back, &why));
  const std::string zeros(kListenAddressBytes, '\0');
  EXPECT_FALSE(DecodeListenAddress(zeros.data(), zeros.size(), &back, &why));
  EXPECT_NE(why.find("magic"), std::string::npos) << why;
}

TEST(HandshakeFrameTest, RequestRoundTripsThroughTheParser) {
  HandshakeRequest request;
  request.listener_id = 77;
  request.device_index = 1;
  request.fabric_name = std::string("\x02\x00\x9c\x40\x7f\x00\x00\x01", 8);
  request.hello = std::string(64, 'h');
  const std::string bytes = EncodeRequest(request);
  // Byte by byte: incomplete until the last byte is in.
  Frame frame;
  size_t consumed = 0;
  std::string why;
  for (size_t n = 0; n < bytes.size(); ++n) {
    ASSERT_EQ(ParseFrame(std::string_view(bytes.data(), n), &frame, &consumed, &why), ParseResult::kIncomplete)
        << "after " << n << " bytes: " << why;
  }
  const std::string two = bytes + EncodeReject("listener closed");
  ASSERT_EQ(ParseFrame(two, &frame, &consumed, &why), ParseResult::kFrame) << why;
  EXPECT_EQ(consumed, bytes.size());
  HandshakeRequest back;
  ASSERT_TRUE(DecodeRequest(frame, &back, &why)) << why;
  EXPECT_EQ(back.listener_id, 77u);
  EXPECT_EQ(back.device_index, 1u);
  EXPECT_EQ(back.fabric_name, request.fabric_name);
  EXPECT_EQ(back.hello, request.hello);

  ASSERT_EQ(ParseFrame(std::string_view(two).substr(consumed), &frame, &consumed, &why), ParseResult::kFrame);
  std::string reason;
  ASSERT_TRUE(DecodeReject(frame, &reason, &why)) << why;
  EXPECT_EQ(reason, "listener closed");
  HandshakeAccept accept;
  EXPECT_FALSE(DecodeAccept(frame, &accept, &why)) << "a REJECT is not an ACCEPT";
}

TEST(HandshakeFrameTest, AcceptRoundTrips) {
  HandshakeAccept accept{2, "fi_shm://123:0:4"};
  const std::string bytes = EncodeAccept(accept);
  Frame frame;
  size_t consumed = 0;
  std::string why;
  ASSERT_EQ(ParseFrame(bytes, &frame, &consumed, &why), ParseResult::kFrame) << why;
  HandshakeAccept back;
  ASSERT_TRUE(DecodeAccept(frame, &back, &why)) << why;
  EXPECT_EQ(back.device_index, 2u);
  EXPECT_EQ(back.fabric_name, "fi_shm://123:0:4");
}

TEST(HandshakeFrameTest, GarbageIsInvalidAtOnce) {
  Frame frame;
  size_t consumed = 0;
  std::string why;
  EXPECT_EQ(ParseFrame("GET / HTTP/1.1\r\n", &frame, &consumed, &why), ParseResult::kInvalid);
  EXPECT_EQ(ParseFrame("X", &frame, &consumed, &why), ParseResult::kInvalid) << "one wrong byte is enough";
  std::string bytes = EncodeAccept({0, "name"});
  bytes[bytes.size() - 6] ^= 1;  // payload byte: the checksum catches it
  EXPECT_EQ(ParseFrame(bytes, &frame, &consumed, &why), ParseResult::kInvalid);
  EXPECT_NE(why.find("checksum"), std::string::npos) << why;
  // A REQUEST whose hello is longer than the ABI allows.
  HandshakeRequest big{1, 0, "n", std::string(65, 'x')};
  ASSERT_EQ(ParseFrame(EncodeRequest(big), &frame, &consumed, &why), ParseResult::kFrame);
  HandshakeRequest back;
  EXPECT_FALSE(DecodeRequest(frame, &back, &why));
}

TEST(ControlMessageTest, RoundTripsAndRefusesGarbage) {
  ControlMessage m{ControlKind::kPutInfo, 9, 0x1001, 0x7fff0000, 4096};
  char buf[kControlBufferBytes];
  EncodeControl(m, buf);
  ControlMessage back;
  std::string why;
  ASSERT_TRUE(DecodeControl(buf, kControlMessageBytes, &back, &why)) << why;
  EXPECT_EQ(back.kind, ControlKind::kPutInfo);
  EXPECT_EQ(back.put_seq, 9u);
  EXPECT_EQ(back.notify, 0x1001u);
  EXPECT_EQ(back.target_addr, 0x7fff0000u);
  EXPECT_EQ(back.bytes, 4096u);
  EXPECT_FALSE(DecodeControl(buf, kControlMessageBytes - 1, &back, &why));
  buf[3] = 9;  // unknown kind
  EXPECT_FALSE(DecodeControl(buf, kControlMessageBytes, &back, &why));
}

TEST(RemoteKeyTest, RoundTripsWithShortAndLongKeys) {
  for (uint8_t key_bytes : {4, 8}) {
    RemoteKeyInfo key;
    key.virt_addr = key_bytes == 4;
    key.base = 0x7f0000001000ull;
    key.length = 8 << 20;
    key.key_bytes = key_bytes;
    key.keys = {{0, 0x11223344}, {5, key_bytes == 8 ? 0x1122334455667788ull : 0xabcdef01}};
    const std::string bytes = EncodeRemoteKey(key);
    EXPECT_EQ(bytes.size(), PackedRemoteKeyBytes(2, key_bytes));
    RemoteKeyInfo back;
    std::string why;
    ASSERT_TRUE(DecodeRemoteKey(bytes.data(), bytes.size(), &back, &why)) << why;
    EXPECT_EQ(back.virt_addr, key.virt_addr);
    EXPECT_EQ(back.base, key.base);
    EXPECT_EQ(back.length, key.length);
    EXPECT_EQ(back.keys, key.keys);
  }
}

TEST(RemoteKeyTest, RefusesGarbage) {
  RemoteKeyInfo back;
  std::string why;
  const std::string zeros(16, '\0'), ones(32, '\xff'), one(1, '\x01');
  EXPECT_FALSE(DecodeRemoteKey(zeros.data(), zeros.size(), &back, &why));
  EXPECT_FALSE(DecodeRemoteKey(ones.data(), ones.size(), &back, &why));
  EXPECT_FALSE(DecodeRemoteKey(one.data(), one.size(), &back, &why));
  RemoteKeyInfo key;
  key.base = 4096;
  key.length = 4096;
  key.keys = {{0, 42}};
  std::string bytes = EncodeRemoteKey(key);
  bytes[12] ^= 0x40;  // inside base: checksum mismatch
  EXPECT_FALSE(DecodeRemoteKey(bytes.data(), bytes.size(), &back, &why));
  EXPECT_NE(why.find("checksum"), std::string::npos) << why;
}

}  // namespace
}  // namespace mc::efa
