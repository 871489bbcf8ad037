// The byte layouts: listen addresses, side-socket frames (the connection
// handshake), packed remote keys, and the data-path header. Round trips, and
// every malformed input refused with an error rather than misread.
#include "wire.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mc::rdma {
namespace {

using ::testing::HasSubstr;

const uint8_t* Bytes(const std::string& s) { return reinterpret_cast<const uint8_t*>(s.data()); }

TEST(ListenAddressTest, RoundTrip) {
  ListenAddress a;
  a.family = AF_INET6;
  for (int i = 0; i < 16; ++i) a.ip[i] = static_cast<uint8_t>(0xf0 + i);
  a.port = 54321;
  a.listener_id = 0x0123456789abcdefull;
  uint8_t buf[MC_MAX_ADDR_BYTES];
  size_t used = 0;
  ASSERT_TRUE(EncodeListenAddress(a, buf, sizeof(buf), &used));
  EXPECT_EQ(used, kListenAddressBytes);
  EXPECT_LE(used, static_cast<size_t>(MC_MAX_ADDR_BYTES));
  StatusOr<ListenAddress> b = DecodeListenAddress(buf, used);
  ASSERT_TRUE(b.ok()) << b.status().message();
  EXPECT_EQ(b->family, AF_INET6);
  EXPECT_EQ(b->ip, a.ip);
  EXPECT_EQ(b->port, 54321);
  EXPECT_EQ(b->listener_id, a.listener_id);
}

TEST(ListenAddressTest, TooLittleRoomWritesNothing) {
  ListenAddress a;
  a.family = AF_INET;
  a.port = 1;
  std::vector<uint8_t> buf(64, 0xcc);
  size_t used = 7;
  EXPECT_FALSE(EncodeListenAddress(a, buf.data(), kListenAddressBytes - 1, &used));
  EXPECT_EQ(used, 7u);
  EXPECT_TRUE(std::all_of(buf.begin(), buf.end(), [](uint8_t b) { return b == 0xcc; }));
}

TEST(ListenAddressTest, GarbageIsRefused) {
  ListenAddress a;
  a.family = AF_INET;
  a.port = 80;
  uint8_t good[kListenAddressBytes];
  size_t used;
  ASSERT_TRUE(EncodeListenAddress(a, good, sizeof(good), &used));
  EXPECT_FALSE(DecodeListenAddress(good, used - 1).ok());
  std::vector<uint8_t> zeros(16, 0);
  EXPECT_FALSE(DecodeListenAddress(zeros.data(), zeros.size()).ok());
  std::vector<uint8_t> random(MC_MAX_ADDR_BYTES);
  std::mt19937 rng(7);
  for (auto& b : random) b = static_cast<uint8_t>(rng());
  EXPECT_FALSE(DecodeListenAddress(random.data(), random.size()).ok());
  uint8_t bad[kListenAddressBytes];
  std::memcpy(bad, good, sizeof(bad));
  bad[0] ^= 1;
  EXPECT_THAT(DecodeListenAddress(bad, sizeof(bad)).status().message(), HasSubstr("magic"));
  std::memcpy(bad, good, sizeof(bad));
  bad[4] = 9;  // version
  EXPECT_THAT(DecodeListenAddress(bad, sizeof(bad)).status().message(), HasSubstr("version 9"));
  std::memcpy(bad, good, sizeof(bad));
  bad[5] = 5;  // IP version
  EXPECT_FALSE(DecodeListenAddress(bad, sizeof(bad)).ok());
  std::memcpy(bad, good, sizeof(bad));
  bad[6] = bad[7] = 0;  // port 0
  EXPECT_FALSE(DecodeListenAddress(bad, sizeof(bad)).ok());
}

ConnInfo SampleInfo(int qps, size_t hello_len) {
  ConnInfo info;
  info.listener_id = 77;
  info.hca_guid = 0x1122334455667788ull;
  info.lid = 0x1234;
  info.port = 2;
  info.ethernet = 1;
  info.mtu = 5;
  info.rd_initiator = 16;
  info.rd_responder = 8;
  for (int i = 0; i < 16; ++i) info.gid[i] = static_cast<uint8_t>(i * 3);
  info.recv_depth = 128;
  info.eager_limit = 8192;
  info.credit_addr = 0x7f0000001000;
  info.credit_rkey = 0xabcdef01;
  info.ring_addr = 0x7f0000002000;
  info.ring_rkey = 0x10fedcba;
  for (int i = 0; i < qps; ++i) {
    info.qpn.push_back(0x100 + i);
    info.psn.push_back(0xabc000 + i);
  }
  for (size_t i = 0; i < hello_len; ++i) info.hello.push_back(static_cast<char>(i * 7));
  return info;
}

TEST(HandshakeTest, ConnInfoRoundTrips) {
  for (int qps : {1, 2, kMaxQps}) {
    for (size_t hello : {size_t{0}, size_t{5}, size_t{MC_MAX_HELLO_BYTES}}) {
      SCOPED_TRACE(std::to_string(qps) + " qps, hello " + std::to_string(hello));
      const ConnInfo in = SampleInfo(qps, hello);
      const std::string body = EncodeConnInfo(in);
      StatusOr<ConnInfo> out = DecodeConnInfo(Bytes(body), body.size());
      ASSERT_TRUE(out.ok()) << out.status().message();
      EXPECT_EQ(out->listener_id, in.listener_id);
      EXPECT_EQ(out->hca_guid, in.hca_guid);
      EXPECT_EQ(out->lid, in.lid);
      EXPECT_EQ(out->port, in.port);
      EXPECT_EQ(out->ethernet, in.ethernet);
      EXPECT_EQ(out->mtu, in.mtu);
      EXPECT_EQ(out->rd_initiator, in.rd_initiator);
      EXPECT_EQ(out->rd_responder, in.rd_responder);
      EXPECT_EQ(out->gid, in.gid);
      EXPECT_EQ(out->recv_depth, in.recv_depth);
      EXPECT_EQ(out->eager_limit, in.eager_limit);
      EXPECT_EQ(out->credit_addr, in.credit_addr);
      EXPECT_EQ(out->credit_rkey, in.credit_rkey);
      EXPECT_EQ(out->ring_addr, in.ring_addr);
      EXPECT_EQ(out->ring_rkey, in.ring_rkey);
      EXPECT_EQ(out->qpn, in.qpn);
      EXPECT_EQ(out->psn, in.psn);
      EXPECT_EQ(out->hello, in.hello);
      EXPECT_LE(EncodeFrame(FrameType::kRequest, body).size(), kFrameHeaderBytes + kMaxFrameBody);
    }
  }
}

TEST(HandshakeTest, EveryTruncationAndExtraByteIsRefused) {
  const std::string body = EncodeConnInfo(SampleInfo(3, 10));
  for (size_t len = 0; len < body.size(); ++len) {
    EXPECT_FALSE(DecodeConnInfo(Bytes(body), len).ok()) << "cut to " << len << " bytes";
  }
  const std::string longer = body + "x";
  EXPECT_THAT(DecodeConnInfo(Bytes(longer), longer.size()).status().message(), HasSubstr("extra"));
}

TEST(HandshakeTest, ImpossibleValuesAreRefused) {
  struct Case {
    const char* what;
    void (*mutate)(ConnInfo*);
  } cases[] = {
      {"no queue pairs",
       [](ConnInfo* i) {
         i->qpn.clear();
         i->psn.clear();
       }},
      {"17 queue pairs",
       [](ConnInfo* i) {
         i->qpn.resize(17, 1);
         i->psn.resize(17, 1);
       }},
      {"MTU code 0", [](ConnInfo* i) { i->mtu = 0; }},
      {"MTU code 6", [](ConnInfo* i) { i->mtu = 6; }},
      {"link type 2", [](ConnInfo* i) { i->ethernet = 2; }},
      {"receive depth 1", [](ConnInfo* i) { i->recv_depth = 1; }},
      {"eager limit 2 MiB", [](ConnInfo* i) { i->eager_limit = 2u << 20; }},
      {"no READs", [](ConnInfo* i) { i->rd_responder = 0; }},
  };
  for (const Case& c : cases) {
    ConnInfo info = SampleInfo(2, 4);
    c.mutate(&info);
    const std::string body = EncodeConnInfo(info);
    StatusOr<ConnInfo> out = DecodeConnInfo(Bytes(body), body.size());
    EXPECT_FALSE(out.ok()) << c.what;
    if (!out.ok()) {
      EXPECT_EQ(out.status().code(), MC_ERR_PROTOCOL) << c.what;
    }
  }
  // A hello longer than the ABI allows (its length byte says 65).
  ConnInfo info = SampleInfo(1, 0);
  std::string body = EncodeConnInfo(info);
  body.back() = 65;
  body += std::string(65, 'h');
  EXPECT_FALSE(DecodeConnInfo(Bytes(body), body.size()).ok());
}

TEST(HandshakeTest, FrameHeaders) {
  const std::string frame = EncodeFrame(FrameType::kBye, EncodeBye(12345));
  ASSERT_EQ(frame.size(), kFrameHeaderBytes + 8);
  StatusOr<FrameHeader> h = DecodeFrameHeader(Bytes(frame));
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->type, FrameType::kBye);
  EXPECT_EQ(h->body_len, 8u);
  StatusOr<uint64_t> sent = DecodeBye(Bytes(frame) + kFrameHeaderBytes, 8);
  ASSERT_TRUE(sent.ok());
  EXPECT_EQ(*sent, 12345u);
  EXPECT_FALSE(DecodeBye(Bytes(frame) + kFrameHeaderBytes, 7).ok());

