#include "wire.h"

#include <sys/socket.h>

#include <cstring>

namespace mc::rdma {
namespace {

constexpr uint32_t kAddressMagic = 0x4152434d;  // "MCRA"
constexpr uint32_t kFrameMagic = 0x4852434d;    // "MCRH"
constexpr uint32_t kKeyMagic = 0x4b52434d;      // "MCRK"
constexpr uint8_t kWireVersion = 1;
constexpr size_t kKeyHeaderBytes = 24;
constexpr size_t kKeyEntryBytes = 12;
constexpr uint32_t kMaxRecvDepth = 1u << 16;
constexpr uint32_t kMaxEagerLimit = 1u << 20;

class ByteWriter {
 public:
  explicit ByteWriter(std::string* out) : out_(out) {}
  void U8(uint8_t v) { out_->push_back(static_cast<char>(v)); }
  void U16(uint16_t v) { Le(v, 2); }
  void U32(uint32_t v) { Le(v, 4); }
  void U64(uint64_t v) { Le(v, 8); }
  void Bytes(const void* p, size_t n) { out_->append(static_cast<const char*>(p), n); }

 private:
  void Le(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) out_->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
  std::string* out_;
};

// Reads past the end return zeros and make ok() false.
class ByteReader {
 public:
  ByteReader(const uint8_t* data, size_t len) : p_(data), left_(len) {}
  uint8_t U8() { return static_cast<uint8_t>(Le(1)); }
  uint16_t U16() { return static_cast<uint16_t>(Le(2)); }
  uint32_t U32() { return static_cast<uint32_t>(Le(4)); }
  uint64_t U64() { return Le(8); }
  void Bytes(void* dst, size_t n) {
    if (n > left_) {
      ok_ = false;
      std::memset(dst, 0, n);
      left_ = 0;
      return;
    }
    std::memcpy(dst, p_, n);
    p_ += n;
    left_ -= n;
  }
  bool ok() const { return ok_; }
  size_t left() const { return left_; }

 private:
  uint64_t Le(int n) {
    if (static_cast<size_t>(n) > left_) {
      ok_ = false;
      left_ = 0;
      return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < n; ++i) v |= static_cast<uint64_t>(p_[i]) << (8 * i);
    p_ += n;
    left_ -= static_cast<size_t>(n);
    return v;
  }
  const uint8_t* p_;
  size_t left_;
  bool ok_ = true;
};

uint32_t Fnv1a(const uint8_t* data, size_t len) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < len; ++i) {
    h ^= data[i];
    h *= 16777619u;
  }
  return h;
}

}  // namespace

// ---- listen address ----

bool EncodeListenAddress(const ListenAddress& address, uint8_t* out, size_t capacity, size_t* used) {
  if (capacity < kListenAddressBytes) return false;
  std::string bytes;
  ByteWriter w(&bytes);
  w.U32(kAddressMagic);
  w.U8(kWireVersion);
  w.U8(address.family == AF_INET6 ? 6 : 4);
  w.U16(address.port);
  w.Bytes(address.ip.data(), address.ip.size());
  w.U64(address.listener_id);
  std::memcpy(out, bytes.data(), bytes.size());
  *used = bytes.size();
  return true;
}

StatusOr<ListenAddress> DecodeListenAddress(const uint8_t* data, size_t len) {
  if (len != kListenAddressBytes) {
    return InvalidArgument("an rdma listen address is " + std::to_string(kListenAddressBytes) + " bytes, not " +
                           std::to_string(len));
  }
  ByteReader r(data, len);
  if (r.U32() != kAddressMagic) return InvalidArgument("not an rdma listen address (bad magic)");
  if (uint8_t v = r.U8(); v != kWireVersion) {
    return InvalidArgument("rdma listen address of version " + std::to_string(v) + " (this plugin speaks " +
                           std::to_string(kWireVersion) + ")");
  }
  ListenAddress a;
  const uint8_t family = r.U8();
  if (family != 4 && family != 6)
    return InvalidArgument("rdma listen address with IP version " + std::to_string(family));
  a.family = family == 6 ? AF_INET6 : AF_INET;
  a.port = r.U16();
  r.Bytes(a.ip.data(), a.ip.size());
  a.listener_id = r.U64();
  if (a.port == 0) return InvalidArgument("rdma listen address with port 0");
  return a;
}