  std::string bad = frame;
  bad[0] ^= 0x40;
  EXPECT_THAT(DecodeFrameHeader(Bytes(bad)).status().message(), HasSubstr("magic"));
  bad = frame;
  bad[4] = 9;  // type
  EXPECT_THAT(DecodeFrameHeader(Bytes(bad)).status().message(), HasSubstr("type 9"));
  bad = frame;
  bad[5] = 2;  // version
  EXPECT_THAT(DecodeFrameHeader(Bytes(bad)).status().message(), HasSubstr("version 2"));
  bad = EncodeFrame(FrameType::kRequest, std::string(kMaxFrameBody + 1, 'x'));
  EXPECT_FALSE(DecodeFrameHeader(Bytes(bad)).ok());
}

PackedKey SampleKey(size_t entries) {
  PackedKey key;
  key.addr = 0x7f1234560000;
  key.length = 8u << 20;
  for (size_t i = 0; i < entries; ++i) key.entries.push_back(RkeyEntry{0xa0 + i, static_cast<uint32_t>(0x1000 + i)});
  return key;
}

TEST(RemoteKeyTest, RoundTripsWithinTheAbiLimit) {
  for (size_t n : {size_t{1}, size_t{4}, kMaxKeyEntries}) {
    const PackedKey in = SampleKey(n);
    uint8_t buf[MC_MAX_RKEY_BYTES];
    size_t used = 0;
    ASSERT_TRUE(EncodeRemoteKey(in, buf, sizeof(buf), &used));
    EXPECT_EQ(used, PackedKeyBytes(n));
    EXPECT_LE(used, static_cast<size_t>(MC_MAX_RKEY_BYTES));
    StatusOr<PackedKey> out = DecodeRemoteKey(buf, used);
    ASSERT_TRUE(out.ok()) << out.status().message();
    EXPECT_EQ(out->addr, in.addr);
    EXPECT_EQ(out->length, in.length);
    ASSERT_EQ(out->entries.size(), n);
    EXPECT_EQ(out->entries.back().hca_guid, in.entries.back().hca_guid);
    EXPECT_EQ(out->entries.back().rkey, in.entries.back().rkey);
  }
  uint8_t small[8];
  size_t used = 0;
  EXPECT_FALSE(EncodeRemoteKey(SampleKey(1), small, sizeof(small), &used));
}