// ---- frames ----

std::string EncodeFrame(FrameType type, const std::string& body) {
  std::string out;
  ByteWriter w(&out);
  w.U32(kFrameMagic);
  w.U8(static_cast<uint8_t>(type));
  w.U8(kWireVersion);
  w.U16(0);
  w.U32(static_cast<uint32_t>(body.size()));
  out += body;
  return out;
}

StatusOr<FrameHeader> DecodeFrameHeader(const uint8_t* data) {
  ByteReader r(data, kFrameHeaderBytes);
  if (r.U32() != kFrameMagic) return ProtocolError("side-socket frame with a bad magic");
  const uint8_t type = r.U8();
  const uint8_t version = r.U8();
  r.U16();
  FrameHeader h;
  h.body_len = r.U32();
  if (version != kWireVersion) {
    return ProtocolError("peer speaks rdma wire version " + std::to_string(version) + ", this plugin " +
                         std::to_string(kWireVersion));
  }
  if (type < static_cast<uint8_t>(FrameType::kRequest) || type > static_cast<uint8_t>(FrameType::kBye)) {
    return ProtocolError("side-socket frame of unknown type " + std::to_string(type));
  }
  if (h.body_len > kMaxFrameBody) {
    return ProtocolError("side-socket frame of " + std::to_string(h.body_len) + " bytes (at most " +
                         std::to_string(kMaxFrameBody) + ")");
  }
  h.type = static_cast<FrameType>(type);
  return h;
}

std::string EncodeConnInfo(const ConnInfo& info) {
  std::string out;
  ByteWriter w(&out);
  w.U64(info.listener_id);
  w.U64(info.hca_guid);
  w.U16(info.lid);
  w.U8(info.port);
  w.U8(info.ethernet);
  w.U8(info.mtu);
  w.U8(info.rd_initiator);
  w.U8(info.rd_responder);
  w.U8(static_cast<uint8_t>(info.qpn.size()));
  w.Bytes(info.gid.data(), info.gid.size());
  w.U32(info.recv_depth);
  w.U32(info.eager_limit);
  w.U64(info.credit_addr);
  w.U32(info.credit_rkey);
  w.U64(info.ring_addr);
  w.U32(info.ring_rkey);
  for (size_t i = 0; i < info.qpn.size(); ++i) {
    w.U32(info.qpn[i]);
    w.U32(i < info.psn.size() ? info.psn[i] : 0);
  }
  w.U8(static_cast<uint8_t>(info.hello.size()));
  w.Bytes(info.hello.data(), info.hello.size());
  return out;
}

StatusOr<ConnInfo> DecodeConnInfo(const uint8_t* data, size_t len) {
  ByteReader r(data, len);
  ConnInfo info;
  info.listener_id = r.U64();
  info.hca_guid = r.U64();
  info.lid = r.U16();
  info.port = r.U8();
  info.ethernet = r.U8();
  info.mtu = r.U8();
  info.rd_initiator = r.U8();
  info.rd_responder = r.U8();
  const uint8_t qps = r.U8();
  r.Bytes(info.gid.data(), info.gid.size());
  info.recv_depth = r.U32();
  info.eager_limit = r.U32();
  info.credit_addr = r.U64();
  info.credit_rkey = r.U32();
  info.ring_addr = r.U64();
  info.ring_rkey = r.U32();
  if (!r.ok()) return ProtocolError("connection info cut short");
  if (qps < 1 || qps > kMaxQps) return ProtocolError("connection info with " + std::to_string(qps) + " queue pairs");
  for (int i = 0; i < qps; ++i) {
    info.qpn.push_back(r.U32() & 0xffffff);
    info.psn.push_back(r.U32() & 0xffffff);
  }
  const uint8_t hello_len = r.U8();
  if (!r.ok()) return ProtocolError("connection info cut short");
  if (hello_len > MC_MAX_HELLO_BYTES) return ProtocolError("hello of " + std::to_string(hello_len) + " bytes");
  info.hello.resize(hello_len);
  r.Bytes(info.hello.data(), hello_len);
  if (!r.ok()) return ProtocolError("connection info cut short");
  if (r.left() != 0) return ProtocolError("connection info with " + std::to_string(r.left()) + " extra bytes");
  if (info.ethernet > 1) return ProtocolError("connection info with link type " + std::to_string(info.ethernet));
  if (info.mtu < 1 || info.mtu > 5) return ProtocolError("connection info with MTU code " + std::to_string(info.mtu));
  if (info.recv_depth < 2 || info.recv_depth > kMaxRecvDepth) {
    return ProtocolError("connection info with a receive depth of " + std::to_string(info.recv_depth));
  }
  if (info.eager_limit > kMaxEagerLimit) {
    return ProtocolError("connection info with an eager limit of " + std::to_string(info.eager_limit));
  }
  if (info.rd_initiator == 0 || info.rd_responder == 0) {
    return ProtocolError("connection info allows no RDMA READs");
  }
  return info;
}

std::string EncodeBye(uint64_t delivered) {
  std::string out;
  ByteWriter(&out).U64(delivered);
  return out;
}

StatusOr<uint64_t> DecodeBye(const uint8_t* data, size_t len) {
  if (len != 8) return ProtocolError("BYE frame of " + std::to_string(len) + " bytes");
  ByteReader r(data, len);
  return r.U64();
}

// ---- remote keys ----

size_t PackedKeyBytes(size_t entries) { return kKeyHeaderBytes + entries * kKeyEntryBytes + 4; }

bool EncodeRemoteKey(const PackedKey& key, uint8_t* out, size_t capacity, size_t* used) {
  if (key.entries.empty() || key.entries.size() > kMaxKeyEntries) return false;
  const size_t bytes = PackedKeyBytes(key.entries.size());
  if (capacity < bytes) return false;
  std::string s;
  ByteWriter w(&s);
  w.U32(kKeyMagic);
  w.U8(kWireVersion);
  w.U8(static_cast<uint8_t>(key.entries.size()));
  w.U16(0);
  w.U64(key.addr);
  w.U64(key.length);
  for (const RkeyEntry& e : key.entries) {
    w.U64(e.hca_guid);
    w.U32(e.rkey);
  }
  w.U32(Fnv1a(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
  std::memcpy(out, s.data(), s.size());
  *used = s.size();
  return true;
}

StatusOr<PackedKey> DecodeRemoteKey(const uint8_t* data, size_t len) {
  if (len < PackedKeyBytes(1))
    return InvalidArgument("rdma remote key of " + std::to_string(len) + " bytes is too short");
  ByteReader r(data, len);
  if (r.U32() != kKeyMagic) return InvalidArgument("not an rdma remote key (bad magic)");
  if (uint8_t v = r.U8(); v != kWireVersion) return InvalidArgument("rdma remote key of version " + std::to_string(v));
  const uint8_t count = r.U8();
  r.U16();
  if (count < 1 || count > kMaxKeyEntries || len != PackedKeyBytes(count)) {
    return InvalidArgument("rdma remote key with " + std::to_string(count) + " entries in " + std::to_string(len) +
                           " bytes");
  }
  PackedKey key;
  key.addr = r.U64();
  key.length = r.U64();
  for (int i = 0; i < count; ++i) {
    RkeyEntry e;
    e.hca_guid = r.U64();
    e.rkey = r.U32();
    key.entries.push_back(e);
  }
  const uint32_t checksum = r.U32();
  if (!r.ok() || checksum != Fnv1a(data, len - 4)) return InvalidArgument("rdma remote key fails its checksum");
  if (key.length > UINT64_MAX - key.addr) return InvalidArgument("rdma remote key's range wraps around");
  return key;
}

}  // namespace mc::rdma