TEST(RemoteKeyTest, GarbageAndCorruptionAreRefused) {
  // The conformance suite's garbage keys.
  std::string random(MC_MAX_RKEY_BYTES, '\0');
  std::mt19937 rng(3);
  for (char& c : random) c = static_cast<char>(rng());
  for (const std::string& garbage : {random, std::string(16, '\0'), std::string(32, '\xff'), std::string(1, '\x01')}) {
    StatusOr<PackedKey> out = DecodeRemoteKey(Bytes(garbage), garbage.size());
    EXPECT_FALSE(out.ok()) << garbage.size() << " bytes of garbage";
    if (!out.ok()) {
      EXPECT_EQ(out.status().code(), MC_ERR_INVALID_ARG);
    }
  }
  uint8_t good[MC_MAX_RKEY_BYTES];
  size_t used = 0;
  ASSERT_TRUE(EncodeRemoteKey(SampleKey(2), good, sizeof(good), &used));
  for (size_t i = 0; i < used; ++i) {
    uint8_t bad[MC_MAX_RKEY_BYTES];
    std::memcpy(bad, good, used);
    bad[i] ^= 0x10;
    EXPECT_FALSE(DecodeRemoteKey(bad, used).ok()) << "byte " << i << " flipped";
  }
  EXPECT_FALSE(DecodeRemoteKey(good, used - 1).ok());
  PackedKey wraps = SampleKey(1);
  wraps.addr = ~uint64_t{0} - 10;
  ASSERT_TRUE(EncodeRemoteKey(wraps, good, sizeof(good), &used));
  EXPECT_FALSE(DecodeRemoteKey(good, used).ok());
}

TEST(DataPathTest, HeaderLayoutIsFixed) {
  // Both ends of a connection may be different builds: the layout is the contract.
  EXPECT_EQ(offsetof(MsgHeader, type), 0u);
  EXPECT_EQ(offsetof(MsgHeader, rkey), 4u);
  EXPECT_EQ(offsetof(MsgHeader, tag), 8u);
  EXPECT_EQ(offsetof(MsgHeader, length), 16u);
  EXPECT_EQ(offsetof(MsgHeader, id), 24u);
  EXPECT_EQ(offsetof(MsgHeader, addr), 32u);
  EXPECT_EQ(offsetof(MsgHeader, credits), 40u);
  EXPECT_EQ(offsetof(PutDescriptor, value), 0u);
  EXPECT_EQ(offsetof(PutDescriptor, seq), 24u);
}

}  // namespace
}  // namespace mc::rdma
